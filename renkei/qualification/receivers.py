"""Reactions to upstream signals: a full rebuild of scores or fits queues a full
evaluation (decay and new personas change who meets the policy); a contact leaving MQL
has its flag taken off. Receivers only queue this app's tasks (both signals are sent
after commit)."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import StageChange, derived_rebuilt, stages_changed

CHUNK = 1000  # contacts per queued task


@receiver(derived_rebuilt, dispatch_uid="renkei.qualification.evaluate_after_rebuild")
def on_derived_rebuilt(sender: Any, name: str = "", **kwargs: Any) -> None:
    from renkei.qualification.services import qualification_run_enqueue

    qualification_run_enqueue(actor=None, trigger=f"rebuilt:{name}")


@receiver(stages_changed, dispatch_uid="renkei.qualification.unflag_on_leaving_mql")
def on_stages_changed(sender: Any, changes: list[StageChange], **kwargs: Any) -> None:
    """One unflag task per 1,000 contacts that left MQL in one move (single or bulk)."""
    ids = [c.contact_id for c in changes if c.from_stage == LifecycleStage.MQL]
    if not ids:
        return
    from renkei.qualification.tasks import unflag_contacts

    for start in range(0, len(ids), CHUNK):
        unflag_contacts.enqueue(ids[start : start + CHUNK])
