"""Every write of the scoring app: engagement rules (audited) and the two rescore paths.

The incremental path (``contacts_rescore``) recomputes just the given contacts from their
events; the full path (``engagement_rescore_all``) streams every event in contact-id
ranges. Both use ``renkei.scoring.engine`` and write the per-rule contributions and
``Contact.score`` in one transaction, so readers never see half-updated scores.
"""

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import Actor, audit_record
from renkei.contacts.derived import EVENTS, contacts_derive_enqueue
from renkei.contacts.models import Contact
from renkei.contacts.services import contact_scores_replace_all, contact_scores_set
from renkei.contacts.signals import derived_rebuilt
from renkei.events.models import Event, EventType
from renkei.scoring import engine, store
from renkei.scoring.columns import contact_ids_now, event_columns_refresh
from renkei.scoring.models import EngagementRule, Operator, RescoreRun

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.:-]*$")
PROPERTY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_POINTS = 10_000
MAX_HALF_LIFE_DAYS = 3650
RULE_FIELDS = (
    "name",
    "event_type",
    "property_key",
    "operator",
    "property_value",
    "points",
    "daily_cap",
    "half_life_days",
    "active",
)
INCREMENTAL_CHUNK = 500  # contacts per query (well under SQLite's parameter limit)
WRITE_CHUNK = 5_000


# ---- rules --------------------------------------------------------------------------------


def _squash(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value)


def event_type_check(value: str, known: Iterable[str] = ()) -> str | None:
    """Why ``value`` is not a usable event type (None when it is): malformed, or a near
    miss of a built-in type or of one in ``known`` (the caller's list of types in use)."""
    if not EVENT_TYPE_RE.match(value or ""):
        return _(
            "Use lower-case letters, digits and _ . : - starting with a letter "
            "(for example page_view)."
        )
    for builtin in [*EventType.values, *known]:
        # "pageview" or "page-view" would silently never match "page_view".
        if value != builtin and _squash(value) == _squash(builtin):
            return _("Unknown event type %(value)s; did you mean %(builtin)s?") % {
                "value": value,
                "builtin": builtin,
            }
    return None


def _rule_errors(v: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not str(v.get("name") or "").strip():
        errors["name"] = _("Give the rule a name.")
    type_error = event_type_check(str(v.get("event_type") or ""))
    if type_error:
        errors["event_type"] = type_error
    key, op, value = v.get("property_key") or "", v.get("operator") or "", v.get("property_value")
    if key or op or value:
        if not PROPERTY_KEY_RE.match(key):
            errors["property_key"] = _(
                "A property match needs a property name (letters, digits, _ or -)."
            )
        if op not in Operator.values:
            errors["operator"] = _("Choose contains or equals.")
        if not value:
            errors["property_value"] = _("A property match needs a value.")
    points = v.get("points")
    if not isinstance(points, int) or points == 0 or abs(points) > MAX_POINTS:
        errors["points"] = _(
            "Points must be a non-zero whole number between -%(max)s and %(max)s."
        ) % {"max": MAX_POINTS}
    size = abs(points) if isinstance(points, int) else 0
    cap = v.get("daily_cap")
    if cap is not None and "points" not in errors and (not isinstance(cap, int) or cap < size):
        errors["daily_cap"] = _(
            "The daily cap must be at least the points of one event (%(points)s)."
        ) % {"points": size}
    half_life = v.get("half_life_days")
    if half_life is not None and not (0 < half_life <= MAX_HALF_LIFE_DAYS):
        errors["half_life_days"] = _(
            "The half-life must be more than 0 and at most %(max)s days."
        ) % {"max": MAX_HALF_LIFE_DAYS}
    return errors


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({f: _("unknown field") for f in sorted(unknown)})
    errors = _rule_errors(values)
    if errors:
        raise ValidationError(errors)
    if not values.get("property_key"):
        values.update(property_key="", operator="", property_value="")
    return values


def engagement_rule_validate(
    *, rule: EngagementRule | None = None, **fields: Any
) -> dict[str, Any]:
    """The values saving ``fields`` would store (into ``rule``, or a new rule), checked the
    same way; nothing is written. ValidationError names each bad field."""
    base = (
        {f: getattr(rule, f) for f in RULE_FIELDS}
        if rule is not None
        else {"active": True, "daily_cap": None, "half_life_days": None}
    )
    return _clean(base | fields)


@transaction.atomic
def engagement_rule_create(*, actor: Actor, **fields: Any) -> EngagementRule:
    """Create a rule; ValidationError names each bad field."""
    values = _clean({"active": True, "daily_cap": None, "half_life_days": None, **fields})
    rule = EngagementRule.objects.create(**values)
    audit_record(
        actor=actor,
        action="engagement_rule.create",
        object_type="engagement_rule",
        object_id=rule.pk,
        changes={k: [None, str(v)] for k, v in values.items()},
    )
    return rule


@transaction.atomic
def engagement_rule_update(*, rule: EngagementRule, actor: Actor, **fields: Any) -> EngagementRule:
    """Change a rule; scores follow at the next rescore of each contact (or a full one)."""
    values = _clean({f: getattr(rule, f) for f in RULE_FIELDS} | fields)
    changes = {
        f: [str(getattr(rule, f)), str(v)] for f, v in values.items() if getattr(rule, f) != v
    }
    if not changes:
        return rule
    for field in changes:
        setattr(rule, field, values[field])
    rule.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        action="engagement_rule.update",
        object_type="engagement_rule",
        object_id=rule.pk,
        changes=changes,
    )
    return rule


