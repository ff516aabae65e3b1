"""The script as served, the setup page, and how tracked events show on the contact page."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client

from conftest import PASSWORD
from renkei.capture.models import CaptureSettings
from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.services import EventInput, events_record
from renkei.tracking.services import identity_token_read, tracked_link_read

pytestmark = pytest.mark.django_db


def test_the_script_is_served_as_javascript_with_a_short_cache(client: Client) -> None:
    response = client.get("/t/renkei.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    script = response.content.decode()
    assert len(response.content) < 4096
    assert "{%" not in script and "{{" not in script  # the template comments are gone
    assert "const honourDnt = false;" in script
    for needed in ("/t/collect", "sendBeacon", "keepalive", "pagehide", "_rk_vid", "_rkv"):
        assert needed in script


def test_the_script_honours_do_not_track_when_the_admin_says_so(client: Client) -> None:
    settings = CaptureSettings.current()
    settings.honour_do_not_track = True
    settings.save()
    assert "const honourDnt = true;" in client.get("/t/renkei.js").content.decode()


def test_the_script_needs_no_login(client: Client) -> None:
    assert client.get("/t/renkei.js").status_code == 200


def _login(client: Client, user: User) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def test_the_setup_page_needs_a_login(client: Client) -> None:
    response = client.get("/t/setup/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_setup_page_shows_the_snippet_and_viewers_cannot_make_links(
    client: Client, viewer: User
) -> None:
    _login(client, viewer)
    response = client.get("/t/setup/")
    assert response.status_code == 200
    assert b'&lt;script src="http://testserver/t/renkei.js" defer&gt;' in response.content
    assert b'id="tracked-link-form"' not in response.content
    assert b'id="tracked-link"' not in client.get("/t/setup/?url=https://example.jp/").content


def test_a_sales_rep_makes_a_tracked_link_for_a_contact(client: Client, sales_rep: User) -> None:
    contact, _ = contact_upsert(email="taro@example.jp", actor=sales_rep)
    _login(client, sales_rep)
    response = client.get(
        "/t/setup/",
        {"url": "https://example.jp/case", "contact_email": "Taro@Example.jp",
         "event_type": "email_click"},
    )  # fmt: skip
    link = response.context["tracked_link"]
    assert link.startswith("http://testserver/t/c/")
    read = tracked_link_read(link.rsplit("/", 1)[1])
    assert read is not None
    assert (read.url, read.contact_id, read.event_type) == (
        "https://example.jp/case", contact.pk, "email_click",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://example.jp/", "contact_email": "nobody@example.jp"}, "contact_email"),
    ],
)
def test_the_link_builder_names_the_bad_field(
    client: Client, marketer: User, query: dict[str, str], field: str
) -> None:
    _login(client, marketer)
    response = client.get("/t/setup/", {"event_type": "link_click", **query})
    assert response.status_code == 200
    assert field in response.context["link_form"].errors
    assert response.context["tracked_link"] == ""


def test_identity_token_in_a_built_link_is_for_that_contact(client: Client, marketer: User) -> None:
    contact, _ = contact_upsert(email="jiro@example.jp", actor=marketer)
    _login(client, marketer)
    link = client.get(
        "/t/setup/",
        {"url": "https://example.jp/", "contact_email": "jiro@example.jp",
         "event_type": "link_click"},
    ).context["tracked_link"]  # fmt: skip
    client.logout()
    location = client.get(link.removeprefix("http://testserver"))["Location"]
    assert identity_token_read(parse_qs(urlsplit(location).query)["_rk"][0]) == contact.pk


# ---- the contact's timeline -----------------------------------------------------------


@pytest.fixture
def stitched_contact(db: Any) -> Contact:
    """A visitor's page views (one with hostile text, one with a javascript: URL in a custom
    event), then a form submission that identifies it."""
    at = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    anonymous = [
        EventInput(0, "t:v:1", "page_view", at, {
            "url": "https://example.jp/lp?utm_campaign=spring", "title": "<b>価格</b>",
            "referrer": "https://www.google.com/", "utm_campaign": "spring",
        }, visitor_key="v"),
        EventInput(1, "t:v:2", "video.play", at, {"url": "javascript:alert(1)"}, visitor_key="v"),
    ]  # fmt: skip
    events_record(items=anonymous, actor=None)
    contact, _ = contact_upsert(email="hanako@example.jp", actor=None)
    submit = EventInput(
        0, "form:1", "form_submit", at.replace(hour=2),
        {"form_id": 1, "form_name": "資料請求", "company": "<i>株式会社さくら</i>",
         "page_url": "https://example.jp/form", "language": "ja"},
        contact_id=contact.pk, visitor_key="v",
    )  # fmt: skip
    events_record(items=[submit], actor=None)
    return contact


def test_the_timeline_shows_stitched_page_views_escaped(
    client: Client, viewer: User, stitched_contact: Contact
) -> None:
    _login(client, viewer)
    html = client.get(f"/contacts/{stitched_contact.pk}/").content.decode()
    assert "&lt;b&gt;価格&lt;/b&gt;" in html and "<b>価格</b>" not in html
    assert (
        '<a href="https://example.jp/lp?utm_campaign=spring" '
        'rel="noopener noreferrer nofollow" target="_blank">'
    ) in html
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html  # text only
    assert html.count("timeline-stitched") == 2  # the two anonymous events, not the form
    assert "資料請求" in html and "&lt;i&gt;株式会社さくら&lt;/i&gt;" in html
    assert "https://www.google.com/" in html
