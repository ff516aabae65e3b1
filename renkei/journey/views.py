"""HTML views of the customer journey: the path with counts, and stage edit pages.

Every page needs a login; changes need the permission of the user's role (403 otherwise).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from renkei.accounts.forms import service_errors_to_form
from renkei.contacts.models import LifecycleStage
from renkei.journey.entry_signals import signal_format
from renkei.journey.forms import JourneyStageForm
from renkei.journey.models import JourneyStage
from renkei.journey.selectors import journey_stage_persona_counts, journey_stages
from renkei.journey.services import (
    journey_stage_create,
    journey_stage_delete,
    journey_stage_update,
)

_LIFECYCLE_LABELS = dict(LifecycleStage.choices)


@login_required
@permission_required("journey.view_journeystage", raise_exception=True)
def journey_index(request: HttpRequest) -> HttpResponse:
    counts = journey_stage_persona_counts()
    stages = list(journey_stages())
    rows = [
        {
            "stage": stage,
            "count": counts.stage_total(stage.pk),
            "lifecycle": [_LIFECYCLE_LABELS.get(s, s) for s in stage.lifecycle_stages],
            "signals": [signal_format(s) for s in stage.entry_signals],
            "by_persona": [counts.count(stage.pk, p.pk) for p in counts.personas],
            "no_persona": counts.count(stage.pk, None),
        }
        for stage in stages
    ]
    context = {
        "rows": rows,
        "total": counts.total,
        "personas": counts.personas,
        "persona_totals": [counts.persona_total(p.pk) for p in counts.personas],
        "no_persona_total": counts.persona_total(None),
    }
    return render(request, "journey/index.html", context)


def _save(request: HttpRequest, stage: JourneyStage | None) -> HttpResponse:
    if request.method != "POST":
        initial = JourneyStageForm.initial_for(stage) if stage else None
        form = JourneyStageForm(initial=initial)
    else:
        form = JourneyStageForm(request.POST)
        if form.is_valid():
            try:
                if stage:
                    journey_stage_update(actor=request.user, stage=stage, **form.service_kwargs())
                else:
                    journey_stage_create(actor=request.user, **form.service_kwargs())
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, _("The journey stage was saved."))
                return redirect("journey:index")
    return render(request, "journey/stage_form.html", {"form": form, "stage": stage})


@login_required
@permission_required("journey.add_journeystage", raise_exception=True)
def stage_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
@permission_required("journey.change_journeystage", raise_exception=True)
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, get_object_or_404(JourneyStage, pk=pk))


@login_required
@permission_required("journey.delete_journeystage", raise_exception=True)
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(JourneyStage, pk=pk)
    if request.method == "POST":
        journey_stage_delete(actor=request.user, stage=stage)
        messages.success(request, _("The journey stage was deleted."))
        return redirect("journey:index")
    return render(request, "journey/stage_delete.html", {"stage": stage})
