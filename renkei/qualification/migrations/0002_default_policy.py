"""The one qualification policy (editable afterwards on /qualification/)."""

from django.db import migrations

DEFAULT_POLICY = {
    "fit_threshold": 60,
    "engagement_threshold": 40,
    "hand_raise_event_types": ["demo_request", "contact_request"],
    "hand_raise_window_days": 90,
    "active": True,
}


def create_policy(apps, schema_editor):
    QualificationPolicy = apps.get_model("qualification", "QualificationPolicy")
    QualificationPolicy.objects.get_or_create(pk=1, defaults=DEFAULT_POLICY)


def remove_policy(apps, schema_editor):
    apps.get_model("qualification", "QualificationPolicy").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("qualification", "0001_initial")]

    operations = [migrations.RunPython(create_policy, remove_policy)]
