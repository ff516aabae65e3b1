"""Accept / reject by the rep, re-assignment by a manager, marketing's queue, and the
pages that drive them (inbox, open leads, rules, reps, fairness, results)."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from conftest import PASSWORD
from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services.common import Conflict
from renkei.events.models import Event
from renkei.handoff.models import Assignment, AssignmentStatus, QueueState, RoutingRule
from renkei.handoff.routing import mqls_route
from renkei.handoff.selectors import fairness, handoff_results, inbox_leads
from renkei.handoff.services import (
    assignment_accept,
    assignment_reassign,
    assignment_reject,
    queue_resolve,
)
from renkei.handoff.tests.factories import mql, rep


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _stage(contact_id: int) -> str:
    return Contact.objects.values_list("lifecycle_stage", flat=True).get(pk=contact_id)


def _login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _assigned_to(user: User, **fields: Any) -> Assignment:
    lead = mql(**fields)
    RoutingRule.objects.all().delete()
    mqls_route([lead.pk])
    a = Assignment.objects.get(contact=lead, status=AssignmentStatus.OPEN)
    if a.user_id != user.pk:
        a = assignment_reassign(assignment=a, to_user=user, actor=None)
    return a


def test_accept_moves_the_lead_to_sal(db: Any, sales_rep: User) -> None:
    a = _assigned_to(sales_rep)
    assignment_accept(assignment=a, actor=sales_rep)
    a.refresh_from_db()
    assert a.status == AssignmentStatus.ACCEPTED and a.decided_at is not None
    assert _stage(a.contact_id) == LifecycleStage.SAL
    assert AuditEntry.objects.filter(action="handoff.accept", object_id=a.contact_id).exists()


@pytest.mark.parametrize(
    ("code", "stage", "queued"),
    [
        ("not_now", LifecycleStage.RECYCLED, False),
        ("no_budget", LifecycleStage.RECYCLED, False),
        ("not_decision_maker", LifecycleStage.RECYCLED, False),
        ("competitor", LifecycleStage.DISQUALIFIED, False),
        ("wrong_data", LifecycleStage.DISQUALIFIED, True),
        ("duplicate", LifecycleStage.DISQUALIFIED, True),
        ("student_job_seeker", LifecycleStage.DISQUALIFIED, True),
    ],
)
def test_rejected_lead_goes_where_its_reason_says(
    db: Any, sales_rep: User, code: str, stage: str, queued: bool
) -> None:
    a = _assigned_to(sales_rep)
    assignment_reject(assignment=a, actor=sales_rep, reason_code=code)
    a.refresh_from_db()
    assert a.status == AssignmentStatus.REJECTED and a.reason_code == code
    assert _stage(a.contact_id) == stage
    assert (a.queue_state == QueueState.PENDING) is queued
    transition = Contact.objects.get(pk=a.contact_id).transitions.first()
    assert transition is not None and "rejected by sales" in transition.reason


def test_other_needs_a_text_and_unknown_codes_are_refused(db: Any, sales_rep: User) -> None:
    a = _assigned_to(sales_rep)
    with pytest.raises(ValidationError) as error:
        assignment_reject(assignment=a, actor=sales_rep, reason_code="other")
    assert "reason_text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        assignment_reject(assignment=a, actor=sales_rep, reason_code="bored")
    assert "reason_code" in error.value.message_dict
    assignment_reject(assignment=a, actor=sales_rep, reason_code="other", reason_text="海外拠点")
    assert _stage(a.contact_id) == LifecycleStage.RECYCLED


def test_a_rep_cannot_accept_someone_elses_lead(db: Any, sales_rep: User, sales_rep2: User) -> None:
    a = _assigned_to(sales_rep)
    with pytest.raises(PermissionDenied):
        assignment_accept(assignment=a, actor=sales_rep2)
    client = _login(sales_rep2)
    assert client.post(reverse("handoff:accept", args=[a.pk])).status_code == 403
    assert _stage(a.contact_id) == LifecycleStage.MQL


def test_a_stale_accept_after_reassignment_is_refused(
    db: Any, sales_rep: User, sales_rep2: User, manager: User
) -> None:
    a = _assigned_to(sales_rep)
    page = _login(sales_rep)  # the rep has the inbox open …
    new = assignment_reassign(assignment=a, to_user=sales_rep2, actor=manager, reason="休暇")
    assert new.previous_user_id == sales_rep.pk
    with pytest.raises(Conflict, match="re-assigned"):
        assignment_accept(assignment=a, actor=sales_rep)
    response = page.post(reverse("handoff:accept", args=[a.pk]))
    assert response.status_code == 409
    assert "別の担当者に再割り当てされました" in response.content.decode()  # Japanese UI
    assert _stage(a.contact_id) == LifecycleStage.MQL
    assert Contact.objects.get(pk=a.contact_id).owner_id == sales_rep2.pk


def test_a_lead_decided_once_cannot_be_decided_again(db: Any, sales_rep: User) -> None:
    a = _assigned_to(sales_rep)
    assignment_accept(assignment=a, actor=sales_rep)
    with pytest.raises(Conflict, match="already decided"):
        assignment_reject(assignment=a, actor=sales_rep, reason_code="not_now")


def test_reassignment_announces_the_previous_rep(
    db: Any,
    sales_rep: User,
    sales_rep2: User,
    manager: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from renkei.handoff.signals import leads_assigned

    seen: list[dict[str, Any]] = []

    def listen(sender: Any, assignments: list[dict[str, Any]], **kwargs: Any) -> None:
        seen.extend(assignments)

    a = _assigned_to(sales_rep)
    leads_assigned.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assignment_reassign(assignment=a, to_user=sales_rep2, actor=manager)
    finally:
        leads_assigned.disconnect(listen)
    assert seen[-1]["user_id"] == sales_rep2.pk and seen[-1]["previous_user_id"] == sales_rep.pk
    assert AuditEntry.objects.filter(action="handoff.reassign", object_id=a.contact_id).exists()


def test_marketing_returns_or_dismisses_queued_rejections(
    db: Any, sales_rep: User, marketer: User
) -> None:
    fixed = _assigned_to(sales_rep)
    dropped = _assigned_to(sales_rep)
    assignment_reject(assignment=fixed, actor=sales_rep, reason_code="wrong_data")
    assignment_reject(assignment=dropped, actor=sales_rep, reason_code="student_job_seeker")
    client = _login(marketer)
    page = client.get(reverse("handoff:queue"))
    assert (
        page.status_code == 200
        and str(Contact.objects.get(pk=fixed.contact_id)) in page.content.decode()
    )
    client.post(reverse("handoff:queue_action", args=[fixed.pk]), {"action": "return"})
    client.post(reverse("handoff:queue_action", args=[dropped.pk]), {"action": "dismiss"})
    assert _stage(fixed.contact_id) == LifecycleStage.LEAD
    assert _stage(dropped.contact_id) == LifecycleStage.DISQUALIFIED
    again = client.post(reverse("handoff:queue_action", args=[fixed.pk]), {"action": "return"})
    assert again.status_code == 409
    bad = client.post(reverse("handoff:queue_action", args=[dropped.pk]), {"action": "x"})
    assert bad.status_code == 400
    with pytest.raises(ValidationError):
        queue_resolve(assignment=fixed, actor=marketer, action="nope")


# ---- the inbox page -----------------------------------------------------------------------


def test_inbox_lists_own_open_leads_oldest_first_without_n_plus_one(
    db: Any, sales_rep: User, sales_rep2: User
) -> None:
    first = _assigned_to(sales_rep)
    second = _assigned_to(sales_rep)
    _assigned_to(sales_rep2)
    assert [a.pk for a in inbox_leads(sales_rep)] == [first.pk, second.pk]
    client = _login(sales_rep)
    client.get(reverse("handoff:inbox"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("handoff:inbox"))
    for _ in range(5):
        _assigned_to(sales_rep)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("handoff:inbox"))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_one_click_accept_and_reject_from_the_inbox(db: Any, sales_rep: User) -> None:
    a, b = _assigned_to(sales_rep), _assigned_to(sales_rep)
    client = _login(sales_rep)
    assert client.post(reverse("handoff:accept", args=[a.pk])).status_code == 302
    missing = client.post(reverse("handoff:reject", args=[b.pk]), {"reason_code": "other"})
    assert missing.status_code == 400 and "other" in missing.content.decode()
    bad = client.post(reverse("handoff:reject", args=[b.pk]), {"reason_code": "nope"})
    assert bad.status_code == 400
    ok = client.post(reverse("handoff:reject", args=[b.pk]), {"reason_code": "not_now"})
    assert ok.status_code == 302
    assert _stage(a.contact_id) == LifecycleStage.SAL
    assert _stage(b.contact_id) == LifecycleStage.RECYCLED


def test_logging_a_touch_records_an_event(db: Any, sales_rep: User, sales_rep2: User) -> None:
    a = _assigned_to(sales_rep)
    client = _login(sales_rep)
    for kind in ("call", "email_sent", "meeting"):
        response = client.post(reverse("handoff:touch", args=[a.pk]), {"type": kind, "note": "x"})
        assert response.status_code == 302
    assert sorted(Event.objects.filter(contact_id=a.contact_id).values_list("type", flat=True)) == [
        "call",
        "email_sent",
        "meeting",
    ]
    assert client.post(reverse("handoff:touch", args=[a.pk]), {"type": "fax"}).status_code == 400
    other = _login(sales_rep2)
    assert other.post(reverse("handoff:touch", args=[a.pk]), {"type": "call"}).status_code == 404


def test_pages_follow_the_roles(
    db: Any, sales_rep: User, marketer: User, manager: User, viewer: User
) -> None:
    pages = ["inbox", "leads", "fairness", "rules", "reps", "results", "queue"]
    allowed = {
        "sales": {"inbox", "rules"},
        "marketer": {"rules", "results", "queue"},
        "manager": set(pages),
        "viewer": {"rules"},
    }
    for user in (sales_rep, marketer, manager, viewer):
        client = _login(user)
        role = user.username if user.username != "sales1" else "sales"
        for page in pages:
            status = client.get(reverse(f"handoff:{page}")).status_code
            assert status == (200 if page in allowed[role] else 403), (role, page, status)


def test_manager_edits_rules_with_field_errors(db: Any, manager: User, sales_rep: User) -> None:
    client = _login(manager)
    bad = client.post(
        reverse("handoff:rule_new"),
        {"name": "", "position": "1", "employees_min": "500", "employees_max": "10"},
    )
    assert bad.status_code == 400
    assert "employees_max" in bad.context["form"].errors and "name" in bad.context["form"].errors
    ok = client.post(
        reverse("handoff:rule_new"),
        {
            "name": "関西",
            "position": "1",
            "is_active": "on",
            "regions": ["関西"],
            "reps": [str(sales_rep.pk)],
        },
    )
    assert ok.status_code == 302
    rule = RoutingRule.objects.get(name="関西")
    assert rule.regions == ["関西"] and list(rule.reps.all()) == [sales_rep]
    assert AuditEntry.objects.filter(action="routing_rule.create", object_id=rule.pk).exists()
    client.post(reverse("handoff:rule_edit", args=[rule.pk]), {"name": "関西2", "position": "2"})
    assert AuditEntry.objects.filter(action="routing_rule.update", object_id=rule.pk).exists()
    assert client.post(reverse("handoff:rule_delete", args=[rule.pk])).status_code == 302
    assert not RoutingRule.objects.exists()


def test_rep_settings_refuse_a_private_webhook(db: Any, manager: User, sales_rep: User) -> None:
    client = _login(manager)
    url = reverse("handoff:rep_edit", args=[sales_rep.pk])
    bad = client.post(url, {"capacity": "5", "weight": "2", "webhook_url": "http://127.0.0.1/x"})
    assert bad.status_code == 400 and "webhook_url" in bad.context["form"].errors
    bad = client.post(url, {"capacity": "-1", "weight": "0"})
    assert {"capacity", "weight"} <= set(bad.context["form"].errors)
    ok = client.post(url, {"capacity": "5", "weight": "2"})
    assert ok.status_code == 302
    assert sales_rep.rep_settings.capacity == 5  # type: ignore[attr-defined]
    team = client.post(reverse("handoff:team_new"), {"name": "東日本", "manager": str(manager.pk)})
    assert team.status_code == 302
    dup = client.post(reverse("handoff:team_new"), {"name": "東日本"})
    assert dup.status_code == 400


def test_fairness_compares_leads_with_weight(db: Any, manager: User) -> None:
    heavy = rep("heavy", weight=3, capacity=100)
    rep("light", weight=1, capacity=100)
    mqls_route([mql().pk for _ in range(8)])
    from django.utils import timezone

    today = timezone.localdate()
    rows = {r.user.username: r for r in fairness(today, today)}
    assert rows["heavy"].leads == 6 and rows["light"].leads == 2
    assert rows["heavy"].weight_share == pytest.approx(0.75)
    assert rows["heavy"].share == pytest.approx(0.75)
    response = _login(manager).get(reverse("handoff:fairness"))
    assert response.status_code == 200 and heavy.username in response.content.decode()


def test_results_per_campaign_source_and_persona(db: Any, sales_rep: User, marketer: User) -> None:
    webinar = Campaign.objects.create(name="ウェビナー")
    a = _assigned_to(sales_rep, first_campaign=webinar, source="form")
    b = _assigned_to(sales_rep, first_campaign=webinar, source="form")
    c = _assigned_to(sales_rep, source="import")
    assignment_accept(assignment=a, actor=sales_rep)
    assignment_reject(assignment=b, actor=sales_rep, reason_code="no_budget")
    assignment_reject(assignment=c, actor=sales_rep, reason_code="duplicate")
    from django.utils import timezone

    today = timezone.localdate()
    by_campaign = {r.label: r for r in handoff_results(today, today, "campaign")}
    assert by_campaign["ウェビナー"].acceptance_rate == 0.5
    assert by_campaign["ウェビナー"].reasons == {"no_budget": 1}
    by_source = {r.label: r for r in handoff_results(today, today, "source")}
    assert by_source["import"].reasons == {"duplicate": 1}
    assert {r.label for r in handoff_results(today, today, "persona")} == {""}
    page = _login(marketer).get(reverse("handoff:results"), {"by": "source"})
    assert page.status_code == 200 and "import" in page.content.decode()
    assert _login(marketer).get(reverse("handoff:results"), {"start": "junk"}).status_code == 200


def test_manager_reassigns_from_the_open_leads_page(
    db: Any, manager: User, sales_rep: User, sales_rep2: User
) -> None:
    a = _assigned_to(sales_rep)
    client = _login(manager)
    page = client.get(reverse("handoff:leads"))
    assert page.status_code == 200 and str(Contact.objects.get(pk=a.contact_id)) in (
        page.content.decode()
    )
    url = reverse("handoff:reassign", args=[a.pk])
    assert client.post(url, {"user": "999999"}).status_code == 400
    assert client.post(url, {"user": str(sales_rep2.pk), "reason": "休暇"}).status_code == 302
    assert Contact.objects.get(pk=a.contact_id).owner_id == sales_rep2.pk
    stale = client.post(url, {"user": str(sales_rep.pk)})
    assert stale.status_code == 409
    assert _login(sales_rep).post(url, {"user": str(sales_rep.pk)}).status_code == 403
