"""The derived-data pipeline: steps run in order, only for their triggers, one task a chunk."""

from collections.abc import Iterator
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from renkei.contacts import derived
from renkei.contacts.derived import (
    EVENTS,
    PROPERTIES,
    contacts_derive,
    contacts_derive_enqueue,
    derived_step_register,
    derived_steps,
)


@pytest.fixture
def isolated_steps() -> Iterator[list[tuple[str, list[int]]]]:
    saved = dict(derived._steps)
    derived._steps.clear()
    calls: list[tuple[str, list[int]]] = []
    yield calls
    derived._steps.clear()
    derived._steps.update(saved)


def test_every_app_registers_its_step_in_order() -> None:
    on_events = [step.name for step in derived_steps(EVENTS)]
    assert on_events.index("last_activity") < on_events.index("engagement")
    assert on_events.index("engagement") < on_events.index("journey")
    assert "engagement" not in [step.name for step in derived_steps(PROPERTIES)]


def test_steps_run_in_order_and_only_for_their_trigger(isolated_steps: Any) -> None:
    calls = isolated_steps
    derived_step_register(
        name="second", order=2, refresh=lambda ids: calls.append(("second", ids)) or 2
    )
    derived_step_register(
        name="first",
        order=1,
        refresh=lambda ids: calls.append(("first", ids)) or 1,
        triggers=[EVENTS],
    )
    assert contacts_derive(contact_ids=[3, 1, 3], trigger=EVENTS) == {"first": 1, "second": 2}
    assert calls == [("first", [1, 3]), ("second", [1, 3])]
    calls.clear()
    contacts_derive(contact_ids=[5], trigger=PROPERTIES)
    assert calls == [("second", [5])]


def test_an_unknown_trigger_is_refused(isolated_steps: Any) -> None:
    with pytest.raises(ValueError, match="triggers"):
        derived_step_register(name="x", order=1, refresh=len, triggers=["sometimes"])
    with pytest.raises(ValueError, match="trigger"):
        contacts_derive_enqueue([1], "sometimes")


def test_one_task_per_chunk_of_contacts(db: Any, isolated_steps: Any) -> None:
    derived_step_register(name="count", order=1, refresh=len)
    assert contacts_derive_enqueue(range(derived.CHUNK + 1), PROPERTIES) == 2
    tasks = DBTaskResult.objects.filter(task_path="renkei.contacts.tasks.derive_contacts")
    sizes = sorted(len(t.args_kwargs["args"][0]) for t in tasks)
    assert sizes == [1, derived.CHUNK]
    assert {t.args_kwargs["args"][1] for t in tasks} == {PROPERTIES}


def test_nothing_is_queued_when_no_step_listens(db: Any, isolated_steps: Any) -> None:
    assert contacts_derive_enqueue([1, 2], EVENTS) == 0
    assert not DBTaskResult.objects.exists()
