"""Reads of the scoring app: rules, the explanation of a contact's score, the last run."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.scoring.engine import decay_factor
from renkei.scoring.models import ContactEngagement, EngagementRule, RescoreRun


@dataclass(frozen=True)
class RuleContribution:
    """One line of the explanation: a rule, how many of its events count, points now."""

    rule_id: int
    rule_name: str
    events: int
    points: float


def engagement_rules() -> QuerySet[EngagementRule]:
    return EngagementRule.objects.order_by("-active", "name", "id")


def contact_engagement_explain(
    contact: Contact | int, *, now: datetime | None = None
) -> list[RuleContribution]:
    """Each rule's share of the contact's engagement score at ``now`` (default: now),
    largest first; decayed from the last computation without reading events."""
    now = now or timezone.now()
    contact_id = contact if isinstance(contact, int) else contact.pk
    rows = ContactEngagement.objects.filter(contact_id=contact_id).select_related("rule")
    lines = [
        RuleContribution(
            row.rule_id,
            row.rule.name,
            row.events,
            row.points
            * decay_factor(row.rule.half_life_days, (now - row.computed_at).total_seconds()),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: (-abs(line.points), line.rule_name))


def contact_engagement_score(contact: Contact | int, *, now: datetime | None = None) -> float:
    """The unrounded engagement score at ``now``."""
    return sum(line.points for line in contact_engagement_explain(contact, now=now))


def rescore_run_last() -> RescoreRun | None:
    return RescoreRun.objects.order_by("-id").first()
