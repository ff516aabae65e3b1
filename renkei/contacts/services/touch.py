"""Consent records and the first touch: what capture (forms, tracking, imports) stamps
on a contact."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from renkei.contacts.models import Consent, ConsentKind, Contact
from renkei.contacts.services.cleaning import _field_text

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True)
class FirstTouch:
    """A touch that may be a contact's first: when, through which campaign, with what
    UTM parameters, from which URL and referrer."""

    at: datetime
    campaign_id: int | None = None
    utm: dict[str, str] = field(default_factory=dict)
    url: str = ""
    referrer: str = ""

    def details(self) -> dict[str, Any]:
        found = {k: str(self.utm[k])[:200] for k in UTM_KEYS if self.utm.get(k)}
        if self.url:
            found["url"] = self.url[:2000]
        if self.referrer:
            found["referrer"] = self.referrer[:2000]
        return found


@transaction.atomic
def contacts_stamp_first_touch(*, touches: dict[int, FirstTouch]) -> int:
    """Make each touch its contact's first touch where it is earlier than the one known
    (or none is known). The campaign is kept when the earlier touch names none.

    Race-safe: the comparison is part of each UPDATE. Returns how many contacts changed.
    """
    changed = 0
    for contact_id, touch in touches.items():
        values: dict[str, Any] = {"first_touch_at": touch.at, "first_touch": touch.details()}
        if touch.campaign_id is not None:
            values["first_campaign_id"] = touch.campaign_id
        changed += (
            Contact.objects.filter(pk=contact_id)
            .filter(Q(first_touch_at__isnull=True) | Q(first_touch_at__gt=touch.at))
            .update(**values)
        )
    return changed


@transaction.atomic
def consent_record(
    *,
    contact: Contact,
    kind: str,
    granted: bool,
    text: str = "",
    source: str = "",
    source_url: str = "",
    ip: str | None = None,
    user_agent: str = "",
    occurred_at: datetime | None = None,
) -> Consent:
    """Record a consent (or its refusal) with what was shown, when and where."""
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": f"unknown consent kind {kind!r}"})
    return Consent.objects.create(
        contact=contact,
        kind=kind,
        granted=granted,
        text=_field_text(text, "consent_text", 5000),
        source=_field_text(source, "source", 64),
        source_url=_field_text(source_url, "source_url", 2000),
        ip=ip or None,
        user_agent=(user_agent or "")[:500],
        occurred_at=occurred_at or timezone.now(),
    )


def contact_consent_current(*, contact: Contact, kind: str) -> Consent | None:
    """The latest consent of a kind, or None when the contact never answered."""
    return (
        Consent.objects.filter(contact=contact, kind=kind).order_by("-occurred_at", "-id").first()
    )
