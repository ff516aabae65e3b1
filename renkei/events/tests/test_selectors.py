"""The shared timeline: events and transitions interleaved, newest first, keyset pages."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_change_stage, contact_upsert
from renkei.events.selectors import TimelineCursor, contact_timeline
from renkei.events.services import event_record_one


@pytest.fixture
def contact(db: Any) -> Contact:
    contact, _ = contact_upsert(email="timeline@example.jp", actor=None, family_name="時系")
    return contact


def _kinds(items: list[Any]) -> list[tuple[str, str]]:
    return [
        ("event", i.event.type) if i.event else ("transition", i.transition.to_stage) for i in items
    ]


def test_events_and_transitions_are_interleaved_newest_first(
    contact: Contact, sales_rep: User
) -> None:
    now = timezone.now()
    event_record_one(contact=contact, type="page_view", occurred_at=now - timedelta(days=3))
    contact_change_stage(contact=contact, to_stage="mql", actor=sales_rep)
    event_record_one(contact=contact, type="email_open", occurred_at=now + timedelta(hours=1))
    event_record_one(contact=contact, type="call", occurred_at=now - timedelta(days=1))
    page = contact_timeline(contact.pk)
    assert _kinds(page.items) == [
        ("event", "email_open"),
        ("transition", "mql"),
        ("transition", "lead"),  # created as a lead
        ("event", "call"),
        ("event", "page_view"),
    ]
    assert page.next_cursor is None
    assert page.items[1].transition is not None and page.items[1].transition.actor == sales_rep


def test_pages_never_skip_or_repeat_items_sharing_a_timestamp(contact: Contact) -> None:
    when = contact.created_at  # the same instant as the creation transition
    for _ in range(7):
        event_record_one(contact=contact, type="page_view", occurred_at=when)
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = contact_timeline(contact.pk, before=cursor, limit=3)
        seen += [(item.kind, item.id) for item in page.items]
        if page.next_cursor is None:
            break
        cursor = TimelineCursor.parse(str(page.next_cursor))  # round trip through a URL
    assert len(seen) == 8 and len(set(seen)) == 8
    assert seen[0][0] == "transition"  # at one instant the transition sorts first


def test_timeline_is_two_queries_however_long_the_history(
    contact: Contact, sales_rep: User, django_assert_num_queries: Any
) -> None:
    for i in range(30):
        event_record_one(contact=contact, type="page_view", properties={"url": f"/p/{i}"})
    contact_change_stage(contact=contact, to_stage="mql", actor=sales_rep)
    with django_assert_num_queries(2):
        page = contact_timeline(contact.pk, limit=20)
        labels = [(item.label, item.details) for item in page.items]
    assert len(labels) == 20 and page.next_cursor is not None


def test_other_contacts_history_is_not_shown(contact: Contact) -> None:
    other, _ = contact_upsert(email="other@example.jp", actor=None)
    event_record_one(contact=other, type="note", properties={"body": "別人"})
    assert _kinds(contact_timeline(contact.pk).items) == [("transition", "lead")]


def test_event_label_and_details_leave_out_the_body(contact: Contact) -> None:
    event_record_one(
        contact=contact, type="meeting", properties={"body": "商談", "logged_by": "sales1"}
    )
    event_record_one(contact=contact, type="custom.signup", properties={"plan": "pro"})
    custom, meeting = contact_timeline(contact.pk).items[:2]
    assert (custom.label, custom.details) == ("custom.signup", [("plan", "pro")])
    assert meeting.details == [] and meeting.label


@pytest.mark.parametrize(
    "text", ["", "garbage", "2026-04-01T10:00:00~event~1", "2026-04-01T10:00:00+09:00~x~1"]
)
def test_a_damaged_cursor_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        TimelineCursor.parse(text)
