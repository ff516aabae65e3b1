"""Recording events: the bulk ingestion path behind ``POST /api/v1/events``.

This is the hottest write path in Renkei (targets: ≥ 20,000 events/s over HTTP), so it is
set-based throughout: one query per kind of lookup for the whole batch, and one
``executemany`` insert that lets the database drop replayed client event ids.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.contacts.services import Actor, contacts_ensure_for_emails
from renkei.events.models import Event, Visitor
from renkei.events.signals import events_recorded
from renkei.lib.japanese import normalize_email


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


def _insert_sql() -> str:
    table = connection.ops.quote_name(Event._meta.db_table)
    props = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    return (
        f"INSERT INTO {table} (client_event_id, type, occurred_at, received_at, contact_id, "  # noqa: S608
        f"visitor_id, campaign_id, properties) VALUES (%s, %s, %s, %s, %s, %s, %s, {props}) "
        "ON CONFLICT (client_event_id) DO NOTHING"
    )


def _resolve_visitors(keys: set[str]) -> dict[str, tuple[int, int | None]]:
    """visitor key → (visitor id, stitched contact id), creating unseen visitors in bulk."""
    if not keys:
        return {}
    rows = {
        k: (i, c)
        for k, i, c in Visitor.objects.filter(key__in=keys).values_list("key", "id", "contact_id")
    }
    missing = keys - rows.keys()
    if missing:
        Visitor.objects.bulk_create(
            [Visitor(key=k) for k in sorted(missing)], ignore_conflicts=True
        )
        rows.update(
            {
                k: (i, c)
                for k, i, c in Visitor.objects.filter(key__in=missing).values_list(
                    "key", "id", "contact_id"
                )
            }
        )
    return rows


def visitors_identify(*, pairs: dict[int, int]) -> None:
    """Stitch anonymous visitors to contacts: ``{visitor_id: contact_id}``.

    A visitor already stitched keeps its contact. The visitor's earlier anonymous events
    join the contact's timeline.
    """
    now = timezone.now()
    for visitor_id, contact_id in pairs.items():
        if Visitor.objects.filter(pk=visitor_id, contact=None).update(
            contact_id=contact_id, identified_at=now
        ):
            Event.objects.filter(visitor_id=visitor_id, contact=None).update(contact_id=contact_id)


def _resolve_identities(
    items: list[EventInput], result: IngestResult, actor: Actor
) -> list[tuple[EventInput, int | None, int | None]]:
    """Each item with its (contact id, visitor id); unresolvable items are rejected."""
    emails: dict[int, str] = {}
    for item in items:
        if item.email:
            email = normalize_email(item.email)
            try:
                validate_email(email)
            except ValidationError:
                result.reject(item, "identity.email", f"not a valid email address: {item.email!r}")
                continue
            emails[item.index] = email
    by_email = contacts_ensure_for_emails(emails=set(emails.values()), actor=actor, source="api")
    wanted_ids = {item.contact_id for item in items if item.contact_id is not None}
    known_ids = set(Contact.objects.filter(id__in=wanted_ids).values_list("id", flat=True))
    visitors = _resolve_visitors({item.visitor_key for item in items if item.visitor_key})
    wanted_campaigns = {item.campaign_id for item in items if item.campaign_id is not None}
    known_campaigns = set(
        Campaign.objects.filter(id__in=wanted_campaigns).values_list("id", flat=True)
    )

    resolved = []
    stitch: dict[int, int] = {}
    rejected = {r["index"] for r in result.rejected}
    for item in items:
        if item.index in rejected:
            continue
        if item.contact_id is not None and item.contact_id not in known_ids:
            result.reject(item, "identity.contact_id", f"no contact with id {item.contact_id}")
            continue
        if item.campaign_id is not None and item.campaign_id not in known_campaigns:
            result.reject(item, "campaign_id", f"no campaign with id {item.campaign_id}")
            continue
        contact_id = item.contact_id or by_email.get(emails.get(item.index, ""))
        visitor_id = None
        if item.visitor_key:
            visitor_id, stitched = visitors[item.visitor_key]
            if contact_id is None:
                contact_id = stitched
            elif stitched is None:
                stitch.setdefault(visitor_id, contact_id)
        resolved.append((item, contact_id, visitor_id))
    if stitch:
        visitors_identify(pairs=stitch)
    return resolved


def events_record(*, items: Sequence[EventInput], actor: Actor) -> IngestResult:
    """Record a batch of validated events; replayed client event ids are counted, not added."""
    result = IngestResult()
    seen: set[str] = set()
    fresh: list[EventInput] = []
    for item in items:
        if item.client_event_id in seen:
            result.duplicate += 1
        else:
            seen.add(item.client_event_id)
            fresh.append(item)
    with transaction.atomic():
        stored = set(
            Event.objects.filter(client_event_id__in=seen).values_list("client_event_id", flat=True)
        )
        result.duplicate += len(stored)
        fresh = [item for item in fresh if item.client_event_id not in stored]
        resolved = _resolve_identities(fresh, result, actor)
        adapt = connection.ops.adapt_datetimefield_value
        now = adapt(timezone.now())
        rows = [
            (
                item.client_event_id,
                item.type,
                adapt(item.occurred_at),
                now,
                contact_id,
                visitor_id,
                item.campaign_id,
                orjson.dumps(item.properties).decode(),
            )
            for item, contact_id, visitor_id in resolved
        ]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(_insert_sql(), rows)
                inserted = cursor.rowcount if cursor.rowcount >= 0 else len(rows)
            # A concurrent request may have stored some of the same ids meanwhile.
            result.accepted = inserted
            result.duplicate += len(rows) - inserted
        contact_ids = {contact_id for _, contact_id, _ in resolved if contact_id is not None}
        if contact_ids:
            transaction.on_commit(
                lambda: events_recorded.send(sender=Event, contact_ids=contact_ids)
            )
    return result


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
    """Record a single event for a contact (notes, calls and meetings logged in the UI)."""
    import uuid

    return Event.objects.create(
        client_event_id=client_event_id or f"renkei:{uuid.uuid4()}",
        type=type,
        occurred_at=occurred_at or timezone.now(),
        contact=contact,
        properties=properties or {},
    )


def contacts_refresh_last_activity(*, contact_ids: list[int]) -> int:
    """Set each contact's last_activity_at to its newest event, in one UPDATE."""
    newest = (
        Event.objects.filter(contact_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Contact.objects.filter(pk__in=contact_ids).update(last_activity_at=Subquery(newest))
