"""Reactions to upstream signals (sent after commit): contacts that became MQL are
queued for routing, a chunk per task; an SLA breach is queued for notification and
escalation."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import StageChange, stages_changed
from renkei.sla.signals import sla_breached


@receiver(stages_changed, dispatch_uid="renkei.handoff.route_new_mqls")
def on_stages_changed(sender: Any, changes: list[StageChange], **kwargs: Any) -> None:
    """One ``route_mqls`` task per 1,000 new MQLs: a bulk qualification of thousands
    queues a handful of tasks, not one per contact (``stages_changed`` comes once per
    move, single or bulk; this app does not listen to the per-contact ``stage_changed``)."""
    ids = [c.contact_id for c in changes if c.to_stage == LifecycleStage.MQL]
    if not ids:
        return
    from renkei.handoff.routing import CHUNK
    from renkei.handoff.tasks import route_mqls

    for start in range(0, len(ids), CHUNK):
        route_mqls.enqueue(ids[start : start + CHUNK])


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
