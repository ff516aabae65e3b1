"""Reads of the scoring app: rules, the explanation of a contact's score, the last run."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.scoring.engine import DAY_S, decay_factor
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


NOW_CHUNK = 500  # contacts per query (well under SQLite's parameter limit)


def contacts_engagement_now(
    contact_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, int]:
    """Each contact's engagement score at ``now``, rounded like ``Contact.score``: the
    stored per-rule contributions decayed since they were computed, without reading
    events. One query per ``NOW_CHUNK`` contacts; contacts without any are absent (0).
    """
    now = now or timezone.now()
    ids = sorted({int(i) for i in contact_ids})
    scores: dict[int, int] = {}
    for start in range(0, len(ids), NOW_CHUNK):
        rows = list(
            ContactEngagement.objects.filter(contact_id__in=ids[start : start + NOW_CHUNK])
            .values_list("contact_id", "points", "computed_at", "rule__half_life_days")
            .order_by()
        )
        if not rows:
            continue
        contact = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        points = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        age_s = np.fromiter(
            (max((now - r[2]).total_seconds(), 0.0) for r in rows), dtype=np.float64
        )
        # No half-life: the points never decay (an infinite half-life).
        half_life = np.fromiter((r[3] or np.inf for r in rows), dtype=np.float64)
        decayed = points * np.exp2(-age_s / DAY_S / half_life)
        unique, inverse = np.unique(contact, return_inverse=True)
        totals = np.bincount(inverse, weights=decayed, minlength=len(unique))
        rounded = np.sign(totals) * np.floor(np.abs(totals) + 0.5)  # as Contributions.scores
        scores.update(zip(unique.tolist(), rounded.astype(np.int64).tolist(), strict=True))
    return scores


def rescore_run_last() -> RescoreRun | None:
    return RescoreRun.objects.order_by("-id").first()
