"""Domain signals of the hand-off app. Receivers downstream enqueue their own work."""

from django.dispatch import Signal

# Sent once after each commit that assigned MQLs to sales reps (first time or
# re-assignment): assignments, a list of dicts with contact_id, user_id, assignment_id,
# assigned_at and previous_user_id (None the first time). One signal for a whole routing
# chunk, so receivers work in sets.
leads_assigned = Signal()
