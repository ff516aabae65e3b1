"""Checking a tracking batch (``POST /t/collect``) before anything is recorded.

The body comes from browsers anywhere on the internet, so every field is checked for type,
length and shape; the first problem is reported with the field's path (``events[3].url``)
and nothing of the batch is stored. Values are kept as text: the timeline escapes them.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.utils import timezone

from renkei.events.models import EventType
from renkei.events.schemas import EVENT_TYPE_PATTERN
from renkei.tracking.services import CLICK_TYPES, URL_MAX, TrackedEvent, is_web_url

BODY_MAX_BYTES = 64 * 1024
EVENTS_MAX = 50
TITLE_MAX = 500
IDENTITY_MAX = 500
PROPERTIES_MAX = 20
PROPERTY_KEY_MAX = 64
PROPERTY_TEXT_MAX = 500
# A browser's clock may be ahead; an event "from the future" is recorded as received.
FUTURE_SKEW = timedelta(minutes=5)

VISITOR_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN.strip("^$"))
# A browser may report page views and its own custom events, never what Renkei records
# from other sources (a visitor could otherwise plant a "meeting" in the history that
# joins a contact when it identifies itself).
RESERVED_TYPES = frozenset({*EventType.values, *CLICK_TYPES} - {EventType.PAGE_VIEW.value})
_KEYS = frozenset({"visitor_id", "events", "identity"})
_EVENT_KEYS = frozenset({"id", "type", "url", "title", "referrer", "occurred_at", "properties"})


class CollectError(ValueError):
    """A batch refused: ``field`` names where (``events[2].url``), the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CollectBatch:
    visitor_id: str
    events: list[TrackedEvent]
    identity: str = ""


def visitor_id_clean(value: Any) -> str | None:
    """The visitor id the tracking script keeps (a random UUID, lower case), or None when
    ``value`` is not one. Forms use it for their ``_rk_vid`` input."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if VISITOR_ID.fullmatch(value) else None


def collect_parse(body: bytes) -> CollectBatch:
    """The batch in ``body`` (JSON, whatever the Content-Type); CollectError when not valid."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CollectError("body", "malformed JSON") from None
    if not isinstance(payload, dict):
        raise CollectError("body", "a JSON object is required")
    if unknown := sorted(payload.keys() - _KEYS):
        raise CollectError(unknown[0], "unknown field")
    visitor_id = visitor_id_clean(payload.get("visitor_id"))
    if visitor_id is None:
        raise CollectError("visitor_id", "a visitor id (UUID) is required")
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        raise CollectError("events", "a non-empty list is required")
    if len(events) > EVENTS_MAX:
        raise CollectError("events", f"at most {EVENTS_MAX} events per batch (got {len(events)})")
    identity = payload.get("identity") or ""
    if not isinstance(identity, str) or len(identity) > IDENTITY_MAX:
        raise CollectError("identity", f"text of at most {IDENTITY_MAX} characters")
    now = timezone.now()
    return CollectBatch(
        visitor_id=visitor_id,
        events=[_event(f"events[{i}]", raw, now) for i, raw in enumerate(events)],
        identity=identity,
    )


def _event(where: str, raw: Any, now: datetime) -> TrackedEvent:
    if not isinstance(raw, dict):
        raise CollectError(where, "an object is required")
    if unknown := sorted(raw.keys() - _EVENT_KEYS):
        raise CollectError(f"{where}.{unknown[0]}", "unknown field")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise CollectError(f"{where}.id", "1 to 64 letters, digits, '-' or '_' are required")
    kind = raw.get("type")
    if not isinstance(kind, str) or not EVENT_TYPE.fullmatch(kind):
        raise CollectError(f"{where}.type", "a lower-case slug such as page_view is required")
    if kind in RESERVED_TYPES:
        raise CollectError(f"{where}.type", f"{kind} is recorded by Renkei itself")
    url = _text(raw, "url", where, URL_MAX)
    if url and not is_web_url(url):
        raise CollectError(f"{where}.url", "an http or https URL is required")
    if kind == "page_view" and not url:
        raise CollectError(f"{where}.url", "a page view needs the page's URL")
    referrer = _text(raw, "referrer", where, URL_MAX)
    if referrer and not is_web_url(referrer):
        raise CollectError(f"{where}.referrer", "an http or https URL is required")
    return TrackedEvent(
        id=event_id,
        type=kind,
        occurred_at=_time(raw.get("occurred_at"), f"{where}.occurred_at", now),
        url=url,
        title=_text(raw, "title", where, TITLE_MAX),
        referrer=referrer,
        properties=_properties(raw.get("properties"), f"{where}.properties"),
    )


def _text(raw: dict[str, Any], key: str, where: str, limit: int) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CollectError(f"{where}.{key}", "text is required")
    if len(value) > limit:
        raise CollectError(f"{where}.{key}", f"at most {limit} characters")
    if "\x00" in value:
        raise CollectError(f"{where}.{key}", "must not contain NUL characters")
    return value.strip()


def _time(value: Any, where: str, now: datetime) -> datetime:
    """ISO 8601 with an offset; none means "now"; a time ahead of ours is clamped."""
    if value is None:
        return now
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.year < 2000:
        raise CollectError(where, "an ISO 8601 time with a time-zone offset is required")
    return at if at <= now + FUTURE_SKEW else now


def _properties(value: Any, where: str) -> dict[str, Any]:
    """A custom event's properties: a flat object of at most 20 short scalar values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CollectError(where, "an object is required")
    if len(value) > PROPERTIES_MAX:
        raise CollectError(where, f"at most {PROPERTIES_MAX} properties")
    for key, item in value.items():
        if len(key) > PROPERTY_KEY_MAX or "\x00" in key:
            raise CollectError(where, f"property names have at most {PROPERTY_KEY_MAX} characters")
        if isinstance(item, str):
            if len(item) > PROPERTY_TEXT_MAX or "\x00" in item:
                raise CollectError(f"{where}.{key}", f"at most {PROPERTY_TEXT_MAX} characters")
        elif item is not None and not isinstance(item, bool | int | float):
            raise CollectError(f"{where}.{key}", "text, a number, true/false or null is required")
    return value
