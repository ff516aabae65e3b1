"""Test helpers: contacts, events and rules, written through the real services."""

import itertools
from datetime import datetime
from typing import Any

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event
from renkei.scoring.models import EngagementRule
from renkei.scoring.services import engagement_rule_create

_ids = itertools.count(1)


def contact(n: int = 0) -> Contact:
    created, _ = contact_upsert(email=f"lead{n}@example.co.jp", actor=None, family_name="山田")
    return created


def events(contact: Contact, *items: tuple[str, datetime, dict[str, Any]]) -> None:
    """Insert events straight into the append-only log (the rescore reads them back)."""
    Event.objects.bulk_create(
        Event(
            client_event_id=f"t-{next(_ids)}",
            type=kind,
            occurred_at=at,
            contact=contact,
            properties=props,
        )
        for kind, at, props in items
    )


def rule(**fields: Any) -> EngagementRule:
    values: dict[str, Any] = {"name": "page views", "event_type": "page_view", "points": 1}
    return engagement_rule_create(actor=None, **(values | fields))
