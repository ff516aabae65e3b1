"""HTML views of the SLA: agreement versions (draft, approve, retire), the business
calendar and company holidays, and the manager compliance page.

Everyone may read the agreement and the calendar; drafting needs ``add``/``change``
``slaagreement``; approving and retiring ``approve_slaagreement`` (and the side rules in
``services``); the calendar ``change_businesscalendar``; compliance ``view_sla_compliance``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.personas.models import Persona
from renkei.sla.calendar import windows_format
from renkei.sla.compliance import compliance_report
from renkei.sla.forms import WEEKDAY_LABELS, AgreementForm, CalendarForm, HolidayForm
from renkei.sla.models import WEEKDAYS, CompanyHoliday, SlaAgreement, SlaPeriod, SlaStatus
from renkei.sla.selectors import agreement_active, agreements_list, calendar_get
from renkei.sla.services import (
    TOUCH_LABELS,
    agreement_approve,
    agreement_create,
    agreement_retire,
    agreement_update,
    calendar_update,
    company_holiday_add,
    company_holiday_delete,
)


def _persona_names(agreements: list[SlaAgreement]) -> dict[int, str]:
    ids = {c["persona"] for a in agreements for c in a.persona_commitments}
    return dict(Persona.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


@login_required
@permission_required("sla.view_slaagreement", raise_exception=True)
def agreement_list(request: HttpRequest) -> HttpResponse:
    agreements = list(agreements_list())
    names = _persona_names(agreements)
    for agreement in agreements:
        agreement.personas = [  # type: ignore[attr-defined]
            (names.get(c["persona"], "?"), c["mqls"], c["min_acceptance_rate"])
            for c in agreement.persona_commitments
        ]
    return render(
        request,
        "sla/agreement_list.html",
        {
            "agreements": agreements,
            "active": agreement_active(),
            "touch_labels": ", ".join(str(label) for label in TOUCH_LABELS.values()),
        },
    )


@login_required
@permission_required("sla.add_slaagreement", raise_exception=True)
def agreement_new(request: HttpRequest) -> HttpResponse:
    latest = SlaAgreement.objects.order_by("-number").first()
    initial = AgreementForm.initial_for(latest) if latest else {"period": SlaPeriod.MONTH}
    form = AgreementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            agreement_create(terms=form.terms(), actor=request.user)
        except ValidationError as exc:
            service_errors_to_form(form, exc, {"persona_commitments": "persona_text"})
        else:
            messages.success(request, _("SLA draft created; both teams must approve it."))
            return redirect("sla:list")
    return render(request, "sla/agreement_form.html", {"form": form, "agreement": None})


@login_required
@permission_required("sla.change_slaagreement", raise_exception=True)
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(SlaAgreement, pk=pk)
    if agreement.status != SlaStatus.DRAFT:
        messages.error(request, _("Only a draft version can be changed."))
        return redirect("sla:list")
    form = AgreementForm(request.POST or None, initial=AgreementForm.initial_for(agreement))
    if request.method == "POST" and form.is_valid():
        try:
            agreement_update(agreement=agreement, terms=form.terms(), actor=request.user)
        except ValidationError as exc:
            service_errors_to_form(form, exc, {"persona_commitments": "persona_text"})
        else:
            messages.success(request, _("Draft saved; approvals must be given again."))
            return redirect("sla:list")
    return render(request, "sla/agreement_form.html", {"form": form, "agreement": agreement})


@login_required
@permission_required("sla.approve_slaagreement", raise_exception=True)
@require_POST
def agreement_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(SlaAgreement, pk=pk)
    try:
        agreement = agreement_approve(
            agreement=agreement, side=request.POST.get("side", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if agreement.is_active:
            messages.success(request, _("Approved by both teams: this SLA is now active."))
        else:
            messages.success(request, _("Approval recorded; the other team must approve too."))
    return redirect("sla:list")


@login_required
@permission_required("sla.approve_slaagreement", raise_exception=True)
@require_POST
def agreement_retire_view(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(SlaAgreement, pk=pk)
    try:
        agreement_retire(agreement=agreement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Version retired."))
    return redirect("sla:list")


@login_required
@permission_required("sla.view_businesscalendar", raise_exception=True)
def calendar_view(request: HttpRequest) -> HttpResponse:
    calendar = calendar_get()
    days = [
        (WEEKDAY_LABELS[day], windows_format(calendar.hours.get(str(n), [])))
        for n, day in enumerate(WEEKDAYS)
    ]
    return render(
        request,
        "sla/calendar.html",
        {
            "calendar": calendar,
            "days": days,
            "holidays": calendar.company_holidays.all(),
            "holiday_form": HolidayForm(),
        },
    )


@login_required
@permission_required("sla.change_businesscalendar", raise_exception=True)
def calendar_edit(request: HttpRequest) -> HttpResponse:
    calendar = calendar_get()
    form = CalendarForm(request.POST or None, initial=CalendarForm.initial_for(calendar))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            calendar_update(
                name=data["name"],
                time_zone=data["time_zone"],
                hours=data["hours"],
                public_holidays=data["public_holidays"],
                actor=request.user,
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc, {"hours": "mon"})
        else:
            messages.success(request, _("Business calendar saved."))
            return redirect("sla:calendar")
    return render(
        request,
        "sla/calendar_form.html",
        {"form": form, "weekday_fields": [form[day] for day in WEEKDAYS]},
    )


@login_required
@permission_required("sla.change_businesscalendar", raise_exception=True)
def holiday_add(request: HttpRequest) -> HttpResponse:
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company_holiday_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Company holiday added."))
            return redirect("sla:calendar")
    status = 400 if request.method == "POST" else 200
    return render(request, "sla/holiday_form.html", {"form": form}, status=status)


@login_required
@permission_required("sla.change_businesscalendar", raise_exception=True)
@require_POST
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(CompanyHoliday, pk=pk)
    company_holiday_delete(holiday=holiday, actor=request.user)
    messages.success(request, _("Company holiday removed."))
    return redirect("sla:calendar")


@login_required
@permission_required("sla.view_sla_compliance", raise_exception=True)
def compliance(request: HttpRequest) -> HttpResponse:
    active = agreement_active()
    period = request.GET.get("period") or (active.period if active else SlaPeriod.MONTH)
    if period not in SlaPeriod.values:
        return render(request, "sla/bad_request.html", {"field": "period"}, status=400)
    try:
        offset = int(request.GET.get("offset") or 0)
        if not 0 <= offset <= 120:
            raise ValueError
    except ValueError:
        return render(request, "sla/bad_request.html", {"field": "offset"}, status=400)
    report = compliance_report(period=period, offset=offset)
    return render(
        request,
        "sla/compliance.html",
        {**report, "periods": SlaPeriod.choices, "kinds": SlaPeriod},
    )
