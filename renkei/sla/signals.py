"""Domain signals of the SLA app. Receivers downstream enqueue their own work."""

from django.dispatch import Signal

# Sent after commit when an SLA clock is found breached: breach_id, clock_id, contact_id,
# user_id (the rep who owns the clock), kind (first_touch, attempts, decision), due_at.
sla_breached = Signal()
