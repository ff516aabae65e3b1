"""Deals services: creation, moves, won/lost, the SQL → deal rule, pipeline editing."""

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact
from renkei.contacts.services import Conflict, contact_change_stage
from renkei.deals.models import Deal, DealStatus, PipelineStage
from renkei.deals.services import (
    deal_close,
    deal_create,
    deal_create_for_sql,
    deal_move,
    deal_update,
    pipeline_create,
    pipeline_default,
    pipeline_stage_delete,
    pipeline_stage_save,
)
from renkei.deals.tasks import deals_for_sql
from renkei.deals.tests.factories import contact, deal, stage

pytestmark = pytest.mark.django_db


def test_default_pipeline_has_the_japanese_stages_in_order() -> None:
    pipeline = pipeline_default()
    stages = list(pipeline.stages.order_by("order"))
    assert [s.name for s in stages] == ["初回商談", "提案", "見積", "交渉", "受注", "失注"]
    assert [s.name for s in stages if s.is_won] == ["受注"]
    assert [s.name for s in stages if s.is_lost] == ["失注"]


def test_new_deal_starts_in_first_stage_with_the_contacts_company(sales_rep: User) -> None:
    person = contact()
    created = deal(sales_rep, contact_ids=[person.pk])
    assert created.stage.name == "初回商談"
    assert created.status == DealStatus.OPEN
    assert created.company_id == person.company_id
    assert list(created.contacts.all()) == [person]
    assert AuditEntry.objects.filter(action="deal.create", object_id=created.pk).exists()
    assert created.stage_changes.count() == 1


