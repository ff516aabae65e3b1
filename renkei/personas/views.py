"""HTML views of personas: list, detail with versions, draft editing, approval, retiring.

Everyone may read; drafting needs ``add_persona``/``change_persona``; approving and retiring
need ``approve_persona`` (and the approval rules in ``services``). 403 otherwise.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.personas.criteria import criteria_to_text, criterion_describe
from renkei.personas.forms import PersonaForm, VersionForm
from renkei.personas.models import Persona, PersonaVersion, VersionStatus
from renkei.personas.selectors import persona_versions, personas_with_active
from renkei.personas.services import (
    MARKETING_SIDE,
    SALES_SIDE,
    persona_create,
    persona_version_approve,
    persona_version_create,
    persona_version_retire,
    persona_version_update,
)


def _version_fields(form: VersionForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "criteria": data["criteria_text"],
        "description": data["description"],
        "pains": data["pains"],
        "goals": data["goals"],
    }


@login_required
@permission_required("personas.view_persona", raise_exception=True)
def persona_list(request: HttpRequest) -> HttpResponse:
    return render(request, "personas/persona_list.html", {"personas": personas_with_active()})


@login_required
@permission_required("personas.add_persona", raise_exception=True)
def persona_new(request: HttpRequest) -> HttpResponse:
    form = PersonaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = persona_create(
                name=form.cleaned_data["name"], actor=request.user, **_version_fields(form)
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Persona created as a draft."))
            return redirect("personas:detail", pk=version.persona_id)
    return render(request, "personas/version_form.html", {"form": form, "persona": None})


@login_required
@permission_required("personas.view_persona", raise_exception=True)
def persona_detail(request: HttpRequest, pk: int) -> HttpResponse:
    persona = get_object_or_404(Persona, pk=pk)
    versions = [
        {
            "version": v,
            "text": criteria_to_text(v.criteria),
            "described": [(criterion_describe(c), c["weight"]) for c in v.criteria],
        }
        for v in persona_versions(persona)
    ]
    return render(
        request,
        "personas/persona_detail.html",
        {"persona": persona, "versions": versions, "sides": (MARKETING_SIDE, SALES_SIDE)},
    )


@login_required
@permission_required("personas.change_persona", raise_exception=True)
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    persona = get_object_or_404(Persona, pk=pk)
    latest = persona.versions.order_by("-number").first()
    initial = {}
    if latest is not None:  # start from the latest version: the change is then a small diff
        initial = {
            "criteria_text": criteria_to_text(latest.criteria),
            "description": latest.description,
            "pains": latest.pains,
            "goals": latest.goals,
        }
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            persona_version_create(persona=persona, actor=request.user, **_version_fields(form))
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("New draft version created."))
            return redirect("personas:detail", pk=persona.pk)
    return render(request, "personas/version_form.html", {"form": form, "persona": persona})


@login_required
@permission_required("personas.change_persona", raise_exception=True)
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(PersonaVersion.objects.select_related("persona"), pk=pk)
    if version.status != VersionStatus.DRAFT:
        messages.error(request, _("Only a draft version can be changed."))
        return redirect("personas:detail", pk=version.persona_id)
    initial = {
        "criteria_text": criteria_to_text(version.criteria),
        "description": version.description,
        "pains": version.pains,
        "goals": version.goals,
    }
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            persona_version_update(version=version, actor=request.user, **_version_fields(form))
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Draft saved; approvals must be given again."))
            return redirect("personas:detail", pk=version.persona_id)
    return render(
        request,
        "personas/version_form.html",
        {"form": form, "persona": version.persona, "version": version},
    )


@login_required
@permission_required("personas.approve_persona", raise_exception=True)
@require_POST
def version_approve(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(PersonaVersion, pk=pk)
    try:
        version = persona_version_approve(
            version=version, side=request.POST.get("side", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if version.is_active:
            messages.success(request, _("Approved by both teams: this version is now active."))
        else:
            messages.success(request, _("Approval recorded; the other team must approve too."))
    return redirect("personas:detail", pk=version.persona_id)


@login_required
@permission_required("personas.approve_persona", raise_exception=True)
@require_POST
def version_retire(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(PersonaVersion, pk=pk)
    try:
        persona_version_retire(version=version, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Version retired."))
    return redirect("personas:detail", pk=version.persona_id)
