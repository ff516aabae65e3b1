"""The SLA app listens to assignments (start or restart the clocks) and to stage changes
(the decision, a rejection): both signals come once per set of changes, and each
receiver handles its set in a fixed number of queries."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.signals import StageChange, stages_changed
from renkei.handoff.signals import leads_assigned
from renkei.sla.services import Assignment, sla_clocks_start, sla_stages_changed


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


@receiver(stages_changed, dispatch_uid="renkei.sla.stages_changed")
def clocks_follow_stages(sender: Any, *, changes: list[StageChange], **kwargs: Any) -> None:
    sla_stages_changed([(c.contact_id, c.from_stage, c.to_stage) for c in changes])
