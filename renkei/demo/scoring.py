"""The demo's engagement rules: what a Japanese B2B marketer would start with, so the
scores, the MQL decision and the backtest have something to work on from the first visit.
``bench.scoring`` scores with the same rules."""

from typing import Any

DEMO_RULES: tuple[dict[str, Any], ...] = (
    {"name": "ページ閲覧", "event_type": "page_view", "points": 1, "daily_cap": 5,
     "half_life_days": 30.0},
    {"name": "料金ページ", "event_type": "page_view", "points": 10, "property_key": "url",
     "operator": "contains", "property_value": "/pricing/", "daily_cap": 10,
     "half_life_days": 30.0},
    {"name": "メール開封", "event_type": "email_open", "points": 2, "half_life_days": 14.0},
    {"name": "メールクリック", "event_type": "email_click", "points": 5, "half_life_days": 30.0},
    {"name": "フォーム送信", "event_type": "form_submit", "points": 20, "half_life_days": 60.0},
    {"name": "ウェビナー参加", "event_type": "webinar_attended", "points": 25,
     "half_life_days": 90.0},
    {"name": "展示会来場", "event_type": "trade_show_visit", "points": 30,
     "half_life_days": 90.0},
)  # fmt: skip


def demo_scoring_ensure() -> int:
    """Create the demo rules when there are none (a site's own rules are left alone).
    Returns the number created."""
    from renkei.scoring.models import EngagementRule
    from renkei.scoring.services import engagement_rule_create

    if EngagementRule.objects.exists():
        return 0
    for fields in DEMO_RULES:
        engagement_rule_create(actor=None, **fields)
    return len(DEMO_RULES)
