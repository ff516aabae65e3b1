"""Journey stages as data: defaults, validation naming each field, audit, and the
set-based computation of each contact's current stage."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event
from renkei.events.services import event_record_one
from renkei.journey.models import ContactJourney, JourneyStage
from renkei.journey.selectors import journey_stage_counts
from renkei.journey.services import (
    contacts_journey_refresh,
    journey_stage_create,
    journey_stage_delete,
    journey_stage_update,
)

pytestmark = pytest.mark.django_db

DEFAULT_NAMES = ["認知", "興味・関心", "比較・検討", "商談", "受注", "継続"]


def _stage(name: str) -> JourneyStage:
    return JourneyStage.objects.get(name=name)


def _event(contact: Contact, type_: str, n: int = 0, **properties: Any) -> None:
    Event.objects.create(
        client_event_id=f"{contact.pk}-{type_}-{n}-{properties}",
        type=type_,
        occurred_at=timezone.now(),
        contact=contact,
        properties=properties,
    )


def _stage_of(contact: Contact) -> str | None:
    row = ContactJourney.objects.filter(contact=contact).select_related("stage").first()
    return row.stage.name if row else None


def test_default_stages_exist_after_migrate_in_order() -> None:
    stages = list(JourneyStage.objects.order_by("position"))
    assert [s.name for s in stages] == DEFAULT_NAMES
    assert stages[0].name_en == "Awareness"
    assert "customer" in _stage("受注").lifecycle_stages
    assert {"kind": "event", "type": "meeting"} in _stage("商談").entry_signals


def _create(marketer: Any, **overrides: Any) -> JourneyStage:
    fields: dict[str, Any] = {"name": "導入支援", "name_en": "Onboarding", "position": 55}
    fields.update(overrides)
    return journey_stage_create(actor=marketer, **fields)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"entry_signals": [{"kind": "event", "type": "telepathy"}]}, "entry_signals", "telepathy"),
        (
            {"entry_signals": [{"kind": "event", "type": "page_view", "property": "url"}]},
            "entry_signals",
            "シグナル 1",
        ),
        (
            {
                "entry_signals": [
                    {"kind": "property", "field": "salary", "op": "equals", "value": "1"}
                ]
            },
            "entry_signals",
            "salary",
        ),
        (
            {"entry_signals": [{"kind": "property", "field": "title", "op": "like", "value": "x"}]},
            "entry_signals",
            "like",
        ),
        ({"lifecycle_stages": ["lead", "prospect"]}, "lifecycle_stages", "prospect"),
        ({"name": "認知"}, "name", ""),
        ({"name_en": "Awareness"}, "name_en", ""),
        ({"position": 10}, "position", "10"),
        ({"position": 40000}, "position", "32767"),
        ({"name": "長" * 101}, "name", "100"),
        ({"name": "  "}, "name", ""),
        (
            {"content_notes": [{"title": "x", "url": "javascript:alert(1)"}]},
            "content_notes",
            "http",
        ),
        ({"campaign_ids": [999999]}, "campaigns", "999999"),
    ],
)
def test_bad_stage_definitions_are_refused_naming_the_field(
    marketer: Any, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _create(marketer, **overrides)
    assert field in caught.value.message_dict
    assert fragment in " ".join(caught.value.message_dict[field])
    assert not JourneyStage.objects.filter(name="導入支援").exists()


def test_moving_a_stage_onto_another_position_is_refused_as_ambiguous(marketer: Any) -> None:
    # Stages form one path by position: two stages at the same place would be a cycle
    # (each both before and after the other), so the update is refused.
    stage = _stage("継続")
    with pytest.raises(ValidationError) as caught:
        journey_stage_update(actor=marketer, stage=stage, name="継続", position=50)
    assert "position" in caught.value.message_dict
    stage.refresh_from_db()
    assert stage.position == 60


def test_create_update_delete_are_audited_with_changes(marketer: Any) -> None:
    stage = _create(marketer, lifecycle_stages=["customer"])
    journey_stage_update(
        actor=marketer,
        stage=stage,
        name="導入支援",
        name_en="Onboarding",
        position=55,
        lifecycle_stages=["customer"],
        entry_signals=[{"kind": "event", "type": "call"}],
    )
    journey_stage_delete(actor=marketer, stage=stage)
    entries = list(AuditEntry.objects.filter(object_type="journey.journeystage").order_by("id"))
    assert [e.action for e in entries] == [
        "journey_stage.create",
        "journey_stage.update",
        "journey_stage.delete",
    ]
    assert entries[1].changes == {"entry_signals": [[], [{"kind": "event", "type": "call"}]]}
    assert all(e.actor_id == marketer.pk for e in entries)


def test_contact_stage_comes_from_lifecycle_mapping(marketer: Any) -> None:
    subscriber, _ = contact_upsert(
        email="a@example.jp", actor=marketer, lifecycle_stage="subscriber"
    )
    customer, _ = contact_upsert(email="b@example.jp", actor=marketer, lifecycle_stage="customer")
    opportunity, _ = contact_upsert(
        email="c@example.jp", actor=marketer, lifecycle_stage="opportunity"
    )
    contacts_journey_refresh()
    assert _stage_of(subscriber) == "認知"
    assert _stage_of(customer) == "受注"
    assert _stage_of(opportunity) == "商談"


def test_contact_stage_comes_from_events_and_the_furthest_wins(marketer: Any) -> None:
    contact, _ = contact_upsert(email="d@example.jp", actor=marketer, lifecycle_stage="subscriber")
    _event(contact, "page_view", url="https://example.jp/blog/1")
    contacts_journey_refresh(contact_ids=[contact.pk])
    assert _stage_of(contact) == "認知"
    _event(contact, "page_view", n=1, url="https://example.jp/pricing")
    _event(contact, "webinar_attended")
    contacts_journey_refresh(contact_ids=[contact.pk])
    assert _stage_of(contact) == "比較・検討"


def test_contact_property_signal_places_the_contact(marketer: Any) -> None:
    renewed, _ = contact_upsert(
        email="e@example.jp",
        actor=marketer,
        lifecycle_stage="customer",
        properties={"contract": "renewed"},
    )
    _create(
        marketer,
        entry_signals=[{"kind": "property", "field": "title", "op": "contains", "value": "部長"}],
        position=5,
    )
    manager_contact, _ = contact_upsert(
        email="f@example.jp", actor=marketer, lifecycle_stage="recycled", title="情報システム部長"
    )
    contacts_journey_refresh()
    assert _stage_of(renewed) == "継続"
    assert _stage_of(manager_contact) == "導入支援"


def test_since_is_kept_while_the_stage_stays_and_rows_leave_when_nothing_matches(
    marketer: Any,
) -> None:
    contact, _ = contact_upsert(email="g@example.jp", actor=marketer, lifecycle_stage="lead")
    assert contacts_journey_refresh() == 1
    since = ContactJourney.objects.get(contact=contact).since
    assert contacts_journey_refresh() == 0
    assert ContactJourney.objects.get(contact=contact).since == since
    Contact.objects.filter(pk=contact.pk).update(lifecycle_stage="disqualified")
    assert contacts_journey_refresh(contact_ids=[contact.pk]) == 1
    assert _stage_of(contact) is None


def _make_contacts(count: int, offset: int) -> list[Contact]:
    contacts = Contact.objects.bulk_create(
        Contact(
            email=f"p{offset + i}@example.jp",
            email_normalized=f"p{offset + i}@example.jp",
            lifecycle_stage="lead",
        )
        for i in range(count)
    )
    Event.objects.bulk_create(
        Event(client_event_id=f"m{c.pk}", type="meeting", occurred_at=timezone.now(), contact=c)
        for c in contacts[::2]
    )
    return contacts


def test_refresh_query_count_does_not_grow_with_contacts(marketer: Any) -> None:
    _make_contacts(5, 0)
    with CaptureQueriesContext(connection) as few:
        contacts_journey_refresh()
    ContactJourney.objects.all().delete()
    _make_contacts(200, 100)
    with CaptureQueriesContext(connection) as many:
        contacts_journey_refresh()
    assert len(many) == len(few)
    assert journey_stage_counts() == {_stage("商談").pk: 103, _stage("興味・関心").pk: 102}


def test_recorded_events_refresh_the_journey_through_the_pipeline(
    sales_rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from renkei.contacts.derived import EVENTS, contacts_derive, derived_steps

    assert "journey" in [step.name for step in derived_steps(EVENTS)]
    contact, _ = contact_upsert(email="h@example.jp", actor=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        event_record_one(contact=contact, type="meeting", actor=sales_rep)
    queued = DBTaskResult.objects.filter(task_path__endswith="derive_contacts")
    assert [task.args_kwargs["args"] for task in queued] == [[[contact.pk], EVENTS]]
    assert contacts_derive(contact_ids=[contact.pk], trigger=EVENTS)["journey"] == 1
    assert ContactJourney.objects.get(contact=contact).stage == _stage("商談")


def test_contact_field_values_are_nfkc_normalised_like_contacts(marketer: Any) -> None:
    stage = _create(
        marketer,
        entry_signals=[{"kind": "property", "field": "title", "op": "contains", "value": "ﾌﾞﾁｮｳ"}],
    )
    assert stage.entry_signals[0]["value"] == "ブチョウ"
