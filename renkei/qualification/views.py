"""The qualification page: everyone reads the policy, the counts and the flagged MQLs;
marketing, managers and admins change the policy and start a full evaluation (POST)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.qualification.forms import QualificationPolicyForm
from renkei.qualification.selectors import (
    flagged_page,
    qualification_counts,
    qualification_policy,
    qualification_run_last,
)
from renkei.qualification.services import (
    qualification_policy_update,
    qualification_policy_validate,
    qualification_run_enqueue,
)
from renkei.scoring.preview import policy_change_preview

PAGE_SIZE = 50


def _cursor(value: str | None) -> int | None:
    """The ``after`` cursor: a contact id; anything else starts from the first page."""
    if value and value.isdigit() and len(value) < 19:
        return int(value)
    return None


@login_required
@permission_required("qualification.view_qualificationpolicy", raise_exception=True)
def policy_page(request: HttpRequest) -> HttpResponse:
    flagged, next_cursor = flagged_page(after=_cursor(request.GET.get("after")), limit=PAGE_SIZE)
    context = {
        "policy": qualification_policy(),
        "counts": qualification_counts(),
        "flagged": flagged,
        "next_cursor": next_cursor,
        "last_run": qualification_run_last(),
    }
    return render(request, "qualification/policy.html", context)


@login_required
@permission_required("qualification.change_qualificationpolicy", raise_exception=True)
def policy_edit(request: HttpRequest) -> HttpResponse:
    policy = qualification_policy()
    preview = None
    if request.method != "POST":
        form = QualificationPolicyForm(initial=QualificationPolicyForm.initial_for(policy))
    else:
        form = QualificationPolicyForm(request.POST)
        if form.is_valid() and request.POST.get("action") == "preview":
            try:
                proposed = qualification_policy_validate(**form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                preview = policy_change_preview(policy_before=policy, policy_after=proposed)
        elif form.is_valid():
            try:
                qualification_policy_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("The policy was saved. Every contact is evaluated again in the background."),
                )
                return redirect("qualification:index")
    context = {"form": form, "policy": policy, "preview": preview}
    return render(request, "qualification/policy_form.html", context)


@require_POST
@login_required
@permission_required("qualification.run_qualification", raise_exception=True)
def run(request: HttpRequest) -> HttpResponse:
    qualification_run_enqueue(actor=request.user, trigger="ui")
    messages.success(request, _("Evaluating every contact: the worker runs it in the background."))
    return redirect("qualification:index")
