"""The six default stages of the shared customer journey (editable afterwards)."""

from django.db import migrations


def _event(event_type, prop=None, contains=None):
    signal = {"kind": "event", "type": event_type}
    if prop:
        signal.update(property=prop, contains=contains)
    return signal


DEFAULT_STAGES = [
    {
        "name": "認知",
        "name_en": "Awareness",
        "position": 10,
        "description": "自社や製品を知った段階。Web サイトの閲覧やメールの開封。",
        "lifecycle_stages": ["subscriber"],
        "entry_signals": [_event("page_view"), _event("email_open")],
    },
    {
        "name": "興味・関心",
        "name_en": "Interest",
        "position": 20,
        "description": "課題を意識し情報を集めている段階。資料請求・ウェビナー・展示会。",
        "lifecycle_stages": ["lead"],
        "entry_signals": [
            _event("form_submit"),
            _event("webinar_attended"),
            _event("email_click"),
            _event("trade_show_visit"),
        ],
    },
    {
        "name": "比較・検討",
        "name_en": "Consideration",
        "position": 30,
        "description": "導入を具体的に比較している段階。料金ページや導入事例の閲覧。",
        "lifecycle_stages": ["mql", "sal"],
        "entry_signals": [
            _event("page_view", "url", "/pricing"),
            _event("page_view", "url", "/case"),
        ],
    },
    {
        "name": "商談",
        "name_en": "Negotiation",
        "position": 40,
        "description": "営業との商談が進んでいる段階。",
        "lifecycle_stages": ["sql", "opportunity"],
        "entry_signals": [_event("meeting")],
    },
    {
        "name": "受注",
        "name_en": "Won",
        "position": 50,
        "description": "契約に至った段階。",
        "lifecycle_stages": ["customer"],
        "entry_signals": [],
    },
    {
        "name": "継続",
        "name_en": "Retention",
        "position": 60,
        "description": "契約を継続・拡大している段階。契約更新済みの顧客。",
        "lifecycle_stages": [],
        "entry_signals": [
            {"kind": "property", "field": "properties.contract", "op": "equals", "value": "renewed"}
        ],
    },
]


def create_defaults(apps, schema_editor):
    JourneyStage = apps.get_model("journey", "JourneyStage")
    for stage in DEFAULT_STAGES:
        JourneyStage.objects.get_or_create(name=stage["name"], defaults=stage)


def remove_defaults(apps, schema_editor):
    JourneyStage = apps.get_model("journey", "JourneyStage")
    JourneyStage.objects.filter(name__in=[s["name"] for s in DEFAULT_STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("journey", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
