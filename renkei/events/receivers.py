"""Reactions to the events app's own signal: enqueue work, never do it inline."""

from typing import Any

from django.dispatch import receiver

from renkei.events.signals import events_recorded
from renkei.events.tasks import refresh_last_activity


@receiver(events_recorded, dispatch_uid="renkei.events.refresh_last_activity")
def on_events_recorded(sender: Any, contact_ids: set[int], **kwargs: Any) -> None:
    # Sent after commit already; chunks keep each task's arguments small.
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 1000):
        refresh_last_activity.enqueue(ids[start : start + 1000])
