"""Test helpers: a persona, contacts, engagement and events, through the real services."""

import itertools
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event
from renkei.personas.models import PersonaVersion
from renkei.personas.services import (
    contacts_fit_refresh,
    persona_create,
    persona_version_approve,
)
from renkei.scoring.services import contacts_rescore, engagement_rule_create

_ids = itertools.count(1)

# A 部長 (department head) fits 72; a 部長 in IT fits 100; anyone else 0.
CRITERIA = [
    {"field": "title", "values": ["部長"], "weight": 72},
    {"field": "industry", "values": ["it"], "weight": 28},
]


def persona(marketer: User, sales: User) -> PersonaVersion:
    version = persona_create(name="情シス部長", criteria=CRITERIA, actor=marketer)
    persona_version_approve(version=version, side="marketing", actor=marketer)
    return persona_version_approve(version=version, side="sales", actor=sales)


def lead(n: int = 0, *, title: str = "部長", **fields: Any) -> Contact:
    created, _ = contact_upsert(
        email=f"lead{n}@example.co.jp", actor=None, family_name="山田", title=title, **fields
    )
    contacts_fit_refresh(contact_ids=[created.pk])
    return created


def webinar_rule(points: int = 45, half_life_days: float | None = 30) -> None:
    engagement_rule_create(
        actor=None,
        name="ウェビナー参加",
        event_type="webinar_attended",
        points=points,
        half_life_days=half_life_days,
    )


def events(contact: Contact, *items: tuple[str, datetime]) -> None:
    """Insert events straight into the append-only log."""
    Event.objects.bulk_create(
        Event(client_event_id=f"q-{next(_ids)}", type=kind, occurred_at=at, contact=contact)
        for kind, at in items
    )


def engaged(contact: Contact, at: datetime, *, times: int = 1) -> None:
    """``times`` webinars at ``at``, scored as of ``at``."""
    events(contact, *[("webinar_attended", at)] * times)
    contacts_rescore(contact_ids=[contact.pk], now=at)
