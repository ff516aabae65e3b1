"""HTML views of deals: the board, the list, a deal's page, editing, moving, closing,
and the pipelines' settings.

Everyone with ``view_deal`` reads; ``add_deal`` creates; changing a deal needs its
ownership (``change_deal``) or ``change_any_deal``; pipelines need ``change_pipeline``.
The move endpoint answers JSON to the board's script and HTML otherwise; a stale move
(the card's stage changed meanwhile) is a 409 with the message.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.contacts.models import Contact
from renkei.contacts.services import Conflict
from renkei.deals.forms import (
    CloseForm,
    DealFilterForm,
    DealForm,
    MoveForm,
    PipelineForm,
    StageForm,
)
from renkei.deals.models import Deal, DealStatus, Pipeline, PipelineStage
from renkei.deals.selectors import (
    DealFilters,
    deal_board,
    deal_contacts,
    deal_detail,
    deal_history,
    deals_page,
    pipelines_with_stages,
)
from renkei.deals.services import (
    deal_can_change,
    deal_close,
    deal_create,
    deal_move,
    deal_update,
    next_stage_order,
    pipeline_create,
    pipeline_default,
    pipeline_stage_delete,
    pipeline_stage_save,
)
from renkei.deals.templatetags.deals import yen


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@login_required
@permission_required("deals.view_deal", raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    pipelines = list(Pipeline.objects.all())
    chosen = _int_param(request, "pipeline")
    pipeline = next((p for p in pipelines if p.pk == chosen), None) or pipeline_default()
    owner_id = _int_param(request, "owner")
    if request.GET.get("mine") and request.user.is_authenticated:
        owner_id = request.user.pk
    columns = deal_board(pipeline=pipeline, owner_id=owner_id)
    return render(
        request,
        "deals/board.html",
        {
            "pipeline": pipeline,
            "pipelines": pipelines,
            "columns": columns,
            "stages": [c.stage for c in columns],
            "owner_id": owner_id,
            "mine": bool(request.GET.get("mine")),
        },
    )


@login_required
@permission_required("deals.view_deal", raise_exception=True)
def deal_list(request: HttpRequest) -> HttpResponse:
    form = DealFilterForm(request.GET or None)
    filters = DealFilters()
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = DealFilters(
                owner_id=data["owner"].pk if data["owner"] else None,
                stage_id=data["stage"].pk if data["stage"] else None,
                status=data["status"],
                close_month=data["close_month"],
            )
        else:
            status = 400
    deals, next_cursor = deals_page(filters=filters, before=_int_param(request, "before"))
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "deals/deal_list.html",
        {"form": form, "deals": deals, "next_cursor": next_cursor, "query": query.urlencode()},
        status=status,
    )


@login_required
@permission_required("deals.view_deal", raise_exception=True)
def deal_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        deal = deal_detail(pk)
    except Deal.DoesNotExist as exc:
        raise Http404 from exc
    return _render_detail(request, deal)


def _render_detail(
    request: HttpRequest, deal: Deal, close_form: CloseForm | None = None, status: int = 200
) -> HttpResponse:
    stages = list(PipelineStage.objects.filter(pipeline_id=deal.pipeline_id))
    return render(
        request,
        "deals/deal_detail.html",
        {
            "deal": deal,
            "contacts": deal_contacts(deal),
            "history": deal_history(deal),
            "stages": stages,
            "can_change": deal_can_change(request.user, deal),
            "close_form": close_form
            or CloseForm(initial={"expected_stage": deal.stage_id, "outcome": DealStatus.WON}),
        },
        status=status,
    )


@login_required
@permission_required("deals.add_deal", raise_exception=True)
def deal_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"pipeline": pipeline_default(), "owner": request.user}
    contact_id = _int_param(request, "contact")
    contact = Contact.objects.select_related("company").filter(pk=contact_id or 0).first()
    if contact is not None:
        initial.update(
            name=f"{contact.company.name if contact.company else contact} — {_('new deal')}",
            contacts=contact.email,
            company=contact.company_id,
            source_campaign=contact.first_campaign_id,
        )
    form = DealForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal = deal_create(
                name=data["name"],
                pipeline=data["pipeline"],
                stage=data["stage"],
                amount=data["amount"],
                expected_close_date=data["expected_close_date"],
                owner=data["owner"],
                company=data["company"],
                contact_ids=data["contacts"],
                source_campaign=data["source_campaign"],
                actor=request.user,
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc, aliases={"contact_ids": "contacts"})
        else:
            messages.success(request, _("Deal created."))
            return redirect("deals:detail", pk=deal.pk)
    status = 400 if form.errors else 200
    return render(request, "deals/deal_form.html", {"form": form, "deal": None}, status=status)


@login_required
@permission_required("deals.change_deal", raise_exception=True)
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.select_related("company", "owner"), pk=pk)
    if not deal_can_change(request.user, deal):
        raise PermissionDenied
    emails = "\n".join(
        Contact.objects.filter(deal_links__deal=deal).order_by("id").values_list("email", flat=True)
    )
    initial = {
        "name": deal.name,
        "amount": deal.amount,
        "expected_close_date": deal.expected_close_date,
        "owner": deal.owner_id,
        "contacts": emails,
        "company": deal.company_id,
        "source_campaign": deal.source_campaign_id,
    }
    form = DealForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal_update(
                deal=deal,
                actor=request.user,
                name=data["name"],
                amount=data["amount"],
                expected_close_date=data["expected_close_date"],
                owner=data["owner"],
                company=data["company"],
                contact_ids=data["contacts"],
                source_campaign=data["source_campaign"],
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc, aliases={"contact_ids": "contacts"})
        else:
            messages.success(request, _("Deal saved."))
            return redirect("deals:detail", pk=deal.pk)
    status = 400 if form.errors else 200
    return render(request, "deals/deal_form.html", {"form": form, "deal": deal}, status=status)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _column_totals(pipeline_id: int) -> dict[str, dict[str, Any]]:
    rows = (
        Deal.objects.filter(pipeline_id=pipeline_id, status=DealStatus.OPEN)
        .values("stage_id")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    return {str(r["stage_id"]): {"count": r["n"], "total": yen(r["total"] or 0)} for r in rows}


def _move_error(
    request: HttpRequest, deal: Deal, errors: dict[str, list[str]], status: int
) -> HttpResponse:
    if _wants_json(request):
        message = " ".join(m for msgs in errors.values() for m in msgs)
        return JsonResponse({"errors": errors, "message": message}, status=status)
    for msgs in errors.values():
        for message in msgs:
            messages.error(request, message)
    return _render_detail(request, deal_detail(deal.pk), status=status)


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(msgs) for field, msgs in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


@login_required
@permission_required("deals.change_deal", raise_exception=True)
@require_POST
def deal_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}
        return _move_error(request, deal, errors, 400)
    data = form.cleaned_data
    to_stage = PipelineStage.objects.filter(pk=data["stage"]).first()
    if to_stage is None:
        return _move_error(request, deal, {"stage": [_("No such stage.")]}, 400)
    try:
        deal_move(
            deal=deal,
            to_stage=to_stage,
            actor=request.user,
            expected_stage_id=data["expected_stage"],
            lost_reason=data["lost_reason"],
            note=data["note"],
        )
    except PermissionDenied as exc:
        if _wants_json(request):
            return JsonResponse({"message": str(exc)}, status=403)
        raise
    except Conflict as exc:
        return _move_error(request, deal, _error_dict(exc), 409)
    except ValidationError as exc:
        return _move_error(request, deal, _error_dict(exc), 400)
    if _wants_json(request):
        return JsonResponse(
            {"deal": deal.pk, "stage": to_stage.pk, "columns": _column_totals(deal.pipeline_id)}
        )
    messages.success(request, _("Deal moved to “%(stage)s”.") % {"stage": to_stage.name})
    return redirect(request.POST.get("next") or reverse("deals:detail", args=[deal.pk]))


@login_required
@permission_required("deals.change_deal", raise_exception=True)
@require_POST
def deal_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            deal_close(
                deal=deal,
                won=data["outcome"] == DealStatus.WON,
                lost_reason=data["lost_reason"],
                note=data["note"],
                expected_stage_id=data["expected_stage"],
                actor=request.user,
            )
        except Conflict as exc:
            service_errors_to_form(form, exc)
            return _render_detail(request, deal_detail(deal.pk), form, status=409)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            won = data["outcome"] == DealStatus.WON
            messages.success(request, _("Deal marked won.") if won else _("Deal marked lost."))
            return redirect("deals:detail", pk=deal.pk)
    return _render_detail(request, deal_detail(deal.pk), form, status=400)


# ---- pipelines -------------------------------------------------------------------------


@login_required
@permission_required("deals.view_pipeline", raise_exception=True)
def pipeline_list(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("deals.add_pipeline"):
            raise PermissionDenied
        if form.is_valid():
            try:
                pipeline_create(name=form.cleaned_data["name"], actor=request.user)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, _("Pipeline created."))
                return redirect("deals:pipelines")
    return render(
        request,
        "deals/pipelines.html",
        {"pipelines": pipelines_with_stages(), "form": form},
        status=400 if form.errors else 200,
    )


def _stage_form_page(
    request: HttpRequest, pipeline: Pipeline, stage: PipelineStage | None
) -> HttpResponse:
    if stage is None:
        initial = {"order": next_stage_order(pipeline), "probability": 50}
    else:
        initial = {
            f: getattr(stage, f) for f in ("name", "order", "probability", "is_won", "is_lost")
        }
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline_stage_save(
                pipeline=pipeline, stage=stage, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("deals:pipelines")
    return render(
        request,
        "deals/stage_form.html",
        {"form": form, "pipeline": pipeline, "stage": stage},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("deals.change_pipeline", raise_exception=True)
def stage_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _stage_form_page(request, get_object_or_404(Pipeline, pk=pk), None)


@login_required
@permission_required("deals.change_pipeline", raise_exception=True)
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(PipelineStage.objects.select_related("pipeline"), pk=pk)
    return _stage_form_page(request, stage.pipeline, stage)


@login_required
@permission_required("deals.change_pipeline", raise_exception=True)
@require_POST
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(PipelineStage.objects.select_related("pipeline"), pk=pk)
    try:
        pipeline_stage_delete(stage=stage, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Stage deleted."))
    return redirect("deals:pipelines")
