"""The SLA app listens to assignments (start or restart the clocks) and to stage changes
(the decision, a rejection)."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.signals import stage_changed
from renkei.handoff.signals import leads_assigned
from renkei.sla.services import Assignment, sla_clocks_start, sla_stage_changed


@receiver(leads_assigned, dispatch_uid="renkei.sla.clocks_start")
def clocks_start_on_assignment(
    sender: Any, *, assignments: list[dict[str, Any]], **kwargs: Any
) -> None:
    sla_clocks_start(
        Assignment(
            a["contact_id"],
            a["user_id"],
            a["assignment_id"],
            a["assigned_at"],
            a.get("previous_user_id"),
        )
        for a in assignments
    )


@receiver(stage_changed, dispatch_uid="renkei.sla.stage_changed")
def clocks_follow_stage(
    sender: Any, *, contact_id: int, from_stage: str, to_stage: str, **kwargs: Any
) -> None:
    sla_stage_changed(contact_id=contact_id, from_stage=from_stage, to_stage=to_stage)
