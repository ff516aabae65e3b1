"""Derived per-contact data that later apps keep up to date, run as one pipeline.

An app that derives something from a contact's events or properties (last activity, the
engagement score, the persona fit, the MQL decision, the journey stage) registers a step
in its ``AppConfig.ready``. A change enqueues one ``derive_contacts`` task per chunk of
contacts — not one task per app — and the worker runs the steps in ``order``, so a later
step reads what an earlier one wrote (qualification reads the fresh score).

Triggers: ``"events"`` (contacts got new events) and ``"properties"`` (their fields or
their company's changed). A step names the triggers it depends on.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

EVENTS = "events"
PROPERTIES = "properties"
TRIGGERS = (EVENTS, PROPERTIES)
CHUNK = 1000  # contacts per task: small arguments, bounded work per task


@dataclass(frozen=True)
class DerivedStep:
    name: str
    order: int
    refresh: Callable[[list[int]], object]
    triggers: frozenset[str]


_steps: dict[str, DerivedStep] = {}


def derived_step_register(
    *,
    name: str,
    order: int,
    refresh: Callable[[list[int]], object],
    triggers: Sequence[str] = TRIGGERS,
) -> None:
    """Add (or replace, by name) a step; ``refresh(contact_ids)`` must be safe to repeat."""
    unknown = set(triggers) - set(TRIGGERS)
    if unknown:
        raise ValueError(f"unknown triggers {sorted(unknown)}")
    _steps[name] = DerivedStep(name, order, refresh, frozenset(triggers))


def derived_steps(trigger: str) -> list[DerivedStep]:
    """The steps that run on ``trigger``, in order."""
    return sorted(
        (s for s in _steps.values() if trigger in s.triggers), key=lambda s: (s.order, s.name)
    )


def contacts_derive(*, contact_ids: Iterable[int], trigger: str) -> dict[str, object]:
    """Run every step for ``trigger`` on these contacts now (the task calls this)."""
    ids = sorted({int(i) for i in contact_ids})
    return {step.name: step.refresh(ids) for step in derived_steps(trigger)}


def contacts_derive_enqueue(contact_ids: Iterable[int], trigger: str) -> int:
    """Queue the pipeline for these contacts: one task per ``CHUNK``, all in one write
    transaction. Call it after the change committed. Returns the number of tasks."""
    from renkei.contacts.tasks import derive_contacts

    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if not derived_steps(trigger):
        return 0
    ids = sorted({int(i) for i in contact_ids})
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            derive_contacts.enqueue(ids[start : start + CHUNK], trigger)
    return -(-len(ids) // CHUNK)