@transaction.atomic
def engagement_rule_delete(*, rule: EngagementRule, actor: Actor) -> None:
    """Delete a rule and its contributions; scores follow at the next rescore."""
    audit_record(
        actor=actor,
        action="engagement_rule.delete",
        object_type="engagement_rule",
        object_id=rule.pk,
        changes={"name": [rule.name, None]},
    )
    rule.delete()


# ---- rescoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RescoreSummary:
    contacts: int
    events: int
    seconds: float


def contacts_rescore(*, contact_ids: Sequence[int], now: datetime | None = None) -> RescoreSummary:
    """Recompute the engagement of these contacts from all their events (safe to repeat).

    One query per ``INCREMENTAL_CHUNK`` contacts to read, one transaction to write.
    """
    began = time.perf_counter()
    now = now or timezone.now()
    ids = sorted({int(i) for i in contact_ids})
    rules = engine.active_rules()
    specs = engine.rule_specs(rules)
    parts, events = [], 0
    if rules:
        for start in range(0, len(ids), INCREMENTAL_CHUNK):
            chunk = ids[start : start + INCREMENTAL_CHUNK]
            where = f"contact_id IN ({', '.join(['%s'] * len(chunk))})"
            sql, params = engine.events_query(rules, where)
            rows = engine.fetch_arrays(sql, [*params, *chunk], 2 + _mask_columns(rules))
            events += len(rows)
            parts.append(engine.contributions(rows, specs, int(now.timestamp())))
    result = engine.Contributions.concat(parts)
    with transaction.atomic():
        # Row locks in id order: two tasks for the same contacts write one after the other.
        existing = list(
            Contact.objects.filter(id__in=ids)
            .order_by("id")
            .select_for_update()
            .values_list("id", flat=True)
        )
        store.entries_replace(existing, result, now.timestamp())
        scored_ids, scores = result.scores()
        by_id = dict(zip(scored_ids.tolist(), scores.tolist(), strict=True))
        contact_scores_set({i: by_id.get(i, 0) for i in existing})
    return RescoreSummary(len(existing), events, time.perf_counter() - began)


