"""The demo's engagement rules and SLA: what a Japanese B2B marketer and sales manager
would start with, so the scores, the MQL decision, the backtest and the SLA clocks have
something to work on from the first visit. ``bench.scoring`` scores with the same rules."""

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


DEMO_SLA_TERMS: dict[str, Any] = {
    "period": "month",
    "mql_commitment": 200,
    "min_acceptance_rate": 60,
    "first_touch_hours": "4",
    "attempts_required": 3,
    "attempts_days": 5,
    "decision_hours": "8",
    "notes": "デモ用の合意: MQL は 4 営業時間以内に初回接触、8 営業時間以内に受け入れ判断。",
}


def demo_sla_ensure() -> bool:
    """An SLA approved by the demo marketing user and the demo manager, when the site has
    no agreement at all (a site's own agreements are left alone). Returns whether made."""
    from django.contrib.auth.models import User

    from renkei.sla.models import SlaAgreement
    from renkei.sla.services import agreement_approve, agreement_create

    marketer = User.objects.filter(username="marketing").first()
    manager = User.objects.filter(username="manager").first()
    if SlaAgreement.objects.exists() or marketer is None or manager is None:
        return False
    agreement = agreement_create(terms=DEMO_SLA_TERMS, actor=marketer)
    agreement_approve(agreement=agreement, side="marketing", actor=marketer)
    agreement_approve(agreement=agreement, side="sales", actor=manager)
    return True
