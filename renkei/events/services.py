"""Recording events: the bulk ingestion path behind ``POST /api/v1/events``.

This is the hottest write path in Renkei (targets: ≥ 20,000 events/s over HTTP), so it is
set-based throughout: one query per kind of lookup for the whole batch, and one insert
that lets the database drop replayed client event ids. Measured costs shaped it:

- the lookups are plain SQL with one parameter per value: the ORM's ``__in`` lookups
  cost more per value than the database does;
- the lookups run before the write transaction: on SQLite a write transaction holds the
  database's single write lock, so it only creates what is missing and inserts. The
  insert's ``ON CONFLICT DO NOTHING`` keeps that race-free (a concurrent request that
  stores the same ids makes them duplicates, counted by the rows actually inserted);
- times and JSON are adapted once per event without the ORM's per-field machinery.
"""

import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.contacts.services import (
    UTM_KEYS,
    Actor,
    FirstTouch,
    contacts_ensure_for_emails,
    contacts_stamp_first_touch,
)
from renkei.events.models import Event, Visitor
from renkei.events.signals import events_recorded
from renkei.lib.japanese import normalize_email

# orjson writes NUL as \u0000; an escaped backslash before "u0000" is plain text.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
# Ids above this cannot exist in a BIGINT column; looking them up would overflow.
MAX_ID = 2**63 - 1


@dataclass(slots=True)
class EventInput:
    """One validated event of a batch; ``index`` is its position in the request."""

    index: int
    client_event_id: str
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    email: str = ""
    contact_id: int | None = None
    visitor_key: str = ""
    campaign_id: int | None = None


@dataclass
class IngestResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, item: EventInput, field_name: str, message: str) -> None:
        self.rejected.append(
            {
                "index": item.index,
                "client_event_id": item.client_event_id,
                "field": field_name,
                "message": message,
            }
        )


@dataclass
class _Identities:
    """What the batch's identities resolve to, read before the write transaction."""

    emails: dict[str, str] = field(default_factory=dict)  # as sent → normalised
    by_email: dict[str, int] = field(default_factory=dict)  # normalised → contact id
    new_emails: set[str] = field(default_factory=set)  # valid, no contact yet
    bad_emails: set[str] = field(default_factory=set)
    contact_ids: set[int] = field(default_factory=set)  # ids that exist
    visitors: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    new_visitors: set[str] = field(default_factory=set)
    campaign_ids: set[int] = field(default_factory=set)


def events_record(*, items: Sequence[EventInput], actor: Actor) -> IngestResult:
    """Record a batch of validated events; replayed client event ids are counted, not added."""
    screened = IngestResult()
    fresh = _screen(_first_of_each_id(items, screened), screened)
    try:
        return _record(fresh, screened, actor)
    except IntegrityError:
        # A contact, visitor or campaign read before the write transaction was deleted
        # meanwhile (foreign keys are checked at commit): read again and retry once.
        return _record(fresh, screened, actor)


def _first_of_each_id(items: Sequence[EventInput], result: IngestResult) -> list[EventInput]:
    """The batch without repeats of a client event id inside it (counted as duplicates)."""
    seen: set[str] = set()
    fresh = []
    for item in items:
        if item.client_event_id not in seen:
            seen.add(item.client_event_id)
            fresh.append(item)
    result.duplicate += len(items) - len(fresh)
    return fresh


def _screen(items: list[EventInput], result: IngestResult) -> list[tuple[EventInput, str]]:
    """Each item with its properties as JSON; items PostgreSQL could not store (NUL in
    text or JSON) are rejected here, on every database, before any lookup."""
    screened = []
    for item in items:
        properties = orjson.dumps(item.properties).decode()
        if "\\u0000" in properties and _NUL_ESCAPE.search(properties):
            result.reject(item, "properties", "must not contain NUL (\\u0000) characters")
        elif "\x00" in item.client_event_id:
            result.reject(item, "client_event_id", "must not contain NUL characters")
        elif "\x00" in item.email:
            result.reject(item, "identity.email", "must not contain NUL characters")
        elif "\x00" in item.visitor_key:
            result.reject(item, "identity.visitor_id", "must not contain NUL characters")
        elif item.occurred_at.year in (1, 9999) and not _in_utc_range(item.occurred_at):
            result.reject(item, "occurred_at", "out of range once converted to UTC")
        else:
            screened.append((item, properties))
    return screened


