"""The fast path of event validation accepts only what the EventIn schema accepts."""

from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from renkei.events.schemas import EventIn, event_input_fast
from renkei.events.services import MAX_ID

_adapter: TypeAdapter[EventIn] = TypeAdapter(EventIn)


def _base(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "client_event_id": "evt-1",
        "type": "page_view",
        "occurred_at": "2026-04-01T10:00:00+09:00",
        "properties": {"url": "https://example.jp/"},
        "identity": {"email": "taro@example.jp"},
    }
    event.update(changes)
    return event


def _instant(value: Any) -> Any:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC: the services reject it, both ways
        return ("unrepresentable", value.isoformat())


def _schema_view(raw: Any) -> tuple[Any, ...] | None:
    """What EventIn makes of ``raw`` in EventInput terms, or None when it refuses it."""
    try:
        event = _adapter.validate_python(raw)
    except ValidationError:
        return None
    i = event.identity
    return (
        event.client_event_id,
        event.type,
        _instant(event.occurred_at),
        event.properties,
        i.email or "",
        i.contact_id,
        i.visitor_id or "",
        event.campaign_id,
    )


def _fast_view(raw: Any) -> tuple[Any, ...] | None:
    item = event_input_fast(0, raw)
    if item is None:
        return None
    return (
        item.client_event_id,
        item.type,
        _instant(item.occurred_at),
        item.properties,
        item.email,
        item.contact_id,
        item.visitor_key,
        item.campaign_id,
    )


def assert_fast_path_agrees(raw: Any) -> None:
    fast = _fast_view(raw)
    if fast is not None:  # None just means "ask the schema"
        assert fast == _schema_view(raw), raw


@pytest.mark.parametrize(
    "raw",
    [
        _base(),
        _base(occurred_at="2026-04-01T01:00:00Z"),
        _base(occurred_at="2026-04-01 10:00:00.123456+09:00"),
        _base(identity={"contact_id": 5}),
        _base(identity={"visitor_id": "v-1", "email": "Taro@Example.jp"}),
        _base(campaign_id=3, properties={}),
        {k: v for k, v in _base().items() if k != "properties"},
    ],
)
def test_common_events_take_the_fast_path_with_the_schemas_values(raw: Any) -> None:
    assert event_input_fast(0, raw) is not None
    assert_fast_path_agrees(raw)


@pytest.mark.parametrize(
    "raw",
    [
        _base(occurred_at="2026-04-01T10:00:00"),  # no offset
        _base(occurred_at="2026-02-30T10:00:00+09:00"),
        _base(occurred_at="2026-04-01T24:00:00+09:00"),
        _base(occurred_at="yesterday"),
        _base(occurred_at=1_775_000_000),
        _base(type="Page_View"),
        _base(type="page_view\n"),
        _base(client_event_id=""),
        _base(client_event_id="x" * 129),
        _base(identity={}),
        _base(identity={"email": ""}),
        _base(identity={"contact_id": 0}),
        _base(identity={"contact_id": True}),
        _base(identity={"contact_id": "5"}),
        _base(identity={"contact_id": MAX_ID + 1}),
        _base(identity={"visitor_id": ""}),
        _base(identity={"email": "a@b.jp", "phone": "03"}),
        _base(campaign_id=1.0),
        _base(properties=None),
        _base(extra=1),
        ["not", "an", "object"],
    ],
)
def test_unusual_events_are_left_to_the_schema(raw: Any) -> None:
    assert event_input_fast(0, raw) is None


_times = st.one_of(
    st.sampled_from(
        [
            "2026-04-01T10:00:00+09:00",
            "2026-04-01T10:00:00.5+09:00",
            "2026-04-01T10:00:00-00:00",
            "2026-04-01T10:00:00+23:59",
            "2026-04-01T10:00:60+09:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-4-1T10:00:00Z",
            "2026-04-01t10:00:00z",
        ]
    ),
    st.text(alphabet="0123456789-:T +Z.", max_size=30),
)
_ids = st.one_of(st.none(), st.integers(-2, 2**64), st.booleans(), st.floats(), st.text(max_size=3))
_texts = st.one_of(st.none(), st.text(max_size=70), st.integers())
_identity = st.fixed_dictionaries(
    {}, optional={"email": _texts, "contact_id": _ids, "visitor_id": _texts, "x": _texts}
)


@settings(max_examples=400, deadline=None)
@given(
    cid=st.one_of(st.text(max_size=130), st.integers()),
    kind=st.one_of(st.sampled_from(["page_view", "a", "a.b:c-d_e", "9x"]), st.text(max_size=66)),
    at=_times,
    identity=st.one_of(_identity, st.none(), st.text(max_size=3)),
    campaign=_ids,
    properties=st.one_of(st.dictionaries(st.text(max_size=5), st.integers()), st.none(), st.text()),
)
def test_fast_path_never_accepts_what_the_schema_refuses(
    cid: Any, kind: Any, at: Any, identity: Any, campaign: Any, properties: Any
) -> None:
    raw = _base(
        client_event_id=cid,
        type=kind,
        occurred_at=at,
        identity=identity,
        campaign_id=campaign,
        properties=properties,
    )
    assert_fast_path_agrees(raw)