def engagement_rescore_all(*, now: datetime | None = None, cold: bool = False) -> RescoreSummary:
    """Recompute every contact from the event columns (``renkei.scoring.columns``, brought
    up to date first; ``cold`` rebuilds them from every event), then swap the results in
    one transaction. Contacts whose events arrive meanwhile are queued for the
    incremental path after the swap."""
    began = time.perf_counter()
    now = now or timezone.now()
    rules = engine.active_rules()
    specs = engine.rule_specs(rules)
    events_columns = event_columns_refresh(cold=cold)
    now_s = int(now.timestamp())
    parts = []
    for rule, spec in zip(rules, specs, strict=True):
        idx = events_columns.rule_events(rule)
        contact = np.asarray(events_columns.ev_contact[idx], dtype=np.int64)
        part = engine.rule_contributions(contact, events_columns.ev_at[idx], spec, now_s)
        part.contact_ids = np.asarray(events_columns.contact_ids)[part.contact_ids]
        parts.append(part)
    result = engine.Contributions.concat(parts)
    with transaction.atomic():
        store.entries_swap_all(result, now.timestamp())
        ids, scores = result.scores()
        if connection.vendor == "sqlite":
            # A contact erased since the columns were read gets no score row (on
            # PostgreSQL the swap's INSERT skips them itself).
            still = np.isin(ids, contact_ids_now(np.asarray(events_columns.contact_ids)))
            ids, scores = ids[still], scores[still]
        contact_scores_replace_all(ids, scores)
        late = _contacts_with_events_since(events_columns.refreshed_at)
        transaction.on_commit(lambda: contacts_derive_enqueue(late, EVENTS))
    return RescoreSummary(
        events_columns.contacts, int(events_columns.events), time.perf_counter() - began
    )


def _contacts_with_events_since(moment: datetime) -> list[int]:
    """Contacts with events received since ``moment`` (the columns may lack them). Not
    DISTINCT in SQL: SQLite would then walk the (contact, time) index of every event
    instead of the range of the received_at index."""
    rows = Event.objects.filter(received_at__gte=moment, contact_id__isnull=False)
    return sorted(set(rows.values_list("contact_id", flat=True).order_by()))


def _mask_columns(rules: Sequence[EngagementRule]) -> int:
    return -(-len(rules) // engine.RULES_PER_MASK)


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def rescore_run_enqueue(*, actor: Actor) -> RescoreRun:
    """Record a queued full rescore and hand it to the worker after commit."""
    from renkei.scoring.tasks import rescore_all

    with transaction.atomic():
        run = RescoreRun.objects.create(requested_by=_user(actor))
        audit_record(
            actor=actor, action="engagement.rescore", object_type="rescore_run", object_id=run.pk
        )
        transaction.on_commit(lambda: rescore_all.enqueue(run.pk))
    return run


def rescore_run_execute(
    *, run: RescoreRun | None = None, actor: Actor = None, cold: bool = False
) -> RescoreRun:
    """Run a full rescore now and record how it went (the command and the task call this);
    ``cold`` rebuilds the event columns from every event first."""
    if run is None:
        run = RescoreRun.objects.create(requested_by=_user(actor))
    claimed = RescoreRun.objects.filter(id=run.pk, status=RescoreRun.Status.QUEUED).update(
        status=RescoreRun.Status.RUNNING, started_at=timezone.now()
    )
    run.refresh_from_db()
    if not claimed:
        return run  # another worker got there first, or it already ran
    try:
        summary = engagement_rescore_all(cold=cold)
    except Exception as exc:
        RescoreRun.objects.filter(id=run.pk).update(
            status=RescoreRun.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    RescoreRun.objects.filter(id=run.pk).update(
        status=RescoreRun.Status.DONE,
        finished_at=timezone.now(),
        seconds=round(summary.seconds, 3),
        contacts=summary.contacts,
        events=summary.events,
    )
    transaction.on_commit(lambda: derived_rebuilt.send(sender=RescoreRun, name="engagement"))
    run.refresh_from_db()
    return run