@pytest.mark.parametrize(
    ("amount", "field"),
    [(-1, "amount"), (1.5, "amount"), ("100", "amount"), (True, "amount")],
)
def test_bad_amount_is_a_field_error(sales_rep: User, amount: Any, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        deal(sales_rep, amount=amount)
    assert field in exc.value.message_dict


def test_bad_fields_are_all_named(sales_rep: User) -> None:
    with pytest.raises(ValidationError) as exc:
        deal_create(
            name=" ",
            amount=-5,
            expected_close_date="2025-13-01",  # type: ignore[arg-type]
            contact_ids=[999999],
            actor=sales_rep,
        )
    assert set(exc.value.message_dict) == {"name", "amount", "expected_close_date", "contacts"}


def test_stage_from_another_pipeline_is_refused(sales_rep: User, manager: User) -> None:
    other = pipeline_create(name="パートナー経由", actor=manager)
    with pytest.raises(ValidationError) as exc:
        deal_create(
            name="x", pipeline=pipeline_default(), stage=stage("提案", other), actor=sales_rep
        )
    assert "stage" in exc.value.message_dict
    created = deal(sales_rep)
    with pytest.raises(ValidationError) as exc:
        deal_move(deal=created, to_stage=stage("提案", other), actor=sales_rep)
    assert "stage" in exc.value.message_dict


def test_move_records_history_and_audit(sales_rep: User) -> None:
    created = deal(sales_rep)
    change = deal_move(deal=created, to_stage=stage("提案"), actor=sales_rep)
    assert change is not None and change.from_stage is not None
    assert change.from_stage.name == "初回商談"
    created.refresh_from_db()
    assert created.stage.name == "提案"
    entry = AuditEntry.objects.get(action="deal.move", object_id=created.pk)
    assert entry.changes["stage"] == [stage("初回商談").pk, stage("提案").pk]


def test_stale_move_is_a_conflict(sales_rep: User) -> None:
    created = deal(sales_rep)
    seen = created.stage_id
    deal_move(deal=created, to_stage=stage("見積"), actor=sales_rep, expected_stage_id=seen)
    with pytest.raises(Conflict) as exc:
        deal_move(deal=created, to_stage=stage("交渉"), actor=sales_rep, expected_stage_id=seen)
    assert "見積" in exc.value.message_dict["stage"][0]


def test_lost_needs_a_reason_code(sales_rep: User) -> None:
    created = deal(sales_rep)
    for reason in ("", "because"):
        with pytest.raises(ValidationError) as exc:
            deal_move(deal=created, to_stage=stage("失注"), actor=sales_rep, lost_reason=reason)
        assert "lost_reason" in exc.value.message_dict
    deal_close(deal=created, won=False, lost_reason="competitor", note="A社に決定", actor=sales_rep)
    created.refresh_from_db()
    assert (created.status, created.lost_reason, created.close_note) == (
        DealStatus.LOST,
        "competitor",
        "A社に決定",
    )
    assert created.closed_at is not None


def test_won_marks_every_contact_customer(sales_rep: User) -> None:
    people = [contact("a@sakura.co.jp"), contact("b@sakura.co.jp")]
    created = deal(sales_rep, contact_ids=[p.pk for p in people])
    deal_close(deal=created, won=True, actor=sales_rep)
    created.refresh_from_db()
    assert created.status == DealStatus.WON and created.closed_at is not None
    stages = set(
        Contact.objects.filter(pk__in=[p.pk for p in people]).values_list(
            "lifecycle_stage", flat=True
        )
    )
    assert stages == {"customer"}


def test_reopening_a_lost_deal_clears_the_close(sales_rep: User) -> None:
    created = deal(sales_rep)
    deal_close(deal=created, won=False, lost_reason="timing", actor=sales_rep)
    deal_move(deal=created, to_stage=stage("交渉"), actor=sales_rep)
    created.refresh_from_db()
    assert (created.status, created.closed_at, created.lost_reason) == (DealStatus.OPEN, None, "")


def test_sales_rep_changes_only_own_deals_manager_changes_all(
    sales_rep: User, sales_rep2: User, manager: User, marketer: User
) -> None:
    theirs = deal(sales_rep2)
    with pytest.raises(PermissionDenied):
        deal_move(deal=theirs, to_stage=stage("提案"), actor=sales_rep)
    with pytest.raises(PermissionDenied):
        deal_update(deal=theirs, amount=5, actor=sales_rep)
    with pytest.raises(PermissionDenied):
        deal_update(deal=theirs, amount=5, actor=marketer)
    deal_update(deal=theirs, amount=5, actor=manager)
    deal_move(deal=theirs, to_stage=stage("提案"), actor=manager)
    theirs.refresh_from_db()
    assert (theirs.amount, theirs.stage.name) == (5, "提案")


def test_update_changes_contacts_and_audits(sales_rep: User) -> None:
    a, b = contact("a@sakura.co.jp"), contact("b@sakura.co.jp")
    created = deal(sales_rep, contact_ids=[a.pk])
    deal_update(
        deal=created, contact_ids=[b.pk], expected_close_date=date(2025, 9, 30), actor=sales_rep
    )
    assert list(created.contacts.all()) == [b]
    entry = AuditEntry.objects.get(action="deal.update", object_id=created.pk)
    assert entry.changes["contacts"] == [[a.pk], [b.pk]]
    assert entry.changes["expected_close_date"] == [None, "2025-09-30"]


# ---- SQL → deal ------------------------------------------------------------------------


def test_contact_reaching_sql_gets_a_deal_and_moves_to_opportunity(
    sales_rep: User, django_capture_on_commit_callbacks: Any
) -> None:
    from renkei.campaigns.models import Campaign

    campaign = Campaign.objects.create(name="展示会2025", channel="trade_show")
    person = contact(lifecycle_stage="sal")
    Contact.objects.filter(pk=person.pk).update(owner=sales_rep, first_campaign=campaign)
    contact_change_stage(contact=person, to_stage="sql", actor=sales_rep)
    assert deals_for_sql.call([person.pk]) == 1
    created = Deal.objects.get()
    assert created.owner == sales_rep
    assert created.company_id == person.company_id
    assert created.source_campaign == campaign
    assert list(created.contacts.all()) == [person]
    person.refresh_from_db()
    assert person.lifecycle_stage == "opportunity"
    # Twice is harmless: the contact is no longer at SQL.
    assert deals_for_sql.call([person.pk]) == 0
    assert Deal.objects.count() == 1


def test_receiver_queues_the_task_on_sql(
    sales_rep: User, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    person = contact(lifecycle_stage="sal")
    with django_capture_on_commit_callbacks(execute=True):
        contact_change_stage(contact=person, to_stage="sql", actor=sales_rep)
    assert DBTaskResult.objects.filter(task_path__endswith="deals_for_sql").count() == 1


def test_sql_contact_with_an_open_deal_gets_no_second_deal(sales_rep: User) -> None:
    person = contact(lifecycle_stage="sal")
    deal(sales_rep, contact_ids=[person.pk])
    contact_change_stage(contact=person, to_stage="sql", actor=sales_rep)
    assert deal_create_for_sql(contact_id=person.pk) is None
    assert Deal.objects.count() == 1
    person.refresh_from_db()
    assert person.lifecycle_stage == "opportunity"


# ---- pipelines -------------------------------------------------------------------------


def test_stage_edit_is_validated_and_audited(manager: User) -> None:
    pipeline = pipeline_default()
    with pytest.raises(ValidationError) as exc:
        pipeline_stage_save(
            pipeline=pipeline,
            stage=None,
            actor=manager,
            name="",
            order=-1,
            probability=120,
            is_won=True,
            is_lost=True,
        )
    assert set(exc.value.message_dict) == {"name", "order", "probability", "is_lost"}
    saved = pipeline_stage_save(
        pipeline=pipeline,
        stage=stage("提案"),
        actor=manager,
        name="提案・デモ",
        order=20,
        probability=35,
        is_won=False,
        is_lost=False,
    )
    assert (saved.name, saved.probability) == ("提案・デモ", 35)
    assert AuditEntry.objects.filter(action="pipeline.stage_update", object_id=saved.pk).exists()


def test_pipeline_keeps_a_won_and_a_lost_stage(manager: User) -> None:
    with pytest.raises(ValidationError):
        pipeline_stage_delete(stage=stage("受注"), actor=manager)
    assert PipelineStage.objects.filter(name="受注").exists()


def test_stage_with_deals_is_not_deleted_nor_flipped(sales_rep: User, manager: User) -> None:
    deal(sales_rep)
    first = stage("初回商談")
    with pytest.raises(ValidationError):
        pipeline_stage_delete(stage=first, actor=manager)
    with pytest.raises(ValidationError) as exc:
        pipeline_stage_save(
            pipeline=first.pipeline,
            stage=first,
            actor=manager,
            name=first.name,
            order=first.order,
            probability=10,
            is_won=True,
            is_lost=False,
        )
    assert "is_won" in exc.value.message_dict
