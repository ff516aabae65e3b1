"""``/api/v1/handoff``: the rep's inbox, accept and reject — the same services as the
inbox page. Accepting or rejecting needs ``handoff.work_lead`` and the lead being yours
(403 otherwise); a lead re-assigned or decided meanwhile answers 409."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.errors import HttpError

from renkei.api import require_perm
from renkei.contacts.schemas import MAX_ID, ErrorOut
from renkei.handoff.models import Assignment
from renkei.handoff.selectors import inbox_leads
from renkei.handoff.services import assignment_accept, assignment_reject

router = Router(tags=["handoff"])


class LeadOut(Schema):
    assignment_id: int
    contact_id: int
    contact: str
    company: str
    assigned_at: datetime
    method: str
    rule_name: str
    sla_due: datetime | None
    business_hours_left: float | None


class DecisionOut(Schema):
    assignment_id: int
    status: str
    reason_code: str


class RejectIn(Schema):
    reason_code: str
    reason_text: str = ""


def _decision(a: Assignment) -> dict[str, Any]:
    return {"assignment_id": a.pk, "status": a.status, "reason_code": a.reason_code}


def _assignment(pk: int) -> Assignment:
    found = Assignment.objects.filter(pk=pk).first()
    if found is None:
        raise HttpError(404, f"assignment_id: no assignment with id {pk}")
    return found


@router.get("/inbox", response={200: list[LeadOut], 401: ErrorOut, 403: ErrorOut})
def inbox(request: HttpRequest) -> Any:
    """Your open leads, most urgent first (SLA deadline, then the oldest hand-off)."""
    require_perm(request, "handoff.work_lead")
    return [
        {
            "assignment_id": a.pk,
            "contact_id": a.contact_id,
            "contact": str(a.contact),
            "company": a.contact.company.name if a.contact.company else "",
            "assigned_at": a.assigned_at,
            "method": a.method,
            "rule_name": a.rule_name,
            "sla_due": a.sla_due,  # type: ignore[attr-defined]
            "business_hours_left": a.hours_left,  # type: ignore[attr-defined]
        }
        for a in inbox_leads(request.user)
    ]


@router.post(
    "/assignments/{assignment_id}/accept",
    response={
        200: DecisionOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def accept(request: HttpRequest, assignment_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    """Accept a lead assigned to you: the contact becomes SAL."""
    require_perm(request, "handoff.work_lead")
    return _decision(assignment_accept(assignment=_assignment(assignment_id), actor=request.user))


@router.post(
    "/assignments/{assignment_id}/reject",
    response={
        200: DecisionOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def reject(
    request: HttpRequest, body: RejectIn, assignment_id: int = Path(..., ge=1, le=MAX_ID)
) -> Any:
    """Reject a lead assigned to you with a reason code (``other`` needs ``reason_text``):
    not_now, no_budget, not_decision_maker, other → recycled; competitor → disqualified;
    wrong_data, duplicate, student_job_seeker → disqualified and marketing's queue."""
    require_perm(request, "handoff.work_lead")
    assignment = assignment_reject(
        assignment=_assignment(assignment_id),
        actor=request.user,
        reason_code=body.reason_code,
        reason_text=body.reason_text,
    )
    return _decision(assignment)