def _in_utc_range(value: datetime) -> bool:
    """0001-01-01T00:00+09:00 is a valid time whose UTC form does not exist in Python."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _record(
    screened: list[tuple[EventInput, str]], before: IngestResult, actor: Actor
) -> IngestResult:
    result = IngestResult(before.accepted, before.duplicate, list(before.rejected))
    found = _lookup([item for item, _ in screened])
    if found.new_emails or found.new_visitors:
        with _writer_turn(), transaction.atomic():
            _create_missing(found, actor)
    batch = _resolve(screened, found, result)
    # Only the writes hold the (on SQLite: single) write lock; everything above ran
    # without it, so another worker's batch can be prepared meanwhile.
    with _writer_turn(), transaction.atomic():
        owners = _visitors_stitch(batch.stitch, batch.received_at) if batch.stitch else {}
        batch.apply_owners(owners)
        # Replayed ids (stored before, or by a concurrent request a moment ago) are the
        # rows the insert skips: no separate look-up of the ids is needed.
        inserted = _insert(batch.rows)
        if owners:
            # After the insert: a visitor's earliest event may be in this very batch.
            _visitors_stamp_first_touch(owners)
        result.accepted = inserted
        result.duplicate += len(batch.rows) - inserted
        contact_ids = {row[4] for row in batch.rows if row[4] is not None}
        if contact_ids:
            transaction.on_commit(lambda: _send_recorded(contact_ids))
    return result


def _send_recorded(contact_ids: set[int]) -> None:
    """Tell the other apps (after the events' commit). Their receivers each enqueue a task:
    one write transaction for all of them instead of one per receiver, which cost ~10 µs
    per ingested event with three receivers. (Batch ingestion runs this while it still
    holds the writers' turn: the commit that triggers it happens inside that block.)"""
    with transaction.atomic():
        events_recorded.send(sender=Event, contact_ids=contact_ids)


# ---- SQLite writers take turns -----------------------------------------------------------

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows): SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

_turn_lock = threading.Lock()
_turn_files: dict[tuple[int, str], int] = {}


@contextmanager
def _writer_turn() -> Iterator[None]:
    """On SQLite, wait for the other processes' batch writes on a lock file first.

    SQLite lets one writer in at a time; the others wait in its busy handler, which
    sleeps in steps of up to 100 ms and so leaves the database idle for tens of
    milliseconds after each commit. ``flock`` wakes the next writer as soon as the lock
    is released (measured with two sync workers: fewer idle gaps, ~10 % less server CPU
    than spinning in the busy handler, more events/s). Not taken inside an outer
    transaction, which may hold SQLite's lock already. The lock file lives next to the
    database; the kernel drops the lock of a process that dies.
    """
    if fcntl is None or connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        yield
        return
    with _turn_lock:  # threads of one process share the file's lock
        # Per process: a descriptor inherited across fork would share its lock.
        key = (os.getpid(), name)
        fd = _turn_files.get(key)
        if fd is None:
            fd = _turn_files[key] = os.open(f"{name}-writers", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


# ---- reads (outside the write transaction) ---------------------------------------------


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    """SQL for "IN (values)" with one parameter whatever the number of values: an array
    on PostgreSQL, a JSON list unpacked by json_each on SQLite. The statement text stays
    the same from batch to batch, so the driver reuses its prepared statement instead of
    parsing a thousand placeholders each time."""
    values = list(values)
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [values]
    if connection.vendor == "sqlite":
        return "IN (SELECT value FROM json_each(%s))", [orjson.dumps(values).decode()]
    return f"IN ({', '.join(['%s'] * len(values))})", values


def _select_in(sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``{in_}`` standing for "IN (values)"; no query for no values."""
    values = list(values)
    if not values:
        return []
    clause, params = _in(values)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(in_=clause), params)
        return cursor.fetchall()


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _lookup(items: list[EventInput]) -> _Identities:
    """Every identity of the batch looked up: one query per kind, none per event."""
    found = _Identities()
    for raw in {item.email for item in items if item.email}:
        found.emails[raw] = normalize_email(raw)
    wanted = set(found.emails.values())
    contacts = _table(Contact)
    sql = f"SELECT email_normalized, id FROM {contacts} WHERE email_normalized {{in_}}"  # noqa: S608
    found.by_email = dict(_select_in(sql, wanted))
    # Only emails without a contact need validating: stored ones were valid when stored.
    for email in wanted - found.by_email.keys():
        (found.new_emails if _valid_email(email) else found.bad_emails).add(email)
    ids = {item.contact_id for item in items if item.contact_id is not None}
    sql = f"SELECT id FROM {contacts} WHERE id {{in_}}"  # noqa: S608
    found.contact_ids = {row[0] for row in _select_in(sql, (i for i in ids if i <= MAX_ID))}
    keys = {item.visitor_key for item in items if item.visitor_key}
    found.visitors = _visitors(keys)
    found.new_visitors = keys - found.visitors.keys()
    campaigns = {item.campaign_id for item in items if item.campaign_id is not None}
    sql = f"SELECT id FROM {_table(Campaign)} WHERE id {{in_}}"  # noqa: S608
    found.campaign_ids = {row[0] for row in _select_in(sql, (c for c in campaigns if c <= MAX_ID))}
    return found


def _valid_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _visitors(keys: Iterable[str]) -> dict[str, tuple[int, int | None]]:
    """visitor key → (visitor id, stitched contact id) for the keys that exist."""
    sql = f"SELECT key, id, contact_id FROM {_table(Visitor)} WHERE key {{in_}}"  # noqa: S608
    return {key: (vid, cid) for key, vid, cid in _select_in(sql, keys)}


# ---- writes (inside the write transaction) ---------------------------------------------


def _create_missing(found: _Identities, actor: Actor) -> None:
    """Contacts for new emails and unseen visitors, in bulk; both tolerate a concurrent
    request creating the same rows."""
    if found.new_emails:
        found.by_email.update(
            contacts_ensure_for_emails(emails=found.new_emails, actor=actor, source="api")
        )
    if found.new_visitors:
        Visitor.objects.bulk_create(
            [Visitor(key=k) for k in sorted(found.new_visitors)], ignore_conflicts=True
        )
        found.visitors.update(_visitors(found.new_visitors))


@dataclass
class _Batch:
    """Insert parameters of the accepted events and the visitors to stitch first.

    Events of a still-anonymous visitor that this batch identifies are given the stitched
    contact up front (``anonymous`` holds their rows); ``apply_owners`` corrects them in
    the rare case a concurrent request stitched the visitor to someone else first.
    """

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    stitch: dict[int, int] = field(default_factory=dict)  # visitor id → contact id
    received_at: datetime = field(default_factory=timezone.now)
    anonymous: list[int] = field(default_factory=list)  # row positions

    def apply_owners(self, owners: dict[int, int]) -> None:
        if not self.anonymous or owners == self.stitch:
            return
        for position in self.anonymous:
            row = self.rows[position]
            if row[5] in owners:
                self.rows[position] = (*row[:4], owners[row[5]], *row[5:])


def _resolve(
    items: list[tuple[EventInput, str]], found: _Identities, result: IngestResult
) -> _Batch:
    """The insert rows of the acceptable items; the others are rejected with the field
    at fault. A visitor seen with a contact is stitched to it, so its anonymous events in
    this batch (and before it) join that contact too."""
    batch = _Batch()
    accepted: list[tuple[EventInput, str, int | None]] = []
    for item, properties in items:
        ok, contact_id = _contact_of(item, found, result)
        if not ok:
            continue
        if item.visitor_key and contact_id is not None:
            visitor, stitched = found.visitors[item.visitor_key]
            if stitched is None:
                batch.stitch.setdefault(visitor, contact_id)
        accepted.append((item, properties, contact_id))
    adapt = _datetime_adapter()
    now = adapt(batch.received_at)
    for item, properties, contact_id in accepted:
        visitor_id = None
        if item.visitor_key:
            visitor_id, stitched = found.visitors[item.visitor_key]
            if contact_id is None:
                contact_id = stitched if stitched is not None else batch.stitch.get(visitor_id)
                if stitched is None and contact_id is not None:
                    batch.anonymous.append(len(batch.rows))
        batch.rows.append(
            (
                item.client_event_id,
                item.type,
                adapt(item.occurred_at),
                now,
                contact_id,
                visitor_id,
                item.campaign_id,
                properties,
            )
        )
    return batch


def _contact_of(
    item: EventInput, found: _Identities, result: IngestResult
) -> tuple[bool, int | None]:
    """(acceptable, contact id named by the item: None when only a visitor)."""
    email = found.emails[item.email] if item.email else ""
    if email in found.bad_emails:
        result.reject(item, "identity.email", f"not a valid email address: {item.email!r}")
        return False, None
    if item.contact_id is not None and item.contact_id not in found.contact_ids:
        result.reject(item, "identity.contact_id", f"no contact with id {item.contact_id}")
        return False, None
    if item.campaign_id is not None and item.campaign_id not in found.campaign_ids:
        result.reject(item, "campaign_id", f"no campaign with id {item.campaign_id}")
        return False, None
    if item.contact_id is not None or not email:
        return True, item.contact_id
    contact_id = found.by_email.get(email)
    if contact_id is None:  # created for this batch and erased again meanwhile
        result.reject(item, "identity.email", "the contact was deleted meanwhile; send again")
        return False, None
    return True, contact_id


def visitors_identify(*, pairs: dict[int, int]) -> dict[int, int]:
    """Stitch anonymous visitors to contacts: ``{visitor_id: contact_id}``; returns each
    visitor's contact afterwards.

    A visitor already stitched keeps its contact (also when another request stitched it
    a moment ago): a shared or handed-over browser never moves a history to a second
    person. The visitors' earlier anonymous events join their contact's timeline, and
    each contact's first touch becomes its visitor's earliest event when that is earlier
    than the one known.
    """
    if not pairs:
        return {}
    owners = _visitors_stitch(pairs, timezone.now())
    _visitors_stamp_first_touch(owners)
    return owners


def _visitors_stitch(pairs: dict[int, int], at: datetime) -> dict[int, int]:
    """The stitching itself: three statements whatever the number of visitors (the ORM's
    Case/When costs more to build than these cost to run). ``+contact_id`` keeps the
    planners on the id/visitor indexes: "contact IS NULL" alone would walk every
    anonymous row.

    ``at`` becomes the visitors' ``identified_at``; ingestion passes its batch's
    ``received_at``, so the events received before it are exactly the ones that were
    anonymous (the timeline says "stitched from anonymous visitor" for those).
    """
    visitors, events = _table(Visitor), _table(Event)
    now = connection.ops.adapt_datetimefield_value(at)
    ids, id_params = _in(pairs)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {visitors} SET identified_at = %s, contact_id = CASE id "  # noqa: S608
            f"{' '.join(['WHEN %s THEN %s'] * len(pairs))} END "
            f"WHERE id {ids} AND +contact_id IS NULL",
            [now, *(x for pair in pairs.items() for x in pair), *id_params],
        )
        cursor.execute(f"SELECT id, contact_id FROM {visitors} WHERE id {ids}", id_params)  # noqa: S608
        owners: dict[int, int] = dict(cursor.fetchall())
        cursor.execute(
            f"UPDATE {events} SET contact_id = CASE visitor_id "  # noqa: S608
            f"{' '.join(['WHEN %s THEN %s'] * len(owners))} END "
            f"WHERE visitor_id {ids} AND +contact_id IS NULL",
            [*(x for pair in owners.items() for x in pair), *id_params],
        )
    return owners


def _visitors_stamp_first_touch(owners: dict[int, int]) -> None:
    """Offer each visitor's earliest event to its contact as the first touch.

    One query finds the earliest event of every visitor (a correlated LIMIT 1 per visitor
    on the (visitor, time) index, so a long history costs nothing more); then
    ``contacts_stamp_first_touch`` keeps whichever touch is earlier. Plain SQL with one
    parameter for the ids, like the look-ups above: this runs for most ingestion batches.
    """
    events, visitors = _table(Event), _table(Visitor)
    clause, params = _in(owners)
    sql = (
        f"SELECT e.visitor_id, e.occurred_at, e.campaign_id, e.properties FROM {events} e "  # noqa: S608
        f"WHERE e.id IN (SELECT (SELECT f.id FROM {events} f WHERE f.visitor_id = v.id "
        f"ORDER BY f.occurred_at, f.id LIMIT 1) FROM {visitors} v WHERE v.id {clause}) "
        f"ORDER BY e.occurred_at, e.id"
    )
    touches: dict[int, FirstTouch] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for visitor_id, at, campaign_id, properties in cursor.fetchall():
            # Two visitors of one contact: the earlier one wins (rows are in time order).
            if owners[visitor_id] not in touches:
                touches[owners[visitor_id]] = _touch_of(_aware(at), campaign_id, _json(properties))
    if touches:
        contacts_stamp_first_touch(touches=touches)


def _aware(value: Any) -> datetime:
    """A time as the driver returns it (SQLite: text in UTC) as an aware datetime."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _touch_of(at: datetime, campaign_id: int | None, properties: Any) -> FirstTouch:
    """An event as a first touch: its campaign, and the UTM parameters, URL and referrer
    its properties carry (top-level ``utm_*`` keys, or a ``utm`` object)."""
    properties = properties if isinstance(properties, dict) else {}
    nested = properties.get("utm")
    sources = [nested if isinstance(nested, dict) else {}, properties]
    utm = {k: v for source in sources for k, v in source.items() if k in UTM_KEYS and v}
    # Form submissions name their page "page_url".
    url = properties.get("url") or properties.get("page_url")
    referrer = properties.get("referrer")
    return FirstTouch(
        at=at,
        campaign_id=campaign_id,
        utm={k: str(v) for k, v in utm.items()},
        url=url if isinstance(url, str) else "",
        referrer=referrer if isinstance(referrer, str) else "",
    )


def _datetime_adapter() -> Any:
    """Aware datetime → the driver value Django would store, without its per-call checks.

    SQLite: naive UTC text (``str`` of the datetime, as Django writes it); PostgreSQL:
    the aware datetime itself (timestamptz); others: Django's own adapter.
    """
    if connection.vendor == "sqlite":
        # isoformat of the UTC time minus its "+00:00": what str() of the naive value
        # gives, at half the cost of replace(tzinfo=None).
        return lambda value: value.astimezone(UTC).isoformat(" ")[:-6]
    if connection.vendor == "postgresql":
        return lambda value: value
    return connection.ops.adapt_datetimefield_value


_COLUMNS = (
    "client_event_id", "type", "occurred_at", "received_at", "contact_id", "visitor_id",
    "campaign_id", "properties",
)  # fmt: skip


def _insert(rows: list[tuple[Any, ...]]) -> int:
    """Insert the rows, skipping client event ids already stored; returns rows inserted."""
    if not rows:
        return 0
    table, columns = _table(Event), ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement with one array per column: a single round trip for the batch.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest("  # noqa: S608
                "%s::varchar[], %s::varchar[], %s::timestamptz[], %s::timestamptz[], "
                "%s::bigint[], %s::bigint[], %s::bigint[], %s::jsonb[]) "
                "ON CONFLICT (client_event_id) DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return int(cursor.rowcount)
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (client_event_id) DO NOTHING"
        )
        cursor.executemany(sql, rows)
        return int(cursor.rowcount) if cursor.rowcount >= 0 else len(rows)


# ---- single events and derived values ---------------------------------------------------


@transaction.atomic
def event_record_one(
    *,
    contact: Contact,
    type: str,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    client_event_id: str = "",
    actor: Actor = None,
) -> Event:
    """Record a single event for a contact (notes, calls and meetings logged in the UI).

    The user who logged it is kept in ``properties["logged_by"]``; like a batch, it
    announces itself with ``events_recorded`` after commit.
    """
    properties = dict(properties or {})
    if actor is not None and actor.is_authenticated:
        properties["logged_by"] = actor.get_username()
    event = Event.objects.create(
        client_event_id=client_event_id or f"renkei:{uuid.uuid4()}",
        type=type,
        occurred_at=occurred_at or timezone.now(),
        contact=contact,
        properties=properties,
    )
    transaction.on_commit(lambda: _send_recorded({contact.pk}))
    return event


def contacts_refresh_last_activity(*, contact_ids: list[int]) -> int:
    """Set each contact's last_activity_at to its newest event, in one UPDATE."""
    newest = (
        Event.objects.filter(contact_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Contact.objects.filter(pk__in=contact_ids).update(last_activity_at=Subquery(newest))
