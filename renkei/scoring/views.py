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
from renkei.scoring.backtest import PolicyLike
from renkei.scoring.explain import contact_score_explain, score_explanation_data
from renkei.scoring.forms import EngagementRuleForm
from renkei.scoring.models import EngagementRule
from renkei.scoring.preview import Preview, rule_change_preview, rule_delete_preview
from renkei.scoring.selectors import engagement_rules, rescore_run_last
from renkei.scoring.services import (
    engagement_rule_create,
    engagement_rule_delete,
    engagement_rule_update,
    engagement_rule_validate,
    rescore_run_enqueue,
)

LIST_LIMIT = 500  # rules number in the dozens


@login_required
@permission_required("scoring.view_engagementrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    context = {"rules": engagement_rules()[:LIST_LIMIT], "last_run": rescore_run_last()}
    return render(request, "scoring/rule_list.html", context)


def _wants_preview(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("action") == "preview"


def _current_policy() -> PolicyLike:
    from renkei.qualification.selectors import qualification_policy  # builds on scoring

    return qualification_policy()


def _rule_preview(form: EngagementRuleForm, rule: EngagementRule | None) -> Preview | None:
    """The backtest of the form's values (None when a field is wrong; the form says which)."""
    try:
        values = engagement_rule_validate(rule=rule, **form.cleaned_data)
    except ValidationError as exc:
        service_errors_to_form(form, exc)
        return None
    return rule_change_preview(rule=rule, values=values, policy=_current_policy())


@login_required
@permission_required("scoring.add_engagementrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    form = EngagementRuleForm(request.POST if request.method == "POST" else None)
    preview = None
    if form.is_valid() and _wants_preview(request):
        preview = _rule_preview(form, None)
    elif form.is_valid():
        try:
            engagement_rule_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, _("The rule was created. Recompute all scores to apply it to past events.")
            )
            return redirect("scoring:rule_list")
    context = {"form": form, "rule": None, "preview": preview}
    return render(request, "scoring/rule_form.html", context)


@login_required
@permission_required("scoring.change_engagementrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(EngagementRule, pk=pk)
    preview = None
    if request.method != "POST":
        form = EngagementRuleForm(initial=EngagementRuleForm.initial_for(rule))
    else:
        form = EngagementRuleForm(request.POST)
        if form.is_valid() and _wants_preview(request):
            preview = _rule_preview(form, rule)
        elif form.is_valid():
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
    context = {"form": form, "rule": rule, "preview": preview}
    return render(request, "scoring/rule_form.html", context)


@login_required
@permission_required("scoring.delete_engagementrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(EngagementRule, pk=pk)
    if request.method == "POST" and not _wants_preview(request):
        engagement_rule_delete(rule=rule, actor=request.user)
        messages.success(request, _("The rule was deleted."))
        return redirect("scoring:rule_list")
    preview = (
        rule_delete_preview(rule=rule, policy=_current_policy())
        if _wants_preview(request)
        else None
    )
    context = {"rule": rule, "preview": preview}
    return render(request, "scoring/rule_confirm_delete.html", context)


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
    """Why a contact has its score: the same JSON as the API's score-explanation."""
    contact = get_object_or_404(Contact.objects.only("id"), pk=pk)
    return JsonResponse(score_explanation_data(contact_score_explain(contact)))
