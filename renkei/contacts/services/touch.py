"""Consent records and the first touch: what capture (forms, tracking, imports) stamps
on a contact."""

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
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

    One UPDATE for all the touches (event ingestion stitches visitors batch by batch, so
    this is on its hot path); the comparison is part of it, so it is race-safe. Returns
    how many contacts changed.
    """
    if not touches:
        return 0
    if connection.vendor not in ("postgresql", "sqlite") or (
        connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33)
    ):
        return _stamp_one_by_one(touches)  # no UPDATE … FROM here
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        {"id": cid, "at": str(adapt(t.at)), "details": t.details(), "campaign_id": t.campaign_id}
        for cid, t in touches.items()
    ]
    table = connection.ops.quote_name(Contact._meta.db_table)
    if connection.vendor == "postgresql":
        values = (
            "SELECT * FROM jsonb_to_recordset(%s::jsonb) "
            "AS r(id bigint, at timestamptz, details jsonb, campaign_id bigint)"
        )
    else:
        values = (
            "SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.at') AS at, "
            "json(json_extract(value, '$.details')) AS details, "
            "json_extract(value, '$.campaign_id') AS campaign_id FROM json_each(%s)"
        )
    sql = (
        f"UPDATE {table} SET first_touch_at = v.at, "  # noqa: S608
        f"first_touch = v.details, "
        f"first_campaign_id = COALESCE(v.campaign_id, {table}.first_campaign_id) "
        f"FROM ({values}) AS v WHERE {table}.id = v.id "
        f"AND ({table}.first_touch_at IS NULL OR {table}.first_touch_at > v.at)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, ensure_ascii=False)])
        return cursor.rowcount


def _stamp_one_by_one(touches: dict[int, FirstTouch]) -> int:
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
