"""Request and response shapes of the events API, and the fast path that checks them.

``EventIn`` is the contract (and the OpenAPI schema). Validating a thousand events with
it costs more than storing them, so ``event_input_fast`` accepts the common well-formed
event with plain type checks and hands anything else to ``EventIn``, which decides and
names the error. The fast path accepts a strict subset of what ``EventIn`` accepts, so
the answer for any input is the same either way (``tests/test_schemas.py`` checks it).
"""

import re
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from renkei.events.services import MAX_ID, EventInput

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_.:-]{0,63}$"


class IdentityIn(BaseModel):
    """Who the event is about: an email, a contact id or a visitor id (at least one)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=254)
    contact_id: int | None = Field(None, ge=1, le=MAX_ID)
    visitor_id: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def one_identity(self) -> "IdentityIn":
        if not (self.email or self.contact_id or self.visitor_id):
            raise ValueError("give email, contact_id or visitor_id")
        return self


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_event_id: str = Field(
        min_length=1, max_length=128, description="The sender's id; a replay is a duplicate."
    )
    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="page_view, form_submit, …")
    occurred_at: AwareDatetime = Field(description="ISO 8601 with a time-zone offset")
    properties: dict[str, Any] = Field(default_factory=dict)
    identity: IdentityIn
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class RejectedEventOut(BaseModel):
    index: int = Field(description="Position of the event in the batch, from 0")
    client_event_id: str | None
    field: str = Field(description="The field that was wrong, e.g. identity.email")
    message: str


class EventBatchOut(BaseModel):
    accepted: int
    duplicate: int
    rejected: list[RejectedEventOut]


class ErrorOut(BaseModel):
    detail: Any


# ---- the fast path ----------------------------------------------------------------------

_EVENT_KEYS = frozenset(EventIn.model_fields)
_IDENTITY_KEYS = frozenset(IdentityIn.model_fields)
# fullmatch, not "$": Python's "$" also matches before a final newline, pydantic's not.
_TYPE = re.compile(EVENT_TYPE_PATTERN.strip("^$"))
# The usual ISO 8601 shape with an offset; anything rarer goes to pydantic.
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")


def _id_or_none(value: Any) -> bool:
    return value is None or (type(value) is int and 1 <= value <= MAX_ID)


def _text_or_none(value: Any, low: int, high: int) -> bool:
    return value is None or (type(value) is str and low <= len(value) <= high)


def event_input_fast(index: int, raw: Any) -> EventInput | None:
    """The event as an ``EventInput`` when it is plainly valid, else None (ask EventIn).

    Written for speed (it runs for every event): plain ``type() is`` checks, no helper
    objects, and the common event shape checked before the rarer fields.
    """
    if type(raw) is not dict or not raw.keys() <= _EVENT_KEYS:
        return None
    client_event_id, kind, at = raw.get("client_event_id"), raw.get("type"), raw.get("occurred_at")
    properties, identity = raw.get("properties", {}), raw.get("identity")
    campaign_id = raw.get("campaign_id")
    if not (
        type(client_event_id) is str
        and 0 < len(client_event_id) <= 128
        and type(kind) is str
        and (kind in _TYPES_SEEN or _type_ok(kind))
        and type(at) is str
        and _TIME.fullmatch(at)
        and type(properties) is dict
        and type(identity) is dict
        and identity.keys() <= _IDENTITY_KEYS
        and (campaign_id is None or _id_or_none(campaign_id))
    ):
        return None
    email, contact_id, visitor = (
        identity.get("email"),
        identity.get("contact_id"),
        identity.get("visitor_id"),
    )
    if not (
        (email or contact_id or visitor)
        and _text_or_none(email, 0, 254)
        and _id_or_none(contact_id)
        and _text_or_none(visitor, 1, 64)
    ):
        return None
    try:
        occurred_at = datetime.fromisoformat(at)
    except ValueError:  # e.g. 2026-02-30: pydantic names the problem
        return None
    return EventInput(
        index, client_event_id, kind, occurred_at, properties, email or "", contact_id,
        visitor or "", campaign_id,
    )  # fmt: skip


# Event types already seen valid: senders use a handful, so the pattern runs rarely.
_TYPES_SEEN: set[str] = set()


def _type_ok(kind: str) -> bool:
    if not _TYPE.fullmatch(kind):
        return False
    if len(_TYPES_SEEN) < 10_000:  # bounded: a sender inventing types cannot grow it
        _TYPES_SEEN.add(kind)
    return True
