"""``POST /t/collect``: what the tracking script sends is stored against its visitor; bad
batches are refused whole with the field named; origins, floods and opt-outs."""

from typing import Any

import orjson
import pytest
from django.test import Client

from renkei.campaigns.models import Campaign
from renkei.capture.models import CaptureSettings
from renkei.events.models import Event, Visitor
from renkei.tracking.collect import EVENTS_MAX
from renkei.tracking.tests.conftest import SITE, page_view, post_batch

pytestmark = pytest.mark.django_db


def test_page_views_are_stored_against_the_visitor_with_their_utm_and_campaign(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    spring = Campaign.objects.create(name="春のLP", channel="ads", utm_campaign="spring")
    landing = f"{SITE}/lp?utm_source=google&utm_medium=cpc&utm_campaign=spring&_rkv={visitor_id}"
    body = {
        "visitor_id": visitor_id,
        "events": [
            page_view(0, landing, referrer="https://www.google.com/"),
            page_view(1, f"{SITE}/pricing", referrer=f"{SITE}/lp"),
        ],
    }
    response = post_batch(client, body)
    assert response.status_code == 204, response.content
    visitor = Visitor.objects.get(key=visitor_id)
    assert visitor.contact_id is None
    first, second = Event.objects.filter(visitor=visitor).order_by("occurred_at")
    assert first.client_event_id == f"t:{visitor_id}:ev0"
    assert first.contact_id is None and first.campaign_id == spring.pk
    assert first.properties == {
        "url": f"{SITE}/lp?utm_source=google&utm_medium=cpc&utm_campaign=spring",
        "title": "ページ 0",
        "referrer": "https://www.google.com/",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
    }
    assert second.campaign_id is None and "utm_source" not in second.properties
    assert first.occurred_at.isoformat() == "2026-04-01T01:00:00+00:00"


def test_a_retried_batch_adds_nothing(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    body = {"visitor_id": visitor_id, "events": [page_view(i) for i in range(3)]}
    assert post_batch(client, body).status_code == 204
    assert post_batch(client, body).status_code == 204
    assert Event.objects.count() == 3


def test_the_same_client_ids_of_two_visitors_do_not_collide(
    client: Client, allowed_site: CaptureSettings
) -> None:
    for key in ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"):
        assert post_batch(client, {"visitor_id": key, "events": [page_view(0)]}).status_code == 204
    assert Event.objects.count() == 2


def test_same_origin_pages_need_no_allowed_origin(client: Client, visitor_id: str) -> None:
    """The hosted form pages are served by Renkei itself."""
    body = {"visitor_id": visitor_id, "events": [page_view(0)]}
    assert post_batch(client, body, origin="http://testserver").status_code == 204
    assert Event.objects.count() == 1


def test_custom_events_keep_their_properties_as_text(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    custom = {
        "id": "c1",
        "type": "video.play",
        "url": f"{SITE}/demo",
        "properties": {"video": "<script>alert(1)</script>", "seconds": 12, "url": "x"},
    }
    assert post_batch(client, {"visitor_id": visitor_id, "events": [custom]}).status_code == 204
    event = Event.objects.get()
    assert event.type == "video.play"
    assert event.properties == {
        "video": "<script>alert(1)</script>",  # text; the timeline escapes it
        "seconds": 12,
        "url": f"{SITE}/demo",  # the page field wins over a custom property of that name
    }


def _bad(visitor_id: str, **event: Any) -> dict[str, Any]:
    return {"visitor_id": visitor_id, "events": [page_view(0), {**page_view(1), **event}]}


@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        (lambda v: b"{not json", "body"),
        (lambda v: b"[1, 2]", "body"),
        (
            lambda v: {"visitor_id": v, "events": [page_view(i) for i in range(EVENTS_MAX + 1)]},
            "events",
        ),
        (lambda v: {"visitor_id": v, "events": []}, "events"),
        (lambda v: {"visitor_id": "not-a-uuid", "events": [page_view(0)]}, "visitor_id"),
        (lambda v: {"visitor_id": v + "x", "events": [page_view(0)]}, "visitor_id"),
        (lambda v: {"visitor_id": v, "events": [page_view(0)], "admin": True}, "admin"),
        (lambda v: _bad(v, url="javascript:alert(1)"), "events[1].url"),
        (lambda v: _bad(v, url="ftp://example.jp/file"), "events[1].url"),
        (lambda v: _bad(v, url=""), "events[1].url"),
        (lambda v: _bad(v, url="https://example.jp/" + "a" * 2000), "events[1].url"),
        (lambda v: _bad(v, title="長" * 501), "events[1].title"),
        (lambda v: _bad(v, title=["list"]), "events[1].title"),
        (lambda v: _bad(v, referrer="data:text/html,hi"), "events[1].referrer"),
        (lambda v: _bad(v, type="Page View"), "events[1].type"),
        (lambda v: _bad(v, type="<b>"), "events[1].type"),
        (lambda v: _bad(v, type="meeting"), "events[1].type"),
        (lambda v: _bad(v, type="form_submit"), "events[1].type"),
        (lambda v: _bad(v, type="email_click"), "events[1].type"),
        (lambda v: _bad(v, id="a b"), "events[1].id"),
        (lambda v: _bad(v, id="x" * 65), "events[1].id"),
        (lambda v: _bad(v, occurred_at="yesterday"), "events[1].occurred_at"),
        (lambda v: _bad(v, occurred_at="2026-04-01T10:00:00"), "events[1].occurred_at"),
        (lambda v: _bad(v, title="a\u0000b"), "events[1].title"),
        (lambda v: _bad(v, properties={"nested": {"a": 1}}), "events[1].properties.nested"),
        (lambda v: _bad(v, properties={f"k{i}": i for i in range(21)}), "events[1].properties"),
        (lambda v: _bad(v, extra="x"), "events[1].extra"),
        (lambda v: {"visitor_id": v, "events": [page_view(0)], "identity": 5}, "identity"),
    ],
)
def test_a_bad_batch_is_refused_whole_naming_the_field(
    client: Client, allowed_site: CaptureSettings, visitor_id: str, make_body: Any, field: str
) -> None:
    response = post_batch(client, make_body(visitor_id))
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["detail"]
    assert Event.objects.count() == 0 and Visitor.objects.count() == 0


def test_an_oversized_body_is_refused(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    body = {"visitor_id": visitor_id, "events": [page_view(0, title="x" * 70_000)]}
    response = post_batch(client, body)
    assert response.status_code == 413
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://www.example.co.jp", f"{SITE}:8443"]
)
def test_a_disallowed_origin_is_refused(
    client: Client, allowed_site: CaptureSettings, visitor_id: str, origin: str
) -> None:
    response = post_batch(
        client, {"visitor_id": visitor_id, "events": [page_view(0)]}, origin=origin
    )
    assert response.status_code == 403
    assert response.json()["field"] == "origin"
    assert Event.objects.count() == 0


def test_no_origin_is_refused_unless_the_browser_says_same_origin(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    body = {"visitor_id": visitor_id, "events": [page_view(0)]}
    assert post_batch(client, body, origin=None).status_code == 403
    cross = post_batch(client, body, origin=None, HTTP_SEC_FETCH_SITE="cross-site")
    assert cross.status_code == 403
    same = post_batch(client, body, origin=None, HTTP_SEC_FETCH_SITE="same-origin")
    assert same.status_code == 204
    assert Event.objects.count() == 1


def test_allowed_origins_get_cors_headers(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    response = post_batch(client, {"visitor_id": visitor_id, "events": [page_view(0)]})
    assert response["Access-Control-Allow-Origin"] == SITE


def test_a_flood_from_one_address_is_refused(
    client: Client, allowed_site: CaptureSettings, visitor_id: str, settings: Any
) -> None:
    settings.RENKEI_TRACKING_COLLECT_RATE = "3/m"
    codes = [
        post_batch(client, {"visitor_id": visitor_id, "events": [page_view(i)]}).status_code
        for i in range(5)
    ]
    assert codes == [204, 204, 204, 429, 429]
    assert Event.objects.count() == 3
    other_address = post_batch(
        client, {"visitor_id": visitor_id, "events": [page_view(9)]}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 204


@pytest.mark.parametrize("header", [{"HTTP_DNT": "1"}, {"HTTP_SEC_GPC": "1"}])
def test_do_not_track_is_dropped_when_the_admin_honours_it(
    client: Client, allowed_site: CaptureSettings, visitor_id: str, header: dict[str, str]
) -> None:
    body = {"visitor_id": visitor_id, "events": [page_view(0)]}
    assert post_batch(client, body, **header).status_code == 204
    assert Event.objects.count() == 1  # not honoured: recorded
    allowed_site.honour_do_not_track = True
    allowed_site.save()
    body = {"visitor_id": visitor_id, "events": [page_view(1)]}
    assert post_batch(client, body, **header).status_code == 204
    assert Event.objects.count() == 1  # honoured: accepted and dropped
    assert post_batch(client, body).status_code == 204
    assert Event.objects.count() == 2  # without the header: recorded


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get("/t/collect").status_code == 405


def test_json_content_type_is_accepted_too(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    response = client.post(
        "/t/collect",
        data=orjson.dumps({"visitor_id": visitor_id, "events": [page_view(0)]}),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )
    assert response.status_code == 204
    assert Event.objects.count() == 1


def test_an_event_from_the_future_is_recorded_as_received(
    client: Client, allowed_site: CaptureSettings, visitor_id: str
) -> None:
    body = {"visitor_id": visitor_id, "events": [page_view(0, occurred_at="2099-01-01T00:00:00Z")]}
    assert post_batch(client, body).status_code == 204
    event = Event.objects.get()
    assert abs((event.occurred_at - event.received_at).total_seconds()) < 60


def test_a_malformed_rate_setting_falls_back_to_the_default_instead_of_failing(
    client: Client, allowed_site: CaptureSettings, visitor_id: str, settings: Any
) -> None:
    settings.RENKEI_TRACKING_COLLECT_RATE = "lots"
    response = post_batch(client, {"visitor_id": visitor_id, "events": [page_view(0)]})
    assert response.status_code == 204
    assert Event.objects.count() == 1
