"""Routing of new MQLs: named accounts, ordered rules, weighted round robin, capacity,
out of office, races, and the set-based cost."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services import contact_change_stage
from renkei.handoff.models import Assignment, AssignmentMethod, AssignmentStatus, RoutingTally
from renkei.handoff.routing import mqls_route, mqls_unassigned
from renkei.handoff.services import routing_rule_save
from renkei.handoff.tests.factories import company, mql, rep


def _owner(contact: Contact) -> int | None:
    return Contact.objects.values_list("owner_id", flat=True).get(pk=contact.pk)


def test_named_account_keeps_its_owner(db: Any, manager: User) -> None:
    rep("a")
    owned = company(owner=manager)
    lead = mql(owned)
    mqls_route([lead.pk])
    a = Assignment.objects.get(contact=lead)
    assert a.user == manager and a.method == AssignmentMethod.NAMED_ACCOUNT
    assert _owner(lead) == manager.pk


def test_first_matching_rule_chooses_and_is_recorded(db: Any) -> None:
    east, west = rep("east"), rep("west")
    routing_rule_save(actor=None, name="関西", position=1, regions=["関西"], reps=[west])
    routing_rule_save(actor=None, name="関東 IT", position=2, regions=["関東"], reps=[east])
    osaka = mql(company(prefecture="大阪府"))
    tokyo = mql(prefecture="東京都")
    mqls_route([osaka.pk, tokyo.pk])
    by_contact = {a.contact_id: a for a in Assignment.objects.all()}
    assert by_contact[osaka.pk].user == west and by_contact[osaka.pk].rule_name == "関西"
    assert by_contact[tokyo.pk].user == east and by_contact[tokyo.pk].method == "rule"


def test_rule_conditions_industry_size_and_persona(db: Any) -> None:
    big = rep("big")
    rep("other")
    routing_rule_save(
        actor=None, name="大手製造", industries=["manufacturing"], employees_min=1000, reps=[big]
    )
    large = mql(company(industry="manufacturing", employee_count=5000))
    small = mql(company(industry="manufacturing", employee_count=50))
    unknown = mql(company(industry="manufacturing"))
    mqls_route([large.pk, small.pk, unknown.pk])
    users = dict(Assignment.objects.values_list("contact_id", "user__username"))
    assert users[large.pk] == "big"
    assert Assignment.objects.get(contact=small).method == AssignmentMethod.ROUND_ROBIN
    assert Assignment.objects.get(contact=unknown).method == AssignmentMethod.ROUND_ROBIN


def test_weighted_round_robin_shares_by_weight(db: Any) -> None:
    heavy = rep("heavy", weight=3, capacity=1000)
    light = rep("light", weight=1, capacity=1000)
    leads = [mql() for _ in range(40)]
    mqls_route([c.pk for c in leads])
    counts = dict(
        Assignment.objects.values_list("user_id")
        .annotate(n=models_count())
        .values_list("user_id", "n")
    )
    assert counts == {heavy.pk: 30, light.pk: 10}
    assert RoutingTally.objects.get(user=heavy, rule_key=0).count == 30


def models_count() -> Any:
    from django.db.models import Count

    return Count("id")


def test_out_of_office_and_full_reps_are_skipped(db: Any) -> None:
    away = rep("away", out_of_office_until=timezone.localdate() + timedelta(days=2))
    full = rep("full", capacity=1)
    free = rep("free", capacity=100)
    leads = [mql() for _ in range(5)]
    mqls_route([c.pk for c in leads])
    users = list(Assignment.objects.values_list("user_id", flat=True))
    assert away.pk not in users
    assert users.count(full.pk) == 1 and users.count(free.pk) == 4


def test_nobody_available_leaves_the_mql_unassigned_for_later(db: Any) -> None:
    rep("only", capacity=0)
    lead = mql()
    result = mqls_route([lead.pk])
    assert result.unassigned == [lead.pk] and not Assignment.objects.exists()
    assert mqls_unassigned() == [lead.pk]


def test_routing_twice_assigns_once(db: Any) -> None:
    rep("a")
    rep("b")
    lead = mql()
    first, second = mqls_route([lead.pk]), mqls_route([lead.pk])
    assert (first.assigned, second.assigned, second.skipped) == (1, 0, 1)
    assert Assignment.objects.filter(contact=lead).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_the_same_mqls_assign_each_once() -> None:
    rep("a")
    rep("b")
    leads = [mql().pk for _ in range(30)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait()
            mqls_route(leads)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Assignment.objects.count() == 30
    assert Assignment.objects.filter(status=AssignmentStatus.OPEN).count() == 30


def test_a_non_mql_is_not_routed(db: Any) -> None:
    rep("a")
    lead = mql(lifecycle_stage=LifecycleStage.LEAD)
    assert mqls_route([lead.pk]).skipped == 1


def test_becoming_mql_queues_routing(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    rep("a")
    lead = mql(lifecycle_stage=LifecycleStage.LEAD)
    with django_capture_on_commit_callbacks(execute=True):
        contact_change_stage(contact=lead, to_stage=LifecycleStage.MQL, actor=None)
    task = DBTaskResult.objects.get(task_path="renkei.handoff.tasks.route_mqls")
    assert task.args_kwargs["args"] == [[lead.pk]]


def test_assignment_sets_owner_audits_and_announces(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from renkei.handoff.signals import leads_assigned

    seen: list[dict[str, Any]] = []

    def listen(sender: Any, assignments: list[dict[str, Any]], **kwargs: Any) -> None:
        seen.extend(assignments)

    leads_assigned.connect(listen)
    try:
        a = rep("a")
        lead = mql()
        with django_capture_on_commit_callbacks(execute=True):
            mqls_route([lead.pk])
    finally:
        leads_assigned.disconnect(listen)
    assert _owner(lead) == a.pk
    assert AuditEntry.objects.filter(action="contact.owner", object_id=lead.pk).exists()
    assert AuditEntry.objects.filter(action="handoff.assign", object_id=lead.pk).exists()
    assert seen[0]["contact_id"] == lead.pk and seen[0]["user_id"] == a.pk
    assert seen[0]["previous_user_id"] is None
    assert DBTaskResult.objects.filter(task_path="renkei.handoff.tasks.notify_assignments").exists()


def test_routing_cost_does_not_grow_with_the_chunk(db: Any) -> None:
    for name in ("a", "b", "c"):
        rep(name)
    routing_rule_save(actor=None, name="関東", regions=["関東"])
    few = [mql(prefecture="東京都").pk for _ in range(3)]
    many = [mql(prefecture="東京都").pk for _ in range(60)]
    with CaptureQueriesContext(connection) as small:
        mqls_route(few)
    with CaptureQueriesContext(connection) as large:
        mqls_route(many)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_sweep_command_assigns_mqls_left_without_a_rep(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from renkei.handoff.models import RepSettings

    only = rep("only", capacity=0)
    lead = mql()
    mqls_route([lead.pk])
    RepSettings.objects.filter(user=only).update(capacity=5)
    out = StringIO()
    call_command("handoff_route", stdout=out)
    assert "1 assigned" in out.getvalue()
    assert Assignment.objects.get(contact=lead).user == only


def test_the_rule_list_names_industries_in_the_language_of_the_page(db: Any, manager: User) -> None:
    from django.test import Client
    from django.urls import reverse

    from conftest import PASSWORD

    routing_rule_save(actor=None, name="製造", industries=["manufacturing"], reps=[rep("a")])
    client = Client()
    assert client.login(username=manager.username, password=PASSWORD)
    page = client.get(reverse("handoff:rules"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "製造業" in page and "manufacturing" not in page
    english = client.get(reverse("handoff:rules"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Manufacturing" in english
