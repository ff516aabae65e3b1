"""The MQL decision: who moves to MQL and why, who is flagged (never demoted), and the
derived-data step, the full evaluation and the runs that carry it."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from renkei.accounts.models import AuditEntry
from renkei.contacts.derived import EVENTS, PROPERTIES, contacts_derive
from renkei.contacts.models import Contact, LifecycleTransition
from renkei.contacts.services import contact_change_stage
from renkei.contacts.signals import stage_changed
from renkei.qualification.models import ContactQualification, QualificationRun
from renkei.qualification.services import (
    contacts_qualify,
    qualification_evaluate_all,
    qualification_policy_update,
)
from renkei.qualification.tasks import qualify_all
from renkei.qualification.tests.factories import engaged, events, lead, persona, webinar_rule

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 JST
DAY = timedelta(days=1)


@pytest.fixture
def setup(marketer: User, sales_rep: User) -> None:
    persona(marketer, sales_rep)
    webinar_rule(points=45, half_life_days=30)


def _stage(contact: Contact) -> str:
    contact.refresh_from_db()
    return contact.lifecycle_stage


def _transition(contact: Contact) -> LifecycleTransition:
    return LifecycleTransition.objects.get(contact=contact, to_stage="mql")


def test_fit_and_engagement_qualify_with_the_reason_in_words(setup: None) -> None:
    yamada = lead(1)
    engaged(yamada, NOW)
    summary = contacts_qualify(contact_ids=[yamada.pk], now=NOW)
    assert summary.qualified == 1
    assert _stage(yamada) == "mql"
    transition = _transition(yamada)
    reason = "適合度 72 (基準 60 以上) かつ エンゲージメント 45点 (基準 40 以上)"
    assert (transition.from_stage, transition.source, transition.reason) == (
        "lead",
        "qualification",
        reason,
    )
    row = ContactQualification.objects.get(contact=yamada)
    assert (row.reason, row.fit, row.score, row.below_policy_since) == (reason, 72, 45, None)
    audit = AuditEntry.objects.get(action="contact.stage", object_id=yamada.pk)
    assert audit.changes == {"lifecycle_stage": ["lead", "mql"]}
    assert audit.actor_label == "system"


def test_fit_alone_or_engagement_alone_is_not_enough(setup: None) -> None:
    no_fit = lead(1, title="担当")
    engaged(no_fit, NOW)
    no_score = lead(2)
    contacts_qualify(contact_ids=[no_fit.pk, no_score.pk], now=NOW)
    assert (_stage(no_fit), _stage(no_score)) == ("lead", "lead")
    assert not ContactQualification.objects.exists()


def test_a_hand_raise_qualifies_on_its_own(setup: None) -> None:
    nobody = lead(1, title="担当")
    events(nobody, ("demo_request", NOW - 2 * DAY))
    contacts_qualify(contact_ids=[nobody.pk], now=NOW)
    assert _stage(nobody) == "mql"
    assert _transition(nobody).reason == "デモ申込 2026-11-18"


def test_the_hand_raise_window_is_respected(setup: None) -> None:
    old = lead(1, title="担当")
    events(old, ("demo_request", NOW - 91 * DAY), ("page_view", NOW))
    contacts_qualify(contact_ids=[old.pk], now=NOW)
    assert _stage(old) == "lead"
    qualification_policy_update(actor=None, hand_raise_window_days=120)
    contacts_qualify(contact_ids=[old.pk], now=NOW)
    assert _stage(old) == "mql"


def test_both_reasons_are_given_when_both_hold(setup: None) -> None:
    both = lead(1)
    engaged(both, NOW)
    events(both, ("contact_request", NOW - DAY))
    contacts_qualify(contact_ids=[both.pk], now=NOW)
    assert _transition(both).reason == (
        "お問い合わせ 2026-11-19、"
        "適合度 72 (基準 60 以上) かつ エンゲージメント 45点 (基準 40 以上)"
    )


@pytest.mark.parametrize("stage", ["sal", "sql", "opportunity", "customer", "disqualified"])
def test_contacts_further_on_or_out_are_never_moved(setup: None, stage: str) -> None:
    further = lead(1, lifecycle_stage=stage)
    engaged(further, NOW)
    events(further, ("demo_request", NOW))
    contacts_qualify(contact_ids=[further.pk], now=NOW)
    assert _stage(further) == stage
    assert not LifecycleTransition.objects.filter(contact=further, to_stage="mql").exists()


def test_subscribers_and_recycled_contacts_qualify_too(setup: None) -> None:
    subscriber = lead(1, lifecycle_stage="subscriber")
    recycled = lead(2, lifecycle_stage="recycled")
    for contact in (subscriber, recycled):
        events(contact, ("demo_request", NOW))
    contacts_qualify(contact_ids=[subscriber.pk, recycled.pk], now=NOW)
    assert (_stage(subscriber), _stage(recycled)) == ("mql", "mql")
    assert {_transition(subscriber).from_stage, _transition(recycled).from_stage} == {
        "subscriber",
        "recycled",
    }


def test_a_contact_is_moved_once(setup: None) -> None:
    yamada = lead(1)
    engaged(yamada, NOW)
    contacts_qualify(contact_ids=[yamada.pk], now=NOW)
    again = contacts_qualify(contact_ids=[yamada.pk], now=NOW + DAY)
    assert again.qualified == 0
    assert LifecycleTransition.objects.filter(contact=yamada, to_stage="mql").count() == 1


def test_a_decayed_mql_is_flagged_not_demoted_and_cleared_when_back(setup: None) -> None:
    yamada = lead(1)
    engaged(yamada, NOW)
    contacts_qualify(contact_ids=[yamada.pk], now=NOW)
    # 30 days later the webinar's 45 points are worth 23 (one half-life): below 40.
    later = NOW + 30 * DAY
    assert contacts_qualify(contact_ids=[yamada.pk], now=later).flagged == 1
    assert _stage(yamada) == "mql"
    row = ContactQualification.objects.get(contact=yamada)
    assert row.below_policy_since == later
    # Still below a day later: the flag keeps the day it was first set.
    contacts_qualify(contact_ids=[yamada.pk], now=later + DAY)
    row.refresh_from_db()
    assert row.below_policy_since == later
    # Two more webinars: back above the policy, the flag is cleared.
    engaged(yamada, later + 2 * DAY, times=2)
    assert contacts_qualify(contact_ids=[yamada.pk], now=later + 2 * DAY).cleared == 1
    row.refresh_from_db()
    assert (row.below_policy_since, _stage(yamada)) == (None, "mql")
    assert LifecycleTransition.objects.filter(contact=yamada).count() == 2  # created, mql


def test_a_hand_raise_keeps_an_mql_above_the_policy(setup: None) -> None:
    yamada = lead(1)
    engaged(yamada, NOW)
    contacts_qualify(contact_ids=[yamada.pk], now=NOW)
    events(yamada, ("demo_request", NOW + 29 * DAY))
    assert contacts_qualify(contact_ids=[yamada.pk], now=NOW + 30 * DAY).flagged == 0


def test_an_mql_set_by_hand_below_the_policy_is_flagged(setup: None, sales_rep: User) -> None:
    manual = lead(1, title="担当")
    contact_change_stage(contact=manual, to_stage="mql", actor=sales_rep)
    contacts_qualify(contact_ids=[manual.pk], now=NOW)
    row = ContactQualification.objects.get(contact=manual)
    assert (row.qualified_at, row.below_policy_since) == (None, NOW)


def test_an_inactive_policy_decides_nothing(setup: None) -> None:
    yamada = lead(1)
    engaged(yamada, NOW)
    qualification_policy_update(actor=None, active=False)
    assert contacts_qualify(contact_ids=[yamada.pk], now=NOW).qualified == 0
    assert qualification_evaluate_all(now=NOW).qualified == 0
    assert _stage(yamada) == "lead"


def test_stage_changed_is_sent_per_contact_after_commit(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[tuple[int, str, str]] = []

    def listen(sender: Any, contact_id: int, from_stage: str, to_stage: str, **kw: Any) -> None:
        received.append((contact_id, from_stage, to_stage))

    stage_changed.connect(listen)
    try:
        a, b = lead(1), lead(2, lifecycle_stage="subscriber")
        for c in (a, b):
            events(c, ("demo_request", NOW))
        with django_capture_on_commit_callbacks(execute=True):
            contacts_qualify(contact_ids=[a.pk, b.pk], now=NOW)
    finally:
        stage_changed.disconnect(listen)
    assert sorted(received) == [(a.pk, "lead", "mql"), (b.pk, "subscriber", "mql")]


# ---- the derived-data step ----------------------------------------------------------------


@pytest.mark.parametrize("trigger", [EVENTS, PROPERTIES])
def test_the_pipeline_step_qualifies(setup: None, trigger: str) -> None:
    yamada = lead(1)
    events(yamada, ("webinar_attended", NOW))
    if trigger == PROPERTIES:
        engaged(yamada, NOW)
    result = contacts_derive(contact_ids=[yamada.pk], trigger=trigger)
    assert result["qualification"] == 1
    assert _stage(yamada) == "mql"


# ---- the full evaluation ------------------------------------------------------------------


def test_the_full_evaluation_qualifies_and_flags(
    setup: None, sales_rep: User, django_capture_on_commit_callbacks: Any
) -> None:
    scored, raised, no = lead(1), lead(2, title="担当"), lead(3, title="担当")
    engaged(scored, NOW)
    events(raised, ("demo_request", NOW - DAY))
    engaged(no, NOW)
    manual = lead(4, title="担当")
    contact_change_stage(contact=manual, to_stage="mql", actor=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        summary = qualification_evaluate_all(now=NOW)
    assert (summary.qualified, summary.flagged) == (2, 1)
    assert [_stage(c) for c in (scored, raised, no, manual)] == ["mql", "mql", "lead", "mql"]
    # Their journey stage follows through the pipeline (one task for the moved contacts).
    from django_tasks_db.models import DBTaskResult

    follow_up = DBTaskResult.objects.filter(task_path__endswith="derive_contacts").last()
    assert follow_up is not None
    assert follow_up.args_kwargs["args"] == [sorted([scored.pk, raised.pk]), "properties"]
    # A flagged MQL that moved on (accepted by sales) is no longer flagged.
    contact_change_stage(contact=manual, to_stage="sal", actor=sales_rep)
    qualification_evaluate_all(now=NOW)
    assert ContactQualification.objects.get(contact=manual).below_policy_since is None


def _population(n: int, sales_rep: User) -> None:
    """n contacts of each kind: engaged fit leads, hand-raisers, MQLs to flag, MQLs to clear."""
    for i in range(n):
        engaged(lead(100 + i), NOW)
        events(lead(200 + i, title="担当"), ("demo_request", NOW))
        flag = lead(300 + i, title="担当")
        contact_change_stage(contact=flag, to_stage="mql", actor=sales_rep)
        clear = lead(400 + i)
        contact_change_stage(contact=clear, to_stage="mql", actor=sales_rep)
        ContactQualification.objects.create(contact=clear, below_policy_since=NOW, checked_at=NOW)
        engaged(clear, NOW)
        lead(500 + i, title="担当")  # never qualifies


def _evaluation_queries(n: int, sales_rep: User) -> int:
    """Queries of a full evaluation over n contacts of each kind (rolled back after)."""
    with transaction.atomic():
        _population(n, sales_rep)
        with CaptureQueriesContext(connection) as queries:
            summary = qualification_evaluate_all(now=NOW)
        assert (summary.qualified, summary.flagged, summary.cleared) == (2 * n, n, n)
        transaction.set_rollback(True)
    return len(queries)


def test_the_full_evaluation_costs_a_fixed_number_of_queries(setup: None, sales_rep: User) -> None:
    assert _evaluation_queries(2, sales_rep) == _evaluation_queries(12, sales_rep)


def test_rescore_and_persona_rebuild_queue_a_full_evaluation(
    setup: None, django_capture_on_commit_callbacks: Any
) -> None:
    from renkei.personas.services import contacts_fit_rebuild_all
    from renkei.scoring.services import rescore_run_execute

    with django_capture_on_commit_callbacks(execute=True):
        rescore_run_execute(actor=None)
    run = QualificationRun.objects.get()
    assert (run.status, run.trigger) == ("queued", "rebuilt:engagement")
    with django_capture_on_commit_callbacks(execute=True):
        contacts_fit_rebuild_all()
    assert QualificationRun.objects.count() == 1  # the queued run is reused
    assert DBTaskResult.objects.filter(task_path="renkei.qualification.tasks.qualify_all").exists()


def test_the_task_runs_a_queued_evaluation_once(setup: None) -> None:
    from renkei.qualification.services import qualification_run_enqueue

    raised = lead(1, title="担当")
    events(raised, ("demo_request", datetime.now(tz=UTC)))
    run = qualification_run_enqueue(actor=None)
    assert qualify_all.call(run.pk) == "done"
    assert qualify_all.call(run.pk) == "done"  # already claimed: left alone
    run.refresh_from_db()
    assert (run.contacts, run.qualified, run.flagged) == (1, 1, 0)
    assert _stage(raised) == "mql"


def test_the_command_prints_what_it_did(setup: None) -> None:
    raised = lead(1, title="担当")
    events(raised, ("demo_request", datetime.now(tz=UTC)))
    out = StringIO()
    call_command("qualify", stdout=out)
    assert "checked 1 contacts" in out.getvalue()
    assert "1 moved to MQL" in out.getvalue()
    assert _stage(raised) == "mql"


def test_leaving_mql_takes_the_flag_off(
    setup: None, sales_rep: User, django_capture_on_commit_callbacks: Any
) -> None:
    from renkei.qualification.tasks import unflag_contacts

    manual = lead(1, title="担当")
    contact_change_stage(contact=manual, to_stage="mql", actor=sales_rep)
    contacts_qualify(contact_ids=[manual.pk], now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        contact_change_stage(contact=manual, to_stage="sal", actor=sales_rep)
    task = DBTaskResult.objects.get(task_path="renkei.qualification.tasks.unflag_contacts")
    assert task.args_kwargs["args"] == [[manual.pk]]
    assert unflag_contacts.call([manual.pk]) == 1
    assert unflag_contacts.call([manual.pk]) == 0
    assert ContactQualification.objects.get(contact=manual).below_policy_since is None
