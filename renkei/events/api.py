"""``POST /api/v1/events``: batches of up to 1,000 events, idempotent by client event id.

The body is parsed with orjson and each event validated on its own, so one bad event is
rejected with its index and field while the others are recorded. Plainly valid events
take the fast path (``event_input_fast``); the rest are judged by the ``EventIn`` schema,
whose first error names the field.
"""

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from renkei.api import api, require_perm
from renkei.events.schemas import (
    ErrorOut,
    EventBatchIn,
    EventBatchOut,
    EventIn,
    event_input_fast,
)
from renkei.events.services import EventInput, events_record

router = Router(tags=["events"])
_event_adapter: TypeAdapter[EventIn] = TypeAdapter(EventIn)


def _loc(err: Any) -> str:
    return ".".join(str(p) for p in err["loc"]) or "event"


def _parse_batch(request: HttpRequest) -> list[Any]:
    limit = settings.RENKEI_EVENT_BATCH_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Checked before the body is read, so an oversized body is never loaded.
    if length > limit or len(request.body) > limit:
        raise HttpError(413, f"the body is larger than {limit} bytes (1 MB)")
    try:
        payload = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise HttpError(422, "events: an object with a list 'events' is required")
    events = payload["events"]
    if not events:
        raise HttpError(422, "events: the batch is empty")
    if len(events) > settings.RENKEI_EVENT_BATCH_MAX:
        raise HttpError(
            422,
            f"events: at most {settings.RENKEI_EVENT_BATCH_MAX} events per batch "
            f"(got {len(events)})",
        )
    return events


# The body as the endpoint really takes it: each item is validated on its own against
# EventIn, and one that does not match is rejected alone (with its index and field) while
# the others are recorded; so any item is acceptable in a batch, and the schema says so.
_BATCH_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "anyOf": [{"$ref": "#/components/schemas/EventIn"}, {}],
                "description": "An event (EventIn). An item that does not match EventIn is "
                "listed under `rejected` with its index and field; the others are recorded.",
            },
        }
    },
}


@router.post(
    "",
    response={
        200: EventBatchOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="Record a batch of events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BATCH_SCHEMA}},
        }
    },
)
def events_create(request: HttpRequest) -> Any:
    """Up to 1,000 events (1 MB). Answers how many were accepted, how many were duplicates
    (already recorded: a replayed batch adds nothing) and each rejected event with why."""
    require_perm(request, "events.add_event")
    items: list[EventInput] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(_parse_batch(request)):
        item = event_input_fast(index, raw) or _validated(index, raw, rejected)
        if item is not None:
            items.append(item)
    recorded = events_record(items=items, actor=request.user)
    return {
        "accepted": recorded.accepted,
        "duplicate": recorded.duplicate,
        "rejected": sorted(rejected + recorded.rejected, key=lambda r: r["index"]),
    }


def _validated(index: int, raw: Any, rejected: list[dict[str, Any]]) -> EventInput | None:
    """The event checked by the EventIn schema; on error, its first error is recorded."""
    try:
        event = _event_adapter.validate_python(raw)
    except PydanticValidationError as exc:
        err = exc.errors(include_url=False)[0]
        cid = raw.get("client_event_id") if isinstance(raw, dict) else None
        rejected.append(
            {
                "index": index,
                "client_event_id": cid if isinstance(cid, str) else None,
                "field": _loc(err),
                "message": err["msg"],
            }
        )
        return None
    identity = event.identity
    return EventInput(
        index=index,
        client_event_id=event.client_event_id,
        type=event.type,
        occurred_at=event.occurred_at,
        properties=event.properties,
        email=identity.email or "",
        contact_id=identity.contact_id,
        visitor_key=identity.visitor_id or "",
        campaign_id=event.campaign_id,
    )


api.register_extra_schema(EventBatchIn)
