"""Every write of the scoring app: engagement rules (audited) and the two rescore paths.

The incremental path (``contacts_rescore``) recomputes just the given contacts from their
events; the full path (``engagement_rescore_all``) streams every event in contact-id
ranges. Both use ``renkei.scoring.engine`` and write the per-rule contributions and
``Contact.score`` in one transaction, so readers never see half-updated scores.
"""

import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from renkei.contacts.models import Contact
from renkei.contacts.signals import derived_rebuilt
from renkei.events.models import EventType
from renkei.scoring import engine
from renkei.scoring.models import ContactEngagement, EngagementRule, Operator, RescoreRun

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
FULL_RANGE = 20_000  # contact ids per streamed range of the full rescore
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
        ContactEngagement.objects.filter(contact_id__in=ids).delete()
        _insert_contributions(result, now, np.array(existing, dtype=np.int64))
        scored_ids, scores = result.scores()
        by_id = dict(zip(scored_ids.tolist(), scores.tolist(), strict=True))
        Contact.objects.bulk_update(
            [Contact(id=i, score=by_id.get(i, 0)) for i in existing], ["score"], batch_size=500
        )
    return RescoreSummary(len(existing), events, time.perf_counter() - began)


def engagement_rescore_all(
    *, now: datetime | None = None, progress: Callable[[int], None] | None = None
) -> RescoreSummary:
    """Recompute every contact: stream events by contact-id range, swap in one transaction."""
    began = time.perf_counter()
    now = now or timezone.now()
    rules = engine.active_rules()
    specs = engine.rule_specs(rules)
    parts, events = [], 0
    last_id = Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if rules:
        sql, params = engine.events_query(rules, "contact_id > %s AND contact_id <= %s")
        for low in range(0, last_id, FULL_RANGE):
            rows = engine.fetch_arrays(
                sql, [*params, low, low + FULL_RANGE], 2 + _mask_columns(rules)
            )
            events += len(rows)
            parts.append(engine.contributions(rows, specs, int(now.timestamp())))
            if progress:
                progress(min(low + FULL_RANGE, last_id))
    result = engine.Contributions.concat(parts)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Incremental writers wait for the swap instead of colliding with it; readers
            # keep reading the old rows until the commit.
            with connection.cursor() as cursor:
                table = ContactEngagement._meta.db_table
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        ContactEngagement.objects.all().delete()
        existing = np.fromiter(Contact.objects.values_list("id", flat=True), dtype=np.int64)
        _insert_contributions(result, now, existing, bulk=True)
        _swap_scores(*result.scores())
    contacts = Contact.objects.count()
    return RescoreSummary(contacts, events, time.perf_counter() - began)


def _mask_columns(rules: Sequence[EngagementRule]) -> int:
    return -(-len(rules) // engine.RULES_PER_MASK)


def _insert_contributions(
    result: engine.Contributions, now: datetime, existing: np.ndarray, *, bulk: bool = False
) -> None:
    """Insert the contributions of contacts that still exist (one may be erased meanwhile).

    ``bulk`` (the full path, table emptied and locked first) loads with COPY on
    PostgreSQL. Otherwise ON CONFLICT: a concurrent rescore of the same contact may have
    written its row first.
    """
    table = ContactEngagement._meta.db_table
    columns = ("contact_id", "rule_id", "events", "points", "computed_at")
    stamp = connection.ops.adapt_datetimefield_value(now)
    keep = np.isin(result.contact_ids, existing)
    columns_kept = [result.contact_ids[keep], result.rule_ids[keep], result.events[keep]]
    points = result.points[keep]

    def rows() -> Iterator[list[tuple[Any, ...]]]:
        # Python tuples only a chunk at a time: at 1M contacts the whole list would not fit
        # the memory budget.
        for start in range(0, len(points), WRITE_CHUNK):
            end = start + WRITE_CHUNK
            ids, rules, counts = (column[start:end].tolist() for column in columns_kept)
            yield [
                (c, r, n, p, stamp)
                for c, r, n, p in zip(ids, rules, counts, points[start:end].tolist(), strict=True)
            ]

    conflict = (
        " ON CONFLICT (contact_id, rule_id) DO UPDATE SET events = excluded.events, "
        "points = excluded.points, computed_at = excluded.computed_at"
    )
    _load(table, columns, rows(), suffix="" if bulk else conflict)


def _load(
    table: str, columns: Sequence[str], chunks: Iterable[list[tuple[Any, ...]]], suffix: str = ""
) -> None:
    """Insert chunks of rows: COPY on PostgreSQL (unless an ON CONFLICT ``suffix`` is
    needed), executemany per chunk otherwise."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not suffix:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for chunk in chunks:
                    for row in chunk:
                        copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}){suffix}"  # noqa: S608
        for chunk in chunks:
            cursor.executemany(sql, chunk)


def _swap_scores(ids: np.ndarray, scores: np.ndarray) -> None:
    """Set Contact.score for everyone from a temporary table: two set-based UPDATEs.

    Table names come from model metadata and a random hex suffix; values are parameters.
    """
    contacts = Contact._meta.db_table
    temp = f"scoring_new_{uuid.uuid4().hex[:8]}"
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        suffix = " ON COMMIT DROP" if postgres else ""
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} (id BIGINT PRIMARY KEY, score INTEGER){suffix}"
        )
        nonzero = scores != 0
        ids, scores = ids[nonzero], scores[nonzero]
        chunks = (
            list(
                zip(
                    ids[i : i + WRITE_CHUNK].tolist(),
                    scores[i : i + WRITE_CHUNK].tolist(),
                    strict=True,
                )
            )
            for i in range(0, len(ids), WRITE_CHUNK)
        )
        _load(temp, ("id", "score"), chunks)
        if postgres:
            cursor.execute(f"ANALYZE {temp}")  # without statistics the join plan is poor
        cursor.execute(
            f"UPDATE {contacts} SET score = 0 WHERE score <> 0 "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {temp} t WHERE t.id = {contacts}.id)"
        )
        cursor.execute(
            f"UPDATE {contacts} SET score = t.score FROM {temp} t "  # noqa: S608
            f"WHERE {contacts}.id = t.id AND {contacts}.score <> t.score"
        )
        if not postgres:
            cursor.execute(f"DROP TABLE {temp}")


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


def rescore_run_execute(*, run: RescoreRun | None = None, actor: Actor = None) -> RescoreRun:
    """Run a full rescore now and record how it went (the command and the task call this)."""
    if run is None:
        run = RescoreRun.objects.create(requested_by=_user(actor))
    claimed = RescoreRun.objects.filter(id=run.pk, status=RescoreRun.Status.QUEUED).update(
        status=RescoreRun.Status.RUNNING, started_at=timezone.now()
    )
    run.refresh_from_db()
    if not claimed:
        return run  # another worker got there first, or it already ran
    try:
        summary = engagement_rescore_all()
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
