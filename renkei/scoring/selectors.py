"""Reads of the scoring app: rules, the explanation of a contact's score, the last run."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.scoring import store
from renkei.scoring.engine import DAY_S, decay_factor
from renkei.scoring.models import EngagementRule, RescoreRun


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
    entries = store.entries_of([contact_id])
    rules = EngagementRule.objects.in_bulk(entries["rule"].tolist())
    lines = [
        RuleContribution(
            rule.pk,
            rule.name,
            int(entry["events"]),
            float(entry["points"])
            * decay_factor(rule.half_life_days, now.timestamp() - float(entry["computed_s"])),
        )
        for entry in entries
        if (rule := rules.get(int(entry["rule"]))) is not None  # a rule deleted since
    ]
    return sorted(lines, key=lambda line: (-abs(line.points), line.rule_name))


def contact_engagement_score(contact: Contact | int, *, now: datetime | None = None) -> float:
    """The unrounded engagement score at ``now``."""
    return sum(line.points for line in contact_engagement_explain(contact, now=now))


NOW_CHUNK = 20_000  # contacts per read of their buckets


def contacts_engagement_now(
    contact_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, int]:
    """Each contact's engagement score at ``now``, rounded like ``Contact.score``: the
    stored per-rule contributions decayed since they were computed, without reading
    events. Contacts without any are absent (0).
    """
    now_s = (now or timezone.now()).timestamp()
    ids = sorted({int(i) for i in contact_ids})
    # No half-life: the points never decay (an infinite half-life).
    half_lives = {
        pk: half_life or np.inf
        for pk, half_life in EngagementRule.objects.values_list("id", "half_life_days")
    }
    scores: dict[int, int] = {}
    for start in range(0, len(ids), NOW_CHUNK):
        entries = store.entries_of(ids[start : start + NOW_CHUNK])
        rule_ids = entries["rule"]
        live = np.isin(rule_ids, list(half_lives))  # rules deleted since count no more
        entries = entries[live]
        if not len(entries):
            continue
        half_life = np.array([half_lives[int(r)] for r in entries["rule"]], dtype=np.float64)
        age_s = np.maximum(now_s - entries["computed_s"], 0.0)
        decayed = entries["points"] * np.exp2(-age_s / DAY_S / half_life)
        unique, inverse = np.unique(entries["contact"], return_inverse=True)
        totals = np.bincount(inverse, weights=decayed, minlength=len(unique))
        rounded = np.sign(totals) * np.floor(np.abs(totals) + 0.5)  # as Contributions.scores
        scores.update(zip(unique.tolist(), rounded.astype(np.int64).tolist(), strict=True))
    return scores


def rescore_run_last() -> RescoreRun | None:
    return RescoreRun.objects.order_by("-id").first()
