from typing import Any

import orjson
import pytest

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event, Visitor

URL = "/api/v1/events"


def _event(i: int, **identity: Any) -> dict[str, Any]:
    return {
        "client_event_id": f"evt-{i}",
        "type": "page_view",
        "occurred_at": "2026-04-01T10:00:00+09:00",
        "properties": {"url": f"https://example.jp/p/{i}"},
        "identity": identity or {"email": "taro@example.jp"},
    }


def test_batch_is_recorded_and_replay_adds_nothing(marketer_api: Any) -> None:
    batch = {"events": [_event(i) for i in range(5)]}
    first = marketer_api.post_json(URL, batch)
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": 5, "duplicate": 0, "rejected": []}
    again = marketer_api.post_json(URL, batch)
    assert again.json() == {"accepted": 0, "duplicate": 5, "rejected": []}
    assert Event.objects.count() == 5
    contact = Contact.objects.get(email_normalized="taro@example.jp")
    assert set(contact.events.values_list("client_event_id", flat=True)) == {
        f"evt-{i}" for i in range(5)
    }


def test_bad_item_is_rejected_with_index_and_field_others_accepted(marketer_api: Any) -> None:
    bad_time = {**_event(1), "occurred_at": "yesterday"}
    no_identity = {**_event(2), "identity": {}}
    unknown_contact = _event(3, contact_id=999_999)
    response = marketer_api.post_json(
        URL, {"events": [_event(0), bad_time, no_identity, unknown_contact, _event(4)]}
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["accepted"], body["duplicate"]) == (2, 0)
    fields = {r["index"]: r["field"] for r in body["rejected"]}
    assert fields == {1: "occurred_at", 2: "identity", 3: "identity.contact_id"}


def test_visitor_events_join_contact_when_identified(marketer_api: Any, marketer: Any) -> None:
    anonymous = [_event(i, visitor_id="v-abc") for i in range(3)]
    assert marketer_api.post_json(URL, {"events": anonymous}).json()["accepted"] == 3
    contact, _ = contact_upsert(email="hanako@example.jp", actor=marketer)
    identified = _event(10, visitor_id="v-abc", email="Hanako@Example.jp")
    assert marketer_api.post_json(URL, {"events": [identified]}).json()["accepted"] == 1
    assert Visitor.objects.get(key="v-abc").contact_id == contact.pk
    assert contact.events.count() == 4


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b'{"events": []}', 422, "empty"),
        (b'{"events": "x"}', 422, "events"),
        (orjson.dumps({"events": [_event(i) for i in range(1001)]}), 422, "at most 1000"),
        (orjson.dumps({"events": [_event(0, email="x" * 2_000_000)]}), 413, "larger"),
    ],
)
def test_malformed_batches_get_4xx_naming_the_problem(
    marketer_api: Any, body: bytes, status: int, needle: str
) -> None:
    response = marketer_api.post(URL, data=body, content_type="application/json")
    assert response.status_code == status, response.content
    assert needle in str(response.json()["detail"])
    assert Event.objects.count() == 0


def test_viewer_cannot_ingest_and_anonymous_gets_401(viewer_api: Any, client: Any) -> None:
    assert viewer_api.post_json(URL, {"events": [_event(0)]}).status_code == 403
    assert client.post(URL, data={}, content_type="application/json").status_code == 401


def _post(api: Any, *events: dict[str, Any]) -> dict[str, Any]:
    response = api.post_json(URL, {"events": list(events)})
    assert response.status_code == 200, response.content
    return dict(response.json())


def _fields(body: dict[str, Any]) -> dict[int, str]:
    return {r["index"]: r["field"] for r in body["rejected"]}


def test_nul_characters_are_refused_per_event_never_a_server_error(marketer_api: Any) -> None:
    body = _post(
        marketer_api,
        {**_event(0), "properties": {"note": "a\u0000b"}},
        {**_event(1), "client_event_id": "evt\u0000-1"},
        _event(2, visitor_id="v\u0000"),
        _event(3, email="ta\u0000ro@example.jp"),
        _event(4),
    )
    assert body["accepted"] == 1
    assert _fields(body) == {
        0: "properties",
        1: "client_event_id",
        2: "identity.visitor_id",
        3: "identity.email",
    }
    assert Event.objects.get().client_event_id == "evt-4"


def test_unknown_or_impossible_ids_and_times_are_rejected_with_their_field(
    marketer_api: Any,
) -> None:
    body = _post(
        marketer_api,
        {**_event(0), "campaign_id": 999_999},
        _event(1, contact_id=2**70),
        {**_event(2), "campaign_id": 2**70},
        {**_event(3), "occurred_at": "0001-01-01T00:00:00+09:00"},
        _event(4, contact_id=1, email="not an email"),
    )
    assert body["accepted"] == 0
    assert _fields(body) == {
        0: "campaign_id",
        1: "identity.contact_id",
        2: "campaign_id",
        3: "occurred_at",
        4: "identity.email",
    }


def test_repeats_inside_one_batch_are_duplicates(marketer_api: Any) -> None:
    body = _post(marketer_api, _event(0), _event(0), _event(1))
    assert (body["accepted"], body["duplicate"]) == (2, 1)


def test_a_new_email_creates_a_lead_with_its_first_transition(marketer_api: Any) -> None:
    _post(marketer_api, _event(0, email="New.Person@Example.JP"))
    contact = Contact.objects.get(email_normalized="new.person@example.jp")
    assert contact.lifecycle_stage == "lead"
    assert list(contact.transitions.values_list("from_stage", "to_stage")) == [("", "lead")]
    assert contact.events.count() == 1


def test_anonymous_events_of_the_identifying_batch_join_the_contact(marketer_api: Any) -> None:
    body = _post(
        marketer_api,
        _event(0, visitor_id="v-new"),
        _event(1, visitor_id="v-new", email="jiro@example.jp"),
        _event(2, visitor_id="v-new"),
    )
    assert body["accepted"] == 3
    contact = Contact.objects.get(email_normalized="jiro@example.jp")
    assert Visitor.objects.get(key="v-new").contact_id == contact.pk
    assert contact.events.count() == 3


def test_a_stitched_visitor_keeps_its_first_contact(marketer_api: Any) -> None:
    _post(marketer_api, _event(0, visitor_id="v-1", email="first@example.jp"))
    _post(
        marketer_api,
        _event(1, visitor_id="v-1", email="second@example.jp"),
        _event(2, visitor_id="v-1"),
    )
    first = Contact.objects.get(email_normalized="first@example.jp")
    second = Contact.objects.get(email_normalized="second@example.jp")
    assert Visitor.objects.get(key="v-1").contact_id == first.pk
    assert set(first.events.values_list("client_event_id", flat=True)) == {"evt-0", "evt-2"}
    assert list(second.events.values_list("client_event_id", flat=True)) == ["evt-1"]


def test_event_times_are_stored_as_the_same_instant(marketer_api: Any) -> None:
    _post(marketer_api, {**_event(0), "occurred_at": "2026-04-01T10:00:00.250000+09:00"})
    stored = Event.objects.get().occurred_at
    assert stored.isoformat() == "2026-04-01T01:00:00.250000+00:00"
