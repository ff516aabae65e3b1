"""The demo's sales side: routing set-up, hand-offs in every state with their SLA clocks,
and deals on the pipeline, consistent with the contacts' stages."""

from datetime import date, datetime, time
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact, LifecycleStage
from renkei.deals.models import Deal, DealContact, DealStageChange, DealStatus
from renkei.demo.deals import demo_deals_ensure
from renkei.demo.sales import DEMO_RULES, DEMO_TEAMS, demo_handoff_ensure, demo_sales_setup_ensure
from renkei.demo.services import demo_seed
from renkei.demo.world import JST
from renkei.events.models import Event
from renkei.handoff.models import (
    Assignment,
    AssignmentStatus,
    QueueState,
    RepSettings,
    RoutingRule,
    Team,
)
from renkei.handoff.services import QUEUE_REASONS, RECYCLE_REASONS
from renkei.sla.models import ClockKind, CloseReason, SlaBreach, SlaClock

UNTIL = date(2026, 3, 31)
UNTIL_AT = datetime.combine(UNTIL, time(0), tzinfo=JST)


def seed(contacts: int = 300, **kwargs: Any) -> Any:
    return demo_seed(contacts=contacts, seed=7, until=UNTIL, **kwargs)


@pytest.mark.django_db
def test_reps_have_teams_capacities_and_ordered_routing_rules() -> None:
    seed(contacts=50)
    assert Team.objects.count() == len(DEMO_TEAMS)
    reps = RepSettings.objects.select_related("user", "team")
    assert {r.user.username: (r.capacity, r.weight) for r in reps} == {
        "sales1": (40, 2), "sales2": (30, 1), "sales3": (40, 2), "sales4": (30, 1),
    }  # fmt: skip
    assert all(r.team is not None for r in reps)
    rules = list(RoutingRule.objects.order_by("position"))
    assert [r.name for r in rules] == [name for name, _, _ in DEMO_RULES]
    assert all(r.reps.exists() for r in rules)
    assert AuditEntry.objects.filter(action="routing_rule.create").count() == len(DEMO_RULES)


@pytest.mark.django_db
def test_hand_offs_in_every_state_match_the_contacts_stages() -> None:
    seed()
    states = set(Assignment.objects.values_list("status", flat=True))
    assert states == set(AssignmentStatus.values)
    stage = dict(Contact.objects.values_list("id", "lifecycle_stage"))
    owner = dict(Contact.objects.values_list("id", "owner_id"))
    for a in Assignment.objects.filter(status=AssignmentStatus.OPEN):
        assert stage[a.contact_id] == LifecycleStage.MQL
        assert owner[a.contact_id] == a.user_id  # routing made the rep the owner
    assert not (
        Assignment.objects.filter(status=AssignmentStatus.OPEN)
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    rejected = list(Assignment.objects.filter(status=AssignmentStatus.REJECTED))
    assert rejected
    for a in rejected:
        assert a.reason_code and a.decided_at is not None
        if a.reason_code in RECYCLE_REASONS:
            assert a.queue_state == QueueState.NONE
        if a.reason_code in QUEUE_REASONS:
            assert a.queue_state in (QueueState.PENDING, QueueState.DISMISSED)
    reassigned = Assignment.objects.get(status=AssignmentStatus.REASSIGNED)
    new = Assignment.objects.get(contact_id=reassigned.contact_id, status=AssignmentStatus.OPEN)
    assert new.previous_user_id == reassigned.user_id and new.method == "manual"
    methods = set(Assignment.objects.values_list("method", flat=True))
    assert {"rule", "named_account", "round_robin", "manual"} <= methods


@pytest.mark.django_db
def test_every_hand_off_has_clocks_some_met_some_breached_some_still_running() -> None:
    seed()
    now = timezone.now()
    clocks = SlaClock.objects.all()
    per_assignment = clocks.values("assignment_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_assignment} == {3}
    assert set(clocks.values_list("assignment_id", flat=True)) == set(
        Assignment.objects.values_list("id", flat=True)
    )
    breached = clocks.filter(breached_at__isnull=False)
    assert breached.exists() and clocks.filter(met_at__lte=now, breached_at=None).exists()
    assert SlaBreach.objects.count() == breached.count()
    # Open leads past their SLA, and fresh ones still within it.
    open_ids = Assignment.objects.filter(status=AssignmentStatus.OPEN).values("id")
    decision = clocks.filter(assignment_id__in=open_ids, kind=ClockKind.DECISION)
    assert decision.filter(breached_at__isnull=False).exists()
    assert decision.filter(breached_at=None, met_at=None, due_at__gt=now).exists()
    # The re-assignment closed the first rep's clocks as a record of the restart.
    assert clocks.filter(closed_reason=CloseReason.REASSIGNED).exists()
    # Touches are the rep's logged calls and emails.
    assert Event.objects.filter(client_event_id__contains="-h", type="call").exists()


@pytest.mark.django_db
def test_deals_in_several_stages_won_ones_made_customers() -> None:
    seed()
    statuses = set(Deal.objects.values_list("status", flat=True))
    assert statuses == set(DealStatus.values)
    open_stages = set(Deal.objects.filter(status=DealStatus.OPEN).values_list("stage", flat=True))
    assert len(open_stages) >= 2
    for deal in Deal.objects.prefetch_related("contacts").select_related("stage"):
        assert deal.amount >= 10_000 and deal.expected_close_date is not None
        assert deal.owner_id is not None and deal.contacts.exists()
        stages = {c.lifecycle_stage for c in deal.contacts.all()}
        if deal.status == DealStatus.WON:
            assert deal.stage.is_won and stages == {LifecycleStage.CUSTOMER}
        elif deal.status == DealStatus.LOST:
            assert deal.stage.is_lost and deal.lost_reason and deal.closed_at
        else:
            assert stages == {LifecycleStage.OPPORTUNITY}
        history = list(DealStageChange.objects.filter(deal=deal).order_by("occurred_at", "id"))
        assert history[0].from_stage_id is None and history[-1].to_stage_id == deal.stage_id
    # Today's work went through the services: a new deal for an SQL, a deal won.
    assert AuditEntry.objects.filter(action="deal.create").exists()
    won_today = AuditEntry.objects.filter(action="deal.move", changes__status__1="won")
    assert won_today.exists()


@pytest.mark.django_db
def test_seeding_again_adds_nothing_twice() -> None:
    seed(contacts=200)

    def counts() -> list[int]:
        models = (Team, RepSettings, RoutingRule, Assignment, SlaClock, SlaBreach, Deal,
                  DealContact, DealStageChange, Event)  # fmt: skip
        return [m.objects.count() for m in models]

    before = counts()
    assert demo_sales_setup_ensure() is False
    again = demo_handoff_ensure(seed=7, first_contact_id=1, until_at=UNTIL_AT)
    assert again.assignments == 0
    assert demo_deals_ensure(seed=7, first_contact_id=1, until_at=UNTIL_AT) == 0
    assert counts() == before
    # A second data set added with --force brings its own hand-offs, not a second
    # routing set-up, and still one open hand-off per contact.
    seed(contacts=60, force=True)
    assert RoutingRule.objects.count() == len(DEMO_RULES)
    assert Team.objects.count() == len(DEMO_TEAMS)
    assert Assignment.objects.filter(contact_id__gt=200).exists()
    assert not (
        Assignment.objects.filter(status=AssignmentStatus.OPEN)
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
