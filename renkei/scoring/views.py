"""Scoring pages: everyone reads the rules; marketing, managers and admins change them
and start a full rescore (POST only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.contacts.models import Contact
from renkei.scoring.forms import EngagementRuleForm
from renkei.scoring.models import EngagementRule
from renkei.scoring.selectors import (
    contact_engagement_explain,
    engagement_rules,
    rescore_run_last,
)
from renkei.scoring.services import (
    engagement_rule_create,
    engagement_rule_delete,
    engagement_rule_update,
    rescore_run_enqueue,
)

LIST_LIMIT = 500  # rules number in the dozens


@login_required
@permission_required("scoring.view_engagementrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    context = {"rules": engagement_rules()[:LIST_LIMIT], "last_run": rescore_run_last()}
    return render(request, "scoring/rule_list.html", context)


@login_required
@permission_required("scoring.add_engagementrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    form = EngagementRuleForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            engagement_rule_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, _("The rule was created. Recompute all scores to apply it to past events.")
            )
            return redirect("scoring:rule_list")
    return render(request, "scoring/rule_form.html", {"form": form, "rule": None})


@login_required
@permission_required("scoring.change_engagementrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(EngagementRule, pk=pk)
    if request.method != "POST":
        form = EngagementRuleForm(initial=EngagementRuleForm.initial_for(rule))
    else:
        form = EngagementRuleForm(request.POST)
        if form.is_valid():
            try:
                engagement_rule_update(rule=rule, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("The rule was saved. Recompute all scores to apply it to past events."),
                )
                return redirect("scoring:rule_list")
    return render(request, "scoring/rule_form.html", {"form": form, "rule": rule})


@login_required
@permission_required("scoring.delete_engagementrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(EngagementRule, pk=pk)
    if request.method == "POST":
        engagement_rule_delete(rule=rule, actor=request.user)
        messages.success(request, _("The rule was deleted."))
        return redirect("scoring:rule_list")
    return render(request, "scoring/rule_confirm_delete.html", {"rule": rule})


@require_POST
@login_required
@permission_required("scoring.run_rescore", raise_exception=True)
def rescore(request: HttpRequest) -> HttpResponse:
    rescore_run_enqueue(actor=request.user)
    messages.success(request, _("Recomputing all scores: the worker runs it in the background."))
    return redirect("scoring:rule_list")


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def contact_explain(request: HttpRequest, pk: int) -> JsonResponse:
    """Why a contact has its engagement score: each rule's events and points now."""
    contact = get_object_or_404(Contact, pk=pk)
    lines = contact_engagement_explain(contact)
    return JsonResponse(
        {
            "contact_id": contact.pk,
            "score": contact.score,
            "rules": [
                {"rule": line.rule_name, "events": line.events, "points": round(line.points, 2)}
                for line in lines
            ],
        }
    )
