"""Visitor-to-contact stitching in ``events_record``: history joins the contact, the first
touch comes from the visitor's earliest event, and ingestion without stitching pays no
extra query for it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.contacts.services import FirstTouch, contact_upsert, contacts_stamp_first_touch
from renkei.events.models import Event, Visitor
from renkei.events.services import EventInput, events_record, visitors_identify

T0 = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _item(i: int, at: datetime = T0, **kw: Any) -> EventInput:
    defaults: dict[str, Any] = {
        "index": i,
        "client_event_id": f"e-{i}",
        "type": "page_view",
        "occurred_at": at,
        "properties": {"url": f"https://example.jp/p/{i}"},
    }
    return EventInput(**{**defaults, **kw})


@pytest.fixture
def spring() -> Campaign:
    return Campaign.objects.create(name="春の展示会", channel="web", utm_campaign="spring")


def _anonymous_history(spring: Campaign, key: str = "v-1") -> None:
    """A visitor's first page view came from the spring campaign; two more followed."""
    first = {
        "url": "https://example.jp/lp?utm_source=google&utm_campaign=spring",
        "referrer": "https://www.google.com/",
        "utm_source": "google",
        "utm_campaign": "spring",
    }
    items = [
        _item(0, T0, visitor_key=key, properties=first, campaign_id=spring.pk),
        _item(1, T0 + timedelta(minutes=5), visitor_key=key),
        _item(2, T0 + timedelta(days=2), visitor_key=key),
    ]
    assert events_record(items=items, actor=None).accepted == 3


def test_identifying_a_visitor_joins_its_history_and_stamps_its_first_touch(
    spring: Campaign, marketer: Any
) -> None:
    _anonymous_history(spring)
    # The contact existed before, with a later first touch (e.g. a trade-show import).
    contact, _ = contact_upsert(email="hanako@example.jp", actor=marketer)
    later = FirstTouch(at=T0 + timedelta(days=10), utm={"utm_source": "expo"})
    contacts_stamp_first_touch(touches={contact.pk: later})

    identify = _item(
        9, T0 + timedelta(days=3), type="form_submit", visitor_key="v-1", email="hanako@example.jp"
    )
    assert events_record(items=[identify], actor=None).accepted == 1

    contact.refresh_from_db()
    assert Visitor.objects.get(key="v-1").contact_id == contact.pk
    assert set(contact.events.values_list("client_event_id", flat=True)) == {
        "e-0", "e-1", "e-2", "e-9",
    }  # fmt: skip
    assert contact.first_touch_at == T0
    assert contact.first_campaign_id == spring.pk
    assert contact.first_touch == {
        "utm_source": "google",
        "utm_campaign": "spring",
        "url": "https://example.jp/lp?utm_source=google&utm_campaign=spring",
        "referrer": "https://www.google.com/",
    }


def test_an_earlier_first_touch_of_the_contact_is_kept(spring: Campaign, marketer: Any) -> None:
    _anonymous_history(spring)
    contact, _ = contact_upsert(email="early@example.jp", actor=marketer)
    earlier = FirstTouch(at=T0 - timedelta(days=30), utm={"utm_source": "expo"})
    contacts_stamp_first_touch(touches={contact.pk: earlier})
    events_record(items=[_item(9, visitor_key="v-1", contact_id=contact.pk)], actor=None)
    contact.refresh_from_db()
    assert contact.events.count() == 4  # the history joins all the same
    assert contact.first_touch_at == T0 - timedelta(days=30)
    assert contact.first_touch == {"utm_source": "expo"}
    assert contact.first_campaign_id is None


def test_a_visitor_first_seen_in_the_identifying_batch_stamps_its_first_touch(
    spring: Campaign,
) -> None:
    """The visitor's earliest event may be in the very batch that identifies it."""
    items = [
        _item(0, T0, visitor_key="v-new", properties={"utm_campaign": "spring"}),
        _item(1, T0 + timedelta(minutes=1), visitor_key="v-new", email="new@example.jp"),
    ]
    assert events_record(items=items, actor=None).accepted == 2
    contact = Contact.objects.get(email_normalized="new@example.jp")
    assert contact.first_touch_at == T0
    assert contact.first_touch == {"utm_campaign": "spring"}


def test_a_stitched_visitor_keeps_its_first_contact_and_first_touch(spring: Campaign) -> None:
    _anonymous_history(spring)
    events_record(items=[_item(8, visitor_key="v-1", email="a@example.jp")], actor=None)
    events_record(items=[_item(9, visitor_key="v-1", email="b@example.jp")], actor=None)
    a = Contact.objects.get(email_normalized="a@example.jp")
    b = Contact.objects.get(email_normalized="b@example.jp")
    assert Visitor.objects.get(key="v-1").contact_id == a.pk
    assert a.first_touch_at == T0 and b.first_touch_at is None
    assert list(b.events.values_list("client_event_id", flat=True)) == ["e-9"]


def test_visitors_identify_stamps_each_contact_from_its_visitors_earliest_event(
    spring: Campaign,
) -> None:
    _anonymous_history(spring, key="v-1")
    events_record(items=[_item(5, T0 - timedelta(hours=1), visitor_key="v-2")], actor=None)
    one, _ = contact_upsert(email="one@example.jp", actor=None)
    two, _ = contact_upsert(email="two@example.jp", actor=None)
    v1, v2 = (Visitor.objects.get(key=k).pk for k in ("v-1", "v-2"))
    with CaptureQueriesContext(connection) as queries:
        owners = visitors_identify(pairs={v1: one.pk, v2: two.pk})
    assert owners == {v1: one.pk, v2: two.pk}
    earliest = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "ORDER BY" in q["sql"]
    ]
    assert len(earliest) == 1  # one query for the earliest events of all visitors
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.first_touch_at, one.first_campaign_id) == (T0, spring.pk)
    assert (two.first_touch_at, two.first_touch) == (
        T0 - timedelta(hours=1),
        {"url": "https://example.jp/p/5"},
    )


def _queries(items: list[EventInput]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        events_record(items=items, actor=None)
    return [q["sql"] for q in queries]


def test_ingestion_without_visitors_to_stitch_pays_no_extra_query(spring: Campaign) -> None:
    """The benchmark's path (known contacts by email) and anonymous visitors' path: the
    lookups, the transaction and the insert; nothing for first touches."""
    for email in ("x@example.jp", "y@example.jp"):
        contact_upsert(email=email, actor=None)
    events_record(items=[_item(0, visitor_key="v-anon")], actor=None)
    by_email = [_item(i, email="x@example.jp" if i % 2 else "y@example.jp") for i in range(1, 9)]
    anonymous = [_item(i, visitor_key="v-anon") for i in range(10, 15)]
    for batch in (by_email, anonymous):
        sql = _queries(batch)
        statements = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE"))]
        # One look-up (contacts by email, or visitors by key) and the insert.
        assert len(statements) == 2, statements
        assert "INSERT INTO" in statements[1]
    assert Event.objects.count() == 14
