"""HTML views of the hand-off: the rep's inbox (accept, reject, log a touch), routing
rules and rep settings (managers), open leads with re-assignment and fairness (managers),
hand-off results and marketing's queue (marketing)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.contacts.services.common import Conflict
from renkei.events.services import event_record_one
from renkei.handoff import selectors
from renkei.handoff.forms import (
    PeriodForm,
    ReassignForm,
    RejectForm,
    RepSettingsForm,
    RuleForm,
    TeamForm,
    TouchForm,
)
from renkei.handoff.models import Assignment, AssignmentStatus, RoutingRule, Team
from renkei.handoff.services import (
    assignment_accept,
    assignment_reassign,
    assignment_reject,
    queue_resolve,
    rep_settings_save,
    routing_rule_delete,
    routing_rule_save,
    team_save,
)


def _inbox(request: HttpRequest, status: int = 200, reject_form: Any = None) -> HttpResponse:
    return render(
        request,
        "handoff/inbox.html",
        {
            "leads": selectors.inbox_leads(request.user),
            "reject_form": reject_form or RejectForm(),
            "touch_form": TouchForm(),
        },
        status=status,
    )


@login_required
@permission_required("handoff.work_lead", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


@login_required
@permission_required("handoff.work_lead", raise_exception=True)
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    try:
        assignment_accept(assignment=assignment, actor=request.user)
    except Conflict as exc:
        messages.error(request, " ".join(exc.messages))
        return _inbox(request, status=409)
    messages.success(request, _("Lead accepted: it is now SAL."))
    return redirect("handoff:inbox")


@login_required
@permission_required("handoff.work_lead", raise_exception=True)
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The rejection needs a reason; see the form."))
        return _inbox(request, status=400, reject_form=form)
    try:
        assignment_reject(
            assignment=assignment,
            actor=request.user,
            reason_code=form.cleaned_data["reason_code"],
            reason_text=form.cleaned_data["reason_text"],
        )
    except Conflict as exc:
        messages.error(request, " ".join(exc.messages))
        return _inbox(request, status=409)
    except ValidationError as exc:
        service_errors_to_form(form, exc)
        return _inbox(request, status=400, reject_form=form)
    messages.success(request, _("Lead rejected."))
    return redirect("handoff:inbox")


@login_required
@permission_required("handoff.work_lead", raise_exception=True)
@permission_required("events.add_event", raise_exception=True)
@require_POST
def touch(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        Assignment.objects.select_related("contact"),
        pk=pk,
        user=request.user,
        status=AssignmentStatus.OPEN,
    )
    form = TouchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose call, email sent or meeting."))
        return _inbox(request, status=400)
    note = form.cleaned_data["note"].strip()
    event_record_one(
        contact=assignment.contact,
        type=form.cleaned_data["type"],
        properties={"note": note} if note else {},
        actor=request.user,
    )
    messages.success(request, _("Touch logged."))
    return redirect("handoff:inbox")


# ---- managers: open leads, re-assignment, fairness ---------------------------------------


def _leads(request: HttpRequest, status: int = 200) -> HttpResponse:
    user_id = request.GET.get("rep") or None
    rep_id = int(user_id) if user_id and user_id.isdigit() else None
    return render(
        request,
        "handoff/leads.html",
        {
            "assignments": selectors.open_assignments(rep_id),
            "reps": selectors.reps_with_settings(),
            "rep_id": rep_id,
        },
        status=status,
    )


@login_required
@permission_required("handoff.reassign_lead", raise_exception=True)
def leads(request: HttpRequest) -> HttpResponse:
    return _leads(request)


@login_required
@permission_required("handoff.reassign_lead", raise_exception=True)
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _leads(request, status=400)
    try:
        assignment_reassign(
            assignment=assignment,
            to_user=form.cleaned_data["user"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _leads(request, status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, _("Lead re-assigned."))
    return redirect("handoff:leads")


@login_required
@permission_required("handoff.view_assignment", raise_exception=True)
def fairness(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    return render(
        request,
        "handoff/fairness.html",
        {"form": form, "rows": selectors.fairness(start, end), "start": start, "end": end},
    )


# ---- routing rules, reps, teams ------------------------------------------------------------


@login_required
@permission_required("handoff.view_routingrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "handoff/rule_list.html", {"rules": selectors.routing_rules()})


def _rule_data(form: RuleForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("reps")
    return data


@login_required
@permission_required("handoff.change_routingrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=pk) if pk else None
    initial: dict[str, Any] = {}
    if rule is not None:
        initial = {
            "name": rule.name,
            "position": rule.position,
            "is_active": rule.is_active,
            "regions": rule.regions,
            "prefectures": rule.prefectures,
            "industries": rule.industries,
            "employees_min": rule.employees_min,
            "employees_max": rule.employees_max,
            "persona": rule.persona,
            "reps": list(rule.reps.all()),
        }
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            routing_rule_save(
                actor=request.user,
                rule=rule,
                reps=list(form.cleaned_data["reps"]),
                **_rule_data(form),
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Routing rule saved."))
            return redirect("handoff:rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "handoff/rule_form.html", {"form": form, "rule": rule}, status=status)


@login_required
@permission_required("handoff.delete_routingrule", raise_exception=True)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    routing_rule_delete(rule=get_object_or_404(RoutingRule, pk=pk), actor=request.user)
    messages.success(request, _("Routing rule deleted."))
    return redirect("handoff:rules")


@login_required
@permission_required("handoff.change_repsettings", raise_exception=True)
def rep_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "handoff/rep_list.html",
        {"reps": selectors.reps_with_settings(), "teams": Team.objects.select_related("manager")},
    )


@login_required
@permission_required("handoff.change_repsettings", raise_exception=True)
def rep_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    row = selectors.rep_settings_for(user)
    initial = (
        {
            "team": row.team,
            "capacity": row.capacity,
            "weight": row.weight,
            "out_of_office_until": row.out_of_office_until,
            "webhook_url": row.webhook_url,
        }
        if row
        else {}
    )
    form = RepSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rep_settings_save(user=user, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Rep settings saved."))
            return redirect("handoff:reps")
    status = 400 if request.method == "POST" else 200
    return render(request, "handoff/rep_form.html", {"form": form, "rep": user}, status=status)


@login_required
@permission_required("handoff.change_repsettings", raise_exception=True)
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk) if pk else None
    initial = (
        {"name": team.name, "manager": team.manager, "webhook_url": team.webhook_url}
        if team
        else {}
    )
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team_save(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Team saved."))
            return redirect("handoff:reps")
    status = 400 if request.method == "POST" else 200
    return render(request, "handoff/team_form.html", {"form": form, "team": team}, status=status)


# ---- marketing: results and the queue -------------------------------------------------------


@login_required
@permission_required("handoff.view_handoff_results", raise_exception=True)
def results(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    by = request.GET.get("by", "campaign")
    if by not in selectors.DIMENSIONS:
        by = "campaign"
    labels = selectors.reason_labels()
    return render(
        request,
        "handoff/results.html",
        {
            "form": form,
            "by": by,
            "rows": selectors.handoff_results(start, end, by),
            "reason_labels": labels,
            "start": start,
            "end": end,
        },
    )


@login_required
@permission_required("handoff.view_handoff_results", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "handoff/queue.html", {"entries": selectors.queue_entries()})


@login_required
@permission_required("handoff.resolve_queue", raise_exception=True)
@require_POST
def queue_action(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment, pk=pk)
    try:
        queue_resolve(
            assignment=assignment, actor=request.user, action=request.POST.get("action", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        status = 409 if isinstance(exc, Conflict) else 400
        return render(
            request, "handoff/queue.html", {"entries": selectors.queue_entries()}, status=status
        )
    messages.success(request, _("Queue entry resolved."))
    return redirect("handoff:queue")
