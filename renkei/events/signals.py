"""Domain signals of the events app."""

from django.dispatch import Signal

# Sent after commit with contact_ids: the set of contacts that got new events.
events_recorded = Signal()
