"""Reactions to other apps' signals: enqueue scoring work, never do it inline."""

from typing import Any

from django.dispatch import receiver

from renkei.events.signals import events_recorded
from renkei.scoring.tasks import rescore_contacts


@receiver(events_recorded, dispatch_uid="renkei.scoring.rescore_contacts")
def on_events_recorded(sender: Any, contact_ids: set[int], **kwargs: Any) -> None:
    # Sent after commit already; chunks keep each task's arguments small.
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 1000):
        rescore_contacts.enqueue(ids[start : start + 1000])
