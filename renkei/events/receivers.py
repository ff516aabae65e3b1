"""Reactions to the events app's own signal: queue the derived-data pipeline."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.derived import EVENTS, contacts_derive_enqueue
from renkei.events.signals import events_recorded


@receiver(events_recorded, dispatch_uid="renkei.events.derive_contacts")
def on_events_recorded(sender: Any, contact_ids: set[int], **kwargs: Any) -> None:
    # Sent after commit already: one task per chunk runs every app's step in order.
    contacts_derive_enqueue(contact_ids, EVENTS)
