"""contacts_change_stage_bulk, the set-based stage service the MQL decision moves
contacts with: conditional on the stage, recorded and audited like a move by hand."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact, LifecycleTransition
from renkei.contacts.services import contact_upsert, contacts_change_stage_bulk


def _contacts(n: int, stage: str = "lead", start: int = 0) -> list[Contact]:
    return [
        contact_upsert(email=f"b{start + i}@example.jp", actor=None, lifecycle_stage=stage)[0]
        for i in range(n)
    ]


def _move(ids: list[int], actor: Any = None, **kw: Any) -> list[int]:
    args: dict[str, Any] = {
        "contact_ids": ids,
        "to_stage": "mql",
        "from_stages": ["subscriber", "lead"],
        "reasons": {pk: f"理由 {pk}" for pk in ids},
        "actor": actor,
        "source": "qualification",
    }
    return contacts_change_stage_bulk(**(args | kw))


def test_only_contacts_in_the_from_stages_move_with_transition_and_audit(
    marketer: Any,
) -> None:
    lead, subscriber = _contacts(1)[0], _contacts(1, "subscriber", start=1)[0]
    sal = _contacts(1, "sal", start=2)[0]
    moved = _move([lead.pk, subscriber.pk, sal.pk, 999_999], actor=marketer)
    assert moved == [lead.pk, subscriber.pk]
    stages = dict(Contact.objects.values_list("id", "lifecycle_stage"))
    assert (stages[lead.pk], stages[subscriber.pk], stages[sal.pk]) == ("mql", "mql", "sal")
    transition = LifecycleTransition.objects.get(contact=subscriber, to_stage="mql")
    assert (transition.from_stage, transition.reason, transition.source, transition.actor) == (
        "subscriber",
        f"理由 {subscriber.pk}",
        "qualification",
        marketer,
    )
    audit = AuditEntry.objects.get(action="contact.stage", object_id=subscriber.pk)
    assert (audit.changes, audit.actor, audit.actor_label) == (
        {"lifecycle_stage": ["subscriber", "mql"]},
        marketer,
        "marketer",
    )
    assert _move([lead.pk]) == []  # already there: nothing recorded twice


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"to_stage": "hot"}, "lifecycle_stage"),
        ({"from_stages": ["warm"]}, "from_stages"),
        ({"to_stage": "lead", "from_stages": ["mql"]}, "from_stages"),  # backward: needs a person
        ({"source": "x" * 40}, "source"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(
    db: Any, kw: dict[str, Any], field: str
) -> None:
    (contact,) = _contacts(1)
    with pytest.raises(ValidationError) as exc:
        _move([contact.pk], **kw)
    assert list(exc.value.message_dict) == [field]


def _queries(n: int, start: int) -> int:
    with transaction.atomic():
        ids = [c.pk for c in _contacts(n, start=start)]
        with CaptureQueriesContext(connection) as queries:
            assert len(_move(ids)) == n
        transaction.set_rollback(True)
    return len(queries)


def test_a_chunk_costs_a_fixed_number_of_queries(db: Any) -> None:
    assert _queries(3, 100) == _queries(60, 200)
