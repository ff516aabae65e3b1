"""Reactions to the events app's signal: enqueue a journey refresh, never do it inline."""

from typing import Any

from django.dispatch import receiver

from renkei.events.signals import events_recorded
from renkei.journey.tasks import refresh_journey


@receiver(events_recorded, dispatch_uid="renkei.journey.refresh_journey")
def on_events_recorded(sender: Any, contact_ids: set[int], **kwargs: Any) -> None:
    # Sent after commit already; chunks keep each task's arguments small.
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 1000):
        refresh_journey.enqueue(ids[start : start + 1000])
