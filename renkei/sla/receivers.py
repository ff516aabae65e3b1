"""The SLA app listens to assignments (start or restart the clocks) and to stage changes
(the decision, a rejection)."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from renkei.contacts.signals import stage_changed
from renkei.handoff.signals import lead_assigned
from renkei.sla.services import Assignment, sla_clocks_start, sla_stage_changed


@receiver(lead_assigned, dispatch_uid="renkei.sla.clocks_start")
def clocks_start_on_assignment(
    sender: Any,
    *,
    contact_id: int,
    user_id: int,
    assignment_id: int,
    assigned_at: datetime,
    previous_user_id: int | None = None,
    **kwargs: Any,
) -> None:
    sla_clocks_start(
        [Assignment(contact_id, user_id, assignment_id, assigned_at, previous_user_id)]
    )


@receiver(stage_changed, dispatch_uid="renkei.sla.stage_changed")
def clocks_follow_stage(
    sender: Any, *, contact_id: int, from_stage: str, to_stage: str, **kwargs: Any
) -> None:
    sla_stage_changed(contact_id=contact_id, from_stage=from_stage, to_stage=to_stage)
