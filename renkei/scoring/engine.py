"""The engagement-score arithmetic, shared by the incremental and the full rescore.

Events are read as three integer columns (contact id, epoch seconds, rule bit mask), the
rule matching done by the database in the same scan; the weighting, the daily caps and the
decay are then vectorised with numpy. Both paths run exactly this code on the events of
whole contacts in (contact, time, id) order, so they produce the same numbers.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from renkei.events.models import Event
from renkei.scoring.models import EngagementRule, Operator

JST_OFFSET_S = 9 * 3600  # a JST day starts at 15:00 UTC the day before (no DST in Japan)
DAY_S = 86_400
RULES_PER_MASK = 62  # bits of a signed 64-bit mask column


@dataclass(frozen=True)
class RuleSpec:
    """What the arithmetic needs of one active rule."""

    id: int
    points: int
    per_day: int | None
    half_life_days: float | None


@dataclass
class Contributions:
    """Per (contact, rule) results: counted events and points as of ``now``."""

    contact_ids: np.ndarray
    rule_ids: np.ndarray
    events: np.ndarray
    points: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence["Contributions"]) -> "Contributions":
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, np.zeros(0))
        return cls(
            np.concatenate([p.contact_ids for p in parts]),
            np.concatenate([p.rule_ids for p in parts]),
            np.concatenate([p.events for p in parts]),
            np.concatenate([p.points for p in parts]),
        )

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """(contact ids, rounded scores) — half away from zero, as people round."""
        ids, inverse = np.unique(self.contact_ids, return_inverse=True)
        totals = np.bincount(inverse, weights=self.points, minlength=len(ids))
        return ids, (np.sign(totals) * np.floor(np.abs(totals) + 0.5)).astype(np.int64)


def active_rules() -> list[EngagementRule]:
    return list(EngagementRule.objects.filter(active=True).order_by("id"))


def rule_specs(rules: Sequence[EngagementRule]) -> list[RuleSpec]:
    return [RuleSpec(r.id, r.points, r.events_per_day(), r.half_life_days) for r in rules]


def _match_sql(rule: EngagementRule, params: list[object]) -> str:
    """SQL that is true when an event matches ``rule`` (type, then the property match)."""
    params.append(rule.event_type)
    if not rule.property_key:
        return "type = %s"
    postgres = connection.vendor == "postgresql"
    if postgres:
        value = "(properties ->> %s)"
        params.append(rule.property_key)
    else:  # numbers come back as numbers from json_extract: compare as text on both
        value = "CAST(json_extract(properties, %s) AS TEXT)"
        params.append(f'$."{rule.property_key}"')
    params.append(rule.property_value)
    if rule.operator == Operator.EQUALS:
        return f"type = %s AND {value} = %s"
    return f"type = %s AND {'strpos' if postgres else 'instr'}({value}, %s) > 0"


def events_query(
    rules: Sequence[EngagementRule], where: str, *, with_ids: bool = False
) -> tuple[str, list[object]]:
    """SELECT contact_id, epoch seconds, mask columns [, event id] FROM events WHERE
    ``where``."""
    params: list[object] = []
    masks = []
    for start in range(0, len(rules), RULES_PER_MASK):
        terms = [
            f"CASE WHEN {_match_sql(rule, params)} THEN {1 << bit} ELSE 0 END"
            for bit, rule in enumerate(rules[start : start + RULES_PER_MASK])
        ]
        masks.append(" + ".join(terms))
    if connection.vendor == "postgresql":
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM occurred_at)) AS BIGINT)"
    else:
        epoch = "CAST(strftime('%%s', occurred_at) AS INTEGER)"
    types = sorted({rule.event_type for rule in rules})
    params.extend(types)
    sql = (
        f"SELECT contact_id, {epoch}, {', '.join(masks)}{', id' if with_ids else ''} "  # noqa: S608
        f"FROM {Event._meta.db_table} "
        f"WHERE type IN ({', '.join(['%s'] * len(types))}) AND {where} "
        "ORDER BY contact_id, occurred_at, id"
    )
    return sql, params


def fetch_arrays(sql: str, params: Sequence[Any], columns: int) -> np.ndarray:
    """The query's integer rows as one (n, columns) int64 array."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    if not rows:
        return np.zeros((0, columns), dtype=np.int64)
    return np.array(rows, dtype=np.int64)


def contributions(rows: np.ndarray, specs: Sequence[RuleSpec], now_s: int) -> Contributions:
    """Score the events of whole contacts, rows sorted by (contact, time, id)."""
    parts = []
    for index, spec in enumerate(specs):
        mask = rows[:, 2 + index // RULES_PER_MASK]
        selected = ((mask >> (index % RULES_PER_MASK)) & 1).astype(bool)
        parts.append(rule_contributions(rows[selected, 0], rows[selected, 1], spec, now_s))
    return Contributions.concat(parts)


def rule_contributions(
    contact: np.ndarray, at: np.ndarray, spec: RuleSpec, now_s: int
) -> Contributions:
    """One rule's share for each contact, from the events it counts (sorted by contact,
    time, id; ``contact`` may be ids or positions, the result carries the same)."""
    if spec.per_day is not None:
        keep = _within_daily_cap(contact, at, spec.per_day)
        contact, at = contact[keep], at[keep]
    if not len(contact):
        return Contributions.concat([])
    weights = np.full(len(at), float(spec.points))
    if spec.half_life_days:
        # Future-dated events (clock skew) count in full, never more.
        age_days = np.maximum(now_s - at, 0) / DAY_S
        weights *= np.exp2(-age_days / spec.half_life_days)
    # Sorted by contact: each run of one contact is one group (no sort needed).
    first = np.r_[True, contact[1:] != contact[:-1]]
    ids = np.asarray(contact[first], dtype=np.int64)
    group = np.cumsum(first) - 1
    return Contributions(
        ids,
        np.full(len(ids), spec.id, dtype=np.int64),
        np.bincount(group, minlength=len(ids)).astype(np.int64),
        np.bincount(group, weights=weights, minlength=len(ids)),
    )


def _within_daily_cap(contact: np.ndarray, at: np.ndarray, per_day: int) -> np.ndarray:
    """True for the first ``per_day`` events of each (contact, JST day)."""
    n = len(contact)
    if not n:
        return np.zeros(0, dtype=bool)
    day = (at + JST_OFFSET_S) // DAY_S
    first = np.ones(n, dtype=bool)
    first[1:] = (contact[1:] != contact[:-1]) | (day[1:] != day[:-1])
    positions = np.arange(n)
    group_start = np.maximum.accumulate(np.where(first, positions, 0))
    return (positions - group_start) < per_day


def decay_factor(half_life_days: float | None, seconds: float) -> float:
    """How much a contribution shrinks over ``seconds`` (1.0 without decay)."""
    if not half_life_days or seconds <= 0:
        return 1.0
    return math.pow(2.0, -seconds / DAY_S / half_life_days)
