"""Clocks: started by ``leads_assigned``, met by touches and by the decision, restarted with
a record on re-assignment, closed on rejection."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.contacts.services.lifecycle import contact_change_stage, contacts_change_stage_bulk
from renkei.events.services import event_record_one
from renkei.sla.models import ClockKind, CloseReason, SlaClock
from renkei.sla.selectors import clock_deadline, clock_deadlines, open_deadline_subquery
from renkei.sla.services import (
    Assignment,
    sla_clocks_start,
    sla_stages_changed,
    sla_touches_refresh,
)
from renkei.sla.tests.conftest import active_sla, assign, contact, jst, run_queued_derive

pytestmark = pytest.mark.django_db


def _clocks(contact_id: int) -> dict[str, SlaClock]:
    return {c.kind: c for c in SlaClock.objects.filter(contact_id=contact_id, closed_at=None)}


def test_no_clocks_without_an_active_agreement(sales_rep: User) -> None:
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assert not SlaClock.objects.exists()


def test_assignment_starts_three_clocks_on_the_business_calendar(
    marketer: User, manager: User, sales_rep: User
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))  # Friday 17:00
    clocks = _clocks(lead.pk)
    assert clocks[ClockKind.FIRST_TOUCH].due_at == jst(2026, 3, 9, 10, 0)  # 2h: Mon 10:00
    assert clocks[ClockKind.ATTEMPTS].due_at == jst(2026, 3, 11, 18, 0)  # 3 days: Wed close
    assert clocks[ClockKind.DECISION].due_at == jst(2026, 3, 9, 17, 0)  # 8h: Mon 17:00
    assert clocks[ClockKind.ATTEMPTS].attempts_required == 3
    assert {c.user_id for c in clocks.values()} == {sales_rep.pk}
    assert clock_deadline(lead.pk) == jst(2026, 3, 9, 10, 0)
    # The same signal twice (a retried delivery) adds nothing.
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assert SlaClock.objects.count() == 3


def test_no_decision_clock_when_the_contact_is_not_mql(
    marketer: User, manager: User, sales_rep: User
) -> None:
    active_sla(marketer, manager)
    lead = contact(1, stage="sal")
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assert set(_clocks(lead.pk)) == {ClockKind.FIRST_TOUCH, ClockKind.ATTEMPTS}


def test_touches_logged_in_the_ui_meet_first_touch_then_attempts(
    marketer: User, manager: User, sales_rep: User, on_commit: Any
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    # A touch before the assignment does not count; a note is not a touch.
    with on_commit():
        event_record_one(
            contact=lead, type="call", occurred_at=jst(2026, 3, 6, 16), actor=sales_rep
        )
        event_record_one(contact=lead, type="note", occurred_at=jst(2026, 3, 9, 9), actor=sales_rep)
        event_record_one(
            contact=lead, type="call", occurred_at=jst(2026, 3, 9, 9, 30), actor=sales_rep
        )
    run_queued_derive()
    clocks = _clocks(lead.pk)
    assert clocks[ClockKind.FIRST_TOUCH].met_at == jst(2026, 3, 9, 9, 30)
    assert clocks[ClockKind.ATTEMPTS].met_at is None
    assert clocks[ClockKind.ATTEMPTS].attempts_count == 1
    with on_commit():
        event_record_one(
            contact=lead, type="email_sent", occurred_at=jst(2026, 3, 9, 11), actor=sales_rep
        )
        event_record_one(
            contact=lead, type="meeting", occurred_at=jst(2026, 3, 10, 11), actor=sales_rep
        )
    run_queued_derive()
    attempts = _clocks(lead.pk)[ClockKind.ATTEMPTS]
    assert (attempts.attempts_count, attempts.met_at) == (3, jst(2026, 3, 10, 11))


def test_touches_posted_through_the_api_count(
    marketer: User, manager: User, sales_rep: User, sales_api: Any, on_commit: Any
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    with on_commit():
        response = sales_api.post_json(
            "/api/v1/events",
            {
                "events": [
                    {
                        "client_event_id": "crm-call-1",
                        "type": "call",
                        "identity": {"email": lead.email},
                        "occurred_at": "2026-03-09T09:15:00+09:00",
                    }
                ]
            },
        )
    assert response.json()["accepted"] == 1, response.content
    run_queued_derive()
    assert _clocks(lead.pk)[ClockKind.FIRST_TOUCH].met_at == jst(2026, 3, 9, 9, 15)


def test_leaving_mql_meets_the_decision_and_rejection_closes_touch_clocks(
    marketer: User, manager: User, sales_rep: User, on_commit: Any
) -> None:
    active_sla(marketer, manager)
    accepted, rejected = contact(1), contact(2)
    assign(accepted, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assign(rejected, sales_rep, 2, jst(2026, 3, 6, 17, 0))
    with on_commit():
        contact_change_stage(contact=accepted, to_stage="sal", actor=sales_rep)
        contact_change_stage(
            contact=rejected, to_stage="recycled", actor=sales_rep, reason="no budget"
        )
    clocks = _clocks(accepted.pk)
    assert clocks[ClockKind.DECISION].met_at is not None
    assert clocks[ClockKind.FIRST_TOUCH].met_at is None  # an accepted lead is still worked
    left = {c.kind: c for c in SlaClock.objects.filter(contact_id=rejected.pk)}
    assert left[ClockKind.DECISION].met_at is not None
    assert left[ClockKind.FIRST_TOUCH].closed_reason == CloseReason.REJECTED
    assert clock_deadlines([accepted.pk, rejected.pk]) == {
        accepted.pk: clocks[ClockKind.FIRST_TOUCH].due_at
    }


def test_reassignment_closes_old_clocks_with_a_record_and_starts_new_ones(
    marketer: User, manager: User, sales_rep: User, sales_rep2: User
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assign(lead, sales_rep2, 2, jst(2026, 3, 9, 9, 0), previous=sales_rep)
    old = SlaClock.objects.filter(assignment_id=1)
    assert {c.closed_reason for c in old} == {CloseReason.REASSIGNED}
    new = _clocks(lead.pk)
    assert {c.user_id for c in new.values()} == {sales_rep2.pk}
    assert new[ClockKind.FIRST_TOUCH].due_at == jst(2026, 3, 9, 11, 0)
    entry = AuditEntry.objects.get(action="sla.clocks_restart")
    assert entry.changes["closed"] == 3
    assert entry.changes["assignments"] == [[lead.pk, sales_rep.pk, sales_rep2.pk]]


def test_start_and_touch_refresh_are_set_based(
    marketer: User, manager: User, sales_rep: User, django_assert_max_num_queries: Any
) -> None:
    active_sla(marketer, manager)
    leads = [contact(n) for n in range(50)]
    items = [
        Assignment(c.pk, sales_rep.pk, 100 + i, jst(2026, 3, 6, 17)) for i, c in enumerate(leads)
    ]
    with django_assert_max_num_queries(12):
        assert sla_clocks_start(items) == 150
    with django_assert_max_num_queries(4):
        sla_touches_refresh([c.pk for c in leads])


def test_a_bulk_move_out_of_mql_meets_decisions_in_a_fixed_number_of_queries(
    marketer: User,
    manager: User,
    sales_rep: User,
    on_commit: Any,
    django_assert_max_num_queries: Any,
) -> None:
    """``stages_changed`` comes once for a bulk move: the clocks of every contact in it
    follow in two UPDATEs per 1,000 contacts, not two per contact."""
    active_sla(marketer, manager)
    leads = [contact(n) for n in range(30)]
    sla_clocks_start(
        Assignment(c.pk, sales_rep.pk, 100 + i, jst(2026, 3, 6, 17)) for i, c in enumerate(leads)
    )
    accepted, rejected = leads[:20], leads[20:]
    with on_commit():
        contacts_change_stage_bulk(
            contact_ids=[c.pk for c in accepted],
            to_stage="sal",
            from_stages=["mql"],
            reasons={},
            actor=None,
            source="test",
        )
    decision = SlaClock.objects.filter(kind=ClockKind.DECISION)
    assert decision.filter(met_at__isnull=False).count() == 20
    changes = [(c.pk, "mql", "recycled") for c in rejected]
    with django_assert_max_num_queries(2):
        sla_stages_changed(changes)
    assert decision.filter(met_at__isnull=False).count() == 30
    closed = SlaClock.objects.filter(closed_reason=CloseReason.REJECTED)
    assert set(closed.values_list("contact_id", flat=True)) == {c.pk for c in rejected}
    assert closed.count() == 20  # first touch and attempts of each rejected lead


def test_a_large_start_writes_every_clock_once(
    marketer: User, manager: User, sales_rep: User
) -> None:
    """More clocks than one INSERT statement carries; repeating the start adds nothing."""
    active_sla(marketer, manager)
    leads = [contact(n) for n in range(400)]
    items = [
        Assignment(c.pk, sales_rep.pk, 1000 + i, jst(2026, 3, 6, 17)) for i, c in enumerate(leads)
    ]
    assert sla_clocks_start(items) == 1200
    assert sla_clocks_start(items) == 1200  # the same assignments again
    assert SlaClock.objects.count() == 1200
    assert SlaClock.objects.filter(kind=ClockKind.DECISION).count() == 400
    first = SlaClock.objects.get(assignment_id=1000, kind=ClockKind.FIRST_TOUCH)
    assert (first.contact_id, first.user_id, first.attempts_count) == (leads[0].pk, sales_rep.pk, 0)


def test_the_deadline_subquery_orders_an_inbox(
    marketer: User, manager: User, sales_rep: User
) -> None:
    from renkei.contacts.models import Contact

    active_sla(marketer, manager)
    late, soon = contact(1), contact(2)
    assign(late, sales_rep, 1, jst(2026, 3, 9, 9, 0))
    assign(soon, sales_rep, 2, jst(2026, 3, 6, 9, 0))
    ordered = Contact.objects.annotate(sla_due=open_deadline_subquery()).order_by("sla_due")
    assert [c.pk for c in ordered] == [soon.pk, late.pk]
    # A breached clock is still owed: the lead keeps the deadline it missed (shown late).
    SlaClock.objects.filter(contact=soon).update(breached_at=timezone.now())
    due = dict(
        Contact.objects.annotate(sla_due=open_deadline_subquery()).values_list("id", "sla_due")
    )
    assert due[soon.pk] == SlaClock.objects.filter(contact=soon).order_by("due_at")[0].due_at
    SlaClock.objects.filter(contact=soon).update(met_at=timezone.now())
    after = Contact.objects.annotate(sla_due=open_deadline_subquery()).filter(pk=soon.pk)
    assert after.values_list("sla_due", flat=True).get() is None


def test_the_contact_page_shows_the_clocks(
    marketer: User, manager: User, sales_rep: User, sales_rep2: User
) -> None:
    from django.test import Client
    from django.urls import reverse

    from conftest import PASSWORD

    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    assign(lead, sales_rep2, 2, timezone.now(), previous=sales_rep)
    client = Client()
    assert client.login(username=sales_rep2.username, password=PASSWORD)
    page = client.get(reverse("contacts:detail", args=[lead.pk])).content.decode()
    assert 'id="sla-clocks"' in page
    assert "再割り当て" in page and "営業時間" in page
    other = contact(2)
    page = client.get(reverse("contacts:detail", args=[other.pk])).content.decode()
    assert 'id="sla-clocks"' not in page
