"""The default pipeline and its stages (editable afterwards on /deals/pipelines/)."""

from django.db import migrations

STAGES = [
    # name, probability, won, lost
    ("初回商談", 10, False, False),
    ("提案", 30, False, False),
    ("見積", 50, False, False),
    ("交渉", 70, False, False),
    ("受注", 100, True, False),
    ("失注", 0, False, True),
]


def create_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("deals", "Pipeline")
    PipelineStage = apps.get_model("deals", "PipelineStage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="営業パイプライン", is_default=True)
    PipelineStage.objects.bulk_create(
        PipelineStage(
            pipeline=pipeline,
            name=name,
            order=(i + 1) * 10,
            probability=probability,
            is_won=won,
            is_lost=lost,
        )
        for i, (name, probability, won, lost) in enumerate(STAGES)
    )


def remove_pipeline(apps, schema_editor):
    apps.get_model("deals", "Pipeline").objects.filter(
        is_default=True, name="営業パイプライン", deals=None
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]

    operations = [migrations.RunPython(create_pipeline, remove_pipeline)]
