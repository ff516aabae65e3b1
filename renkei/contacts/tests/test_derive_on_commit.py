"""Writes of contacts and companies queue the derived-data pipeline once per service call,
after commit, for the contacts whose data changed — never once per row, never for nothing."""

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from renkei.contacts import derived
from renkei.contacts.derived import EVENTS, PROPERTIES
from renkei.contacts.models import Company, Contact
from renkei.contacts.services import (
    company_delete,
    company_merge,
    company_update,
    company_upsert,
    contact_edit,
    contact_merge,
    contact_update,
    contact_upsert,
    contacts_bulk_upsert,
    contacts_ensure_for_emails,
)
from renkei.contacts.services.bulk_upsert import ContactRow

pytestmark = pytest.mark.django_db


def _queued() -> list[tuple[list[int], str]]:
    """The pipeline tasks queued so far, oldest first: (contact ids, trigger)."""
    tasks = DBTaskResult.objects.filter(task_path="renkei.contacts.tasks.derive_contacts")
    return [
        (sorted(t.args_kwargs["args"][0]), t.args_kwargs["args"][1])
        for t in tasks.order_by("enqueued_at", "id")
    ]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the callbacks of the block as if its transaction committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_new_contact_queues_once_for_itself(marketer: Any, on_commit: Any) -> None:
    with on_commit():
        contact, created = contact_upsert(
            email="new@example.jp", title="部長", company_name="株式会社ABC", actor=marketer
        )
    assert created
    assert _queued() == [([contact.pk], PROPERTIES)]


def test_an_update_through_nested_services_queues_once(marketer: Any, on_commit: Any) -> None:
    company, _ = company_upsert(name="株式会社ABC", actor=marketer)
    contact, _ = contact_upsert(email="a@example.jp", company=company, actor=marketer)
    other, _ = contact_upsert(email="b@example.jp", company=company, actor=marketer)
    with on_commit():
        # contact_upsert → company_upsert → company_update (fills the domain: its
        # contacts) and → contact_update (the title): one enqueue for all of them.
        contact_upsert(
            email="a@example.jp",
            title="部長",
            company_name="株式会社ABC",
            company_domain="abc.co.jp",
            actor=marketer,
        )
    assert _queued() == [(sorted([contact.pk, other.pk]), PROPERTIES)]


def test_unchanged_writes_queue_nothing(marketer: Any, on_commit: Any) -> None:
    company, _ = company_upsert(name="株式会社ABC", industry="it", actor=marketer)
    contact, _ = contact_upsert(email="a@example.jp", title="部長", company=company, actor=marketer)
    with on_commit():
        contact_upsert(email="A@Example.jp", title="部長", actor=marketer)
        contact_update(contact=contact, title="部長", actor=marketer)
        contact_edit(contact=contact, department="", actor=marketer)
        company_update(company=company, industry="it", actor=marketer)
        company_upsert(name="株式会社ABC", actor=marketer)
    assert _queued() == []


def test_a_company_edit_queues_its_contacts_reading_them_in_one_query(
    marketer: Any, on_commit: Any
) -> None:
    company, _ = company_upsert(name="株式会社ABC", actor=marketer)
    stranger, _ = contact_upsert(email="x@example.jp", actor=marketer)

    def edit(industry: str) -> int:
        with CaptureQueriesContext(connection) as queries, on_commit():
            company_update(company=company, industry=industry, actor=marketer)
        return sum(1 for q in queries if 'FROM "contacts_contact"' in q["sql"])

    ids = [contact_upsert(email="c0@example.jp", company=company, actor=marketer)[0].pk]
    assert edit("it") == 1
    ids += [
        contact_upsert(email=f"c{n}@example.jp", company=company, actor=marketer)[0].pk
        for n in range(1, 30)
    ]
    assert edit("finance") == 1
    assert _queued() == [(ids[:1], PROPERTIES), (sorted(ids), PROPERTIES)]
    assert stranger.pk not in _queued()[1][0]


