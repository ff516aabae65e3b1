"""Tracked links (``/t/c/<token>``) and the identity token they hand to the tracking script."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from renkei.campaigns.models import Campaign
from renkei.capture.models import CaptureSettings
from renkei.contacts.models import Contact
from renkei.contacts.services import FirstTouch, contact_upsert, contacts_stamp_first_touch
from renkei.events.models import Event, Visitor
from renkei.tracking.services import (
    IDENTITY_MAX_AGE,
    identity_token,
    identity_token_read,
    tracked_link_read,
    tracked_link_url,
)
from renkei.tracking.tests.conftest import SITE, page_view, post_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(marketer: Any) -> Contact:
    contact, _ = contact_upsert(email="hanako@example.jp", actor=marketer, family_name="佐藤")
    return contact


@pytest.fixture
def webinar() -> Campaign:
    return Campaign.objects.create(name="ウェビナー", channel="webinar", utm_campaign="webinar")


def _identity_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["_rk"][0]


def test_a_tracked_link_records_the_click_and_redirects_with_an_identity(
    client: Client, hanako: Contact, webinar: Campaign
) -> None:
    destination = f"{SITE}/seminar?ref=mail#apply"
    link = tracked_link_url(
        url=destination, contact_id=hanako.pk, campaign_id=webinar.pk, event_type="email_click"
    )
    assert link.startswith("/t/c/")
    response = client.get(link)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{SITE}/seminar?ref=mail&_rk=") and location.endswith("#apply")
    assert identity_token_read(_identity_of(location)) == hanako.pk
    assert response["Cache-Control"] == "no-store"
    click = Event.objects.get()
    assert (click.type, click.contact_id, click.campaign_id) == (
        "email_click",
        hanako.pk,
        webinar.pk,
    )
    assert click.properties == {"url": destination}


def test_a_link_without_a_contact_redirects_without_identity(client: Client) -> None:
    response = client.get(tracked_link_url(url=f"{SITE}/", contact_id=None))
    assert response.status_code == 302 and response["Location"] == f"{SITE}/"
    assert Event.objects.count() == 0


def test_an_absolute_link_for_emails(hanako: Contact) -> None:
    link = tracked_link_url(url=f"{SITE}/", contact_id=hanako.pk, base="https://renkei.example/")
    assert link.startswith("https://renkei.example/t/c/")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/", "ftp://x.jp/", "/local"])
def test_only_web_destinations_can_be_signed(url: str) -> None:
    with pytest.raises(ValueError):
        tracked_link_url(url=url, contact_id=None)


def test_a_tampered_token_is_a_404_never_a_redirect(client: Client, hanako: Contact) -> None:
    token = tracked_link_url(url=f"{SITE}/", contact_id=hanako.pk).removeprefix("/t/c/")
    forged_payload = signing.dumps({"u": "https://evil.example/"}, salt="another.salt")
    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token.replace(token.split(":")[0], "evil"),
        forged_payload,
        "https%3A%2F%2Fevil.example%2F",
        "x",
    ):
        response = client.get(f"/t/c/{bad}")
        assert response.status_code == 404, bad
        assert "Location" not in response
    assert Event.objects.count() == 0


def test_the_redirect_goes_only_where_the_token_says(client: Client, hanako: Contact) -> None:
    """Query parameters cannot steer the redirect: no open redirect."""
    link = tracked_link_url(url=f"{SITE}/page", contact_id=None)
    for query in ("?next=https://evil.example/", "?url=https://evil.example/", "?u=//evil"):
        response = client.get(link + query)
        assert response["Location"] == f"{SITE}/page"


def test_clicks_are_rate_limited(client: Client, settings: Any) -> None:
    settings.RENKEI_TRACKING_CLICK_RATE = "2/m"
    link = tracked_link_url(url=f"{SITE}/", contact_id=None)
    assert [client.get(link).status_code for _ in range(3)] == [302, 302, 429]


def test_a_deleted_contacts_link_still_redirects(client: Client, hanako: Contact) -> None:
    link = tracked_link_url(url=f"{SITE}/", contact_id=hanako.pk)
    Contact.objects.filter(pk=hanako.pk).delete()
    assert client.get(link).status_code == 302
    assert Event.objects.count() == 0


def test_identity_tokens_expire_and_cannot_be_forged(hanako: Contact, monkeypatch: Any) -> None:
    token = identity_token(contact_id=hanako.pk)
    assert identity_token_read(token) == hanako.pk
    assert identity_token_read(token + "x") is None
    assert identity_token_read(signing.dumps(hanako.pk, salt="renkei.tracking.link")) is None
    later = timezone.now() + timedelta(seconds=IDENTITY_MAX_AGE + 60)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    assert identity_token_read(token) is None
    assert tracked_link_read("nonsense") is None


def test_the_identity_token_stitches_the_visitors_whole_history(
    client: Client, allowed_site: CaptureSettings, hanako: Contact, webinar: Campaign,
    visitor_id: str,
) -> None:  # fmt: skip
    # The contact came from a trade show, later than the visitor's first page view.
    contacts_stamp_first_touch(
        touches={hanako.pk: FirstTouch(at=datetime(2026, 5, 1, tzinfo=UTC), utm={})}
    )
    anonymous = [page_view(0, f"{SITE}/lp?utm_source=newsletter&utm_campaign=webinar")] + [
        page_view(i, f"{SITE}/p{i}") for i in (1, 2)
    ]
    assert post_batch(client, {"visitor_id": visitor_id, "events": anonymous}).status_code == 204
    assert not hanako.events.exists()

    # Weeks later she opens a tracked link from an email; the destination page's script
    # sends the identity token with its page view.
    location = client.get(tracked_link_url(url=f"{SITE}/seminar", contact_id=hanako.pk))["Location"]
    landing = page_view(3, location, occurred_at="2026-06-01T10:00:00+09:00")
    body = {"visitor_id": visitor_id, "events": [landing], "identity": _identity_of(location)}
    assert post_batch(client, body).status_code == 204

    assert Visitor.objects.get(key=visitor_id).contact_id == hanako.pk
    views = hanako.events.filter(type="page_view").order_by("occurred_at")
    assert [e.properties["url"] for e in views] == [
        f"{SITE}/lp?utm_source=newsletter&utm_campaign=webinar",
        f"{SITE}/p1",
        f"{SITE}/p2",
        f"{SITE}/seminar",  # the identity token is never stored with the page
    ]
    hanako.refresh_from_db()
    assert hanako.first_touch_at == datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    assert hanako.first_campaign_id == webinar.pk
    assert hanako.first_touch == {
        "utm_source": "newsletter",
        "utm_campaign": "webinar",
        "url": f"{SITE}/lp?utm_source=newsletter&utm_campaign=webinar",
    }


def test_a_forged_identity_is_ignored(
    client: Client, allowed_site: CaptureSettings, hanako: Contact, visitor_id: str
) -> None:
    forged = signing.dumps(hanako.pk, salt="not.the.identity.salt")
    body = {"visitor_id": visitor_id, "events": [page_view(0)], "identity": forged}
    assert post_batch(client, body).status_code == 204
    assert Visitor.objects.get(key=visitor_id).contact_id is None
    assert not hanako.events.exists()
