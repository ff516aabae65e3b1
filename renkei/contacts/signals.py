"""Domain signals of the contacts app. Receivers downstream enqueue their own tasks."""

from typing import NamedTuple

from django.dispatch import Signal


class StageChange(NamedTuple):
    """One contact's recorded move between lifecycle stages."""

    contact_id: int
    from_stage: str
    to_stage: str
    transition_id: int | None


# Sent after commit once per contact that moved, with contact_id, from_stage, to_stage,
# transition_id — for single and bulk moves alike.
stage_changed = Signal()

# Sent after commit once per move — one contact (``contact_change_stage``) or thousands
# (``contacts_change_stage_bulk``) — with changes, a list of StageChange. Receivers that
# work in sets (routing, SLA clocks) listen to this one and not to ``stage_changed``:
# a receiver connected to both would run twice for the same move.
stages_changed = Signal()

# Sent after commit when a full rebuild of one kind of derived data finished, with name
# ("engagement", "persona_fit" …): later steps that read it re-evaluate everyone.
derived_rebuilt = Signal()
