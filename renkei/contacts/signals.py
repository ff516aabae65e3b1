"""Domain signals of the contacts app. Receivers downstream enqueue their own tasks."""

from django.dispatch import Signal

# Sent after commit with contact_id, from_stage, to_stage, transition_id.
stage_changed = Signal()

# Sent after commit when a full rebuild of one kind of derived data finished, with name
# ("engagement", "persona_fit" …): later steps that read it re-evaluate everyone.
derived_rebuilt = Signal()
