"""A bulk move to MQL (qualification moves thousands at once) is announced once, queues
one routing task per 1,000 contacts, and the worker then assigns them all."""

import math
from typing import Any

import pytest
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services import contact_change_stage, contacts_change_stage_bulk
from renkei.contacts.signals import stage_changed, stages_changed
from renkei.handoff.models import Assignment, AssignmentStatus
from renkei.handoff.tasks import route_mqls
from renkei.handoff.tests.factories import rep

ROUTE_TASK = "renkei.handoff.tasks.route_mqls"


def _leads(n: int) -> list[int]:
    Contact.objects.bulk_create(
        Contact(
            email=f"bulk{i}@example.jp",
            email_normalized=f"bulk{i}@example.jp",
            family_name="山田",
            lifecycle_stage=LifecycleStage.LEAD,
        )
        for i in range(n)
    )
    return list(Contact.objects.order_by("id").values_list("id", flat=True))


def _move_to_mql(ids: list[int]) -> list[int]:
    return contacts_change_stage_bulk(
        contact_ids=ids,
        to_stage=LifecycleStage.MQL,
        from_stages=[LifecycleStage.LEAD],
        reasons={},
        actor=None,
        source="qualification",
    )


def _route_tasks() -> list[list[int]]:
    return [
        t.args_kwargs["args"][0]
        for t in DBTaskResult.objects.filter(task_path=ROUTE_TASK).order_by("enqueued_at", "id")
    ]


@pytest.mark.parametrize("n", [1, 1000, 2500])
def test_a_bulk_move_to_mql_queues_one_routing_task_per_thousand_contacts(
    db: Any, django_capture_on_commit_callbacks: Any, n: int
) -> None:
    rep("a", capacity=10_000)
    rep("b", capacity=10_000)
    ids = _leads(n)
    with django_capture_on_commit_callbacks(execute=True):
        moved = _move_to_mql(ids)
    assert sorted(moved) == ids
    tasks = _route_tasks()
    assert len(tasks) == math.ceil(n / 1000)
    assert sorted(i for chunk in tasks for i in chunk) == ids
    # The worker runs them: every contact is assigned once.
    for chunk in tasks:
        route_mqls.call(chunk)
    open_ = Assignment.objects.filter(status=AssignmentStatus.OPEN)
    assert open_.count() == n
    assert set(open_.values_list("contact_id", flat=True)) == set(ids)
    assert not Contact.objects.filter(pk__in=ids, owner=None).exists()


def test_a_bulk_move_is_announced_once_and_each_contact_once(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    batches: list[int] = []
    singles: list[int] = []

    def on_batch(sender: Any, changes: list[Any], **kwargs: Any) -> None:
        batches.append(len(changes))

    def on_single(sender: Any, contact_id: int, **kwargs: Any) -> None:
        singles.append(contact_id)

    stages_changed.connect(on_batch)
    stage_changed.connect(on_single)
    try:
        ids = _leads(1200)  # three chunks of the bulk service, one announcement
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _move_to_mql(ids)
        assert len(callbacks) == 1
        with django_capture_on_commit_callbacks(execute=True):
            contact_change_stage(
                contact=Contact.objects.get(pk=ids[0]), to_stage=LifecycleStage.SAL, actor=None
            )
    finally:
        stages_changed.disconnect(on_batch)
        stage_changed.disconnect(on_single)
    assert batches == [1200, 1]
    assert sorted(singles) == sorted([*ids, ids[0]])


def test_a_single_move_to_mql_queues_one_task_not_two(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Routing listens to the batched signal only: the per-contact one adds no task."""
    ids = _leads(1)
    with django_capture_on_commit_callbacks(execute=True):
        contact_change_stage(
            contact=Contact.objects.get(pk=ids[0]), to_stage=LifecycleStage.MQL, actor=None
        )
    assert _route_tasks() == [ids]


@pytest.mark.django_db(transaction=True)
def test_the_worker_assigns_a_bulk_of_new_mqls(transactional_db: Any, monkeypatch: Any) -> None:
    if not isinstance(task_backends["default"], DatabaseBackend):
        pytest.skip("TASKS_BACKEND is not django_tasks_db: there is no queue for a worker")
    from renkei.tests.test_worker import run_worker

    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    rep("a", capacity=10_000)
    ids = _leads(1500)
    _move_to_mql(ids)  # no enclosing transaction: announced as the last chunk commits
    assert len(_route_tasks()) == 2
    worker = run_worker("--batch", "--no-startup-delay", "--interval", "0", "--no-reload")
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert Assignment.objects.filter(status=AssignmentStatus.OPEN).count() == 1500
    statuses = set(
        DBTaskResult.objects.filter(task_path=ROUTE_TASK).values_list("status", flat=True)
    )
    assert statuses == {"SUCCESSFUL"}


def test_a_bulk_move_out_of_mql_queues_one_unflag_and_one_deal_task_per_thousand(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ids = _leads(1500)
    Contact.objects.update(lifecycle_stage=LifecycleStage.MQL)
    with django_capture_on_commit_callbacks(execute=True):
        moved = contacts_change_stage_bulk(
            contact_ids=ids,
            to_stage=LifecycleStage.SQL,
            from_stages=[LifecycleStage.MQL],
            reasons={},
            actor=None,
            source="import",
        )
    assert len(moved) == 1500

    def queued(path: str) -> list[list[int]]:
        rows = DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at", "id")
        return [t.args_kwargs["args"][0] for t in rows]

    for path in ("renkei.qualification.tasks.unflag_contacts", "renkei.deals.tasks.deals_for_sql"):
        batches = queued(path)
        assert [len(b) for b in batches] == [1000, 500]
        assert sorted(i for b in batches for i in b) == sorted(ids)
