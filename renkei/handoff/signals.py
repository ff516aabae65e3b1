"""Domain signals of the hand-off app. Receivers downstream enqueue their own work."""

from django.dispatch import Signal

# Sent after commit when an MQL is assigned to a sales rep (first time or re-assignment):
# contact_id, user_id, assignment_id, assigned_at, previous_user_id (None the first time).
lead_assigned = Signal()