def test_deleting_a_company_queues_the_contacts_it_leaves(marketer: Any, on_commit: Any) -> None:
    company, _ = company_upsert(name="株式会社ABC", actor=marketer)
    contact, _ = contact_upsert(email="a@example.jp", company=company, actor=marketer)
    with on_commit():
        company_delete(company=company, actor=marketer)
    assert _queued() == [([contact.pk], PROPERTIES)]


def test_merges_queue_the_surviving_contacts(marketer: Any, on_commit: Any) -> None:
    keep, _ = company_upsert(name="株式会社ABC", actor=marketer)
    merge, _ = company_upsert(name="XYZ株式会社", domain="xyz.co.jp", actor=marketer)
    a, _ = contact_upsert(email="a@example.jp", company=keep, actor=marketer)
    b, _ = contact_upsert(email="b@example.jp", company=merge, actor=marketer)
    loser, _ = contact_upsert(email="c@example.jp", title="部長", actor=marketer)
    with on_commit():
        company_merge(keep=keep, merge=merge, actor=marketer)  # keep takes the domain
    with on_commit():
        contact_merge(winner=a, loser=loser, actor=marketer)
    # The contact merge also moves the loser's events: the events steps run for the winner.
    assert _queued() == [
        (sorted([a.pk, b.pk]), PROPERTIES),
        ([a.pk], PROPERTIES),
        ([a.pk], EVENTS),
    ]


def test_a_rolled_back_write_queues_nothing(marketer: Any, on_commit: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    with on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        contact_update(contact=contact, title="部長", actor=marketer)
        raise RuntimeError("the caller gives up")
    assert _queued() == []


def test_bulk_upsert_queues_once_per_call_for_created_and_changed_contacts(
    marketer: Any, on_commit: Any
) -> None:
    rows = [ContactRow(email=f"r{n}@example.jp") for n in range(2500)]
    with on_commit():
        result = contacts_bulk_upsert(rows=rows, actor=marketer)
    created = sorted(i for i in result.contact_ids if i is not None)
    # One enqueue for the call: a task per 1,000 contacts, not one per row.
    assert [len(ids) for ids, _ in _queued()] == [derived.CHUNK, derived.CHUNK, 500]
    assert sorted(i for ids, _ in _queued() for i in ids) == created
    DBTaskResult.objects.all().delete()

    with on_commit():
        contacts_bulk_upsert(rows=rows, actor=marketer)  # the same file again
    assert _queued() == []

    changed = [ContactRow(email="r7@example.jp", contact={"title": "部長"}), *rows[:3]]
    with on_commit():
        contacts_bulk_upsert(rows=changed, actor=marketer)
    assert _queued() == [([result.contact_ids[7]], PROPERTIES)]


def test_bulk_upsert_filling_a_company_queues_all_its_contacts(
    marketer: Any, on_commit: Any
) -> None:
    company, _ = company_upsert(name="株式会社ABC", actor=marketer)
    others = [
        contact_upsert(email=f"o{n}@example.jp", company=company, actor=marketer)[0].pk
        for n in range(3)
    ]
    row = ContactRow(email="o0@example.jp", company={"name": "株式会社ABC", "prefecture": "大阪"})
    with on_commit():
        contacts_bulk_upsert(rows=[row], actor=marketer)
    assert Company.objects.get(pk=company.pk).prefecture == "大阪府"
    assert _queued() == [(sorted(others), PROPERTIES)]


def test_contacts_created_by_event_ingestion_are_queued(marketer: Any, on_commit: Any) -> None:
    existing, _ = contact_upsert(email="old@example.jp", actor=marketer)
    with on_commit():
        found = contacts_ensure_for_emails(
            emails={"old@example.jp", "new1@example.jp", "new2@example.jp"},
            actor=None,
            source="api",
        )
    new = sorted(found[e] for e in ("new1@example.jp", "new2@example.jp"))
    assert _queued() == [(new, PROPERTIES)]
    assert Contact.objects.count() == 3 and existing.pk not in new
