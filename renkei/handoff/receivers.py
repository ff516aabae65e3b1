"""Reactions to upstream signals (sent after commit): a contact that became MQL is
queued for routing; an SLA breach is queued for notification and escalation."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import stage_changed
from renkei.sla.signals import sla_breached


@receiver(stage_changed, dispatch_uid="renkei.handoff.route_new_mql")
def on_stage_changed(sender: Any, contact_id: int, to_stage: str, **kwargs: Any) -> None:
    if to_stage == LifecycleStage.MQL:
        from renkei.handoff.tasks import route_mqls

        route_mqls.enqueue([contact_id])


@receiver(sla_breached, dispatch_uid="renkei.handoff.notify_breach")
def on_sla_breached(
    sender: Any,
    breach_id: int,
    contact_id: int,
    user_id: int,
    kind: str,
    due_at: Any,
    **kwargs: Any,
) -> None:
    from renkei.handoff.tasks import notify_breach

    notify_breach.enqueue(breach_id, contact_id, user_id, str(kind), due_at.isoformat())
