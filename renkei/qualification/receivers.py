"""Reactions to upstream signals: a full rebuild of scores or fits queues a full
evaluation (decay and new personas change who meets the policy); a contact leaving MQL
has its flag taken off. Receivers only queue this app's tasks (both signals are sent
after commit)."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import derived_rebuilt, stage_changed


@receiver(derived_rebuilt, dispatch_uid="renkei.qualification.evaluate_after_rebuild")
def on_derived_rebuilt(sender: Any, name: str = "", **kwargs: Any) -> None:
    from renkei.qualification.services import qualification_run_enqueue

    qualification_run_enqueue(actor=None, trigger=f"rebuilt:{name}")


@receiver(stage_changed, dispatch_uid="renkei.qualification.unflag_on_leaving_mql")
def on_stage_changed(sender: Any, contact_id: int, from_stage: str, **kwargs: Any) -> None:
    if from_stage == LifecycleStage.MQL:
        from renkei.qualification.tasks import unflag_contacts

        unflag_contacts.enqueue([contact_id])
