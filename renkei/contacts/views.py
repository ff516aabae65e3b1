"""HTML views of contacts and companies: validate with a form, call a selector or service.

Every page needs a login; every change needs the permission of the user's role (403
otherwise). Lists use keyset pages and never count more than ``COUNT_CAP`` rows.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.contacts import export
from renkei.contacts.duplicates import (
    COMPANY_REASONS,
    CONTACT_REASONS,
    REASONS,
    duplicate_groups,
    duplicate_records,
)
from renkei.contacts.forms import (
    ActivityForm,
    CompanyFilterForm,
    CompanyForm,
    ContactCreateForm,
    ContactFilterForm,
    ContactForm,
    DuplicateMergeForm,
    DuplicatesForm,
    ExportForm,
    OwnerForm,
    StageForm,
    service_errors_to_form,
)
from renkei.contacts.models import Company, Contact
from renkei.contacts.panels import contact_panels
from renkei.contacts.selectors import (
    ContactFilters,
    companies_filtered,
    company_get,
    contact_consents_latest,
    contact_get,
    contacts_filtered,
    keyset_page,
)
from renkei.contacts.services import (
    company_assign_owner,
    company_delete,
    company_update,
    company_upsert,
    contact_assign_owner,
    contact_change_stage,
    contact_delete,
    contact_update,
    contact_upsert,
)
from renkei.contacts.services.merge import company_merge, contact_merge
from renkei.events.selectors import TimelineCursor, contact_timeline
from renkei.events.services import event_record_one

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 50
COUNT_CAP = 1000  # "1,000+": an exact COUNT(*) over a million contacts is never worth it


def _post_only(back_to: str) -> Callable[..., Any]:
    """A form's POST target. A GET there (a reload after a form error, the language
    switcher's "next") goes back to the page the form lives on instead of a 405."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int) -> HttpResponse:
            if request.method != "POST":
                return redirect(back_to, pk=pk)
            return view(request, pk)

        return wrapper

    return decorator


def _capped_count(qs: QuerySet[Any], rows: list[Any], after: int | None) -> int:
    if after is None and len(rows) < PAGE_SIZE:
        return len(rows)  # the whole result is on this page: no second query
    return qs.order_by()[: COUNT_CAP + 1].count()


# ---- contacts list --------------------------------------------------------------------


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET)
    rows: list[Contact] = []
    next_cursor = None
    matches = 0
    if form.is_valid():
        qs = contacts_filtered(form.to_filters())
        after = form.cleaned_data["after"]
        rows, next_cursor = keyset_page(qs, after=after, limit=PAGE_SIZE)
        matches = _capped_count(qs, rows, after)
    context = {
        "form": form,
        "contacts": rows,
        "next_cursor": next_cursor,
        "matches": matches,
        "count_cap": COUNT_CAP,
        "filtered_company": form.company_obj,
    }
    return render(request, "contacts/contact_list.html", context)


@login_required
@permission_required("contacts.add_contact", raise_exception=True)
def contact_create(request: HttpRequest) -> HttpResponse:
    form = ContactCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            contact, _created = contact_upsert(
                actor=request.user, source="ui", **form.upsert_arguments()
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc, form.aliases)
        else:
            messages.success(request, _("The contact was created."))
            return redirect("contacts:detail", pk=contact.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": None})


# ---- export ---------------------------------------------------------------------------


@login_required
@permission_required("contacts.export_contact", raise_exception=True)
def contact_export(request: HttpRequest) -> HttpResponseBase:
    """The list's contacts, with the list's filters, as CSV (streamed) or XLSX."""
    filter_form = ContactFilterForm(request.GET)
    export_form = ExportForm(request.GET)
    if not (filter_form.is_valid() and export_form.is_valid()):
        context = {"forms": [filter_form, export_form]}
        return render(request, "contacts/export_error.html", context, status=400)
    filters = filter_form.to_filters()
    qs = contacts_filtered(filters)
    kind = export_form.cleaned_data["format"]
    # Counting is an index scan even at a million rows; the export itself costs far more.
    rows = qs.order_by().count()
    limit = export.xlsx_row_limit()
    if kind == "xlsx" and rows > limit:
        messages.error(
            request,
            _(
                "Excel exports hold at most %(limit)s rows and these filters match "
                "%(rows)s contacts. Narrow the filters or export CSV."
            )
            % {"limit": f"{limit:,}", "rows": f"{rows:,}"},
        )
        query = request.GET.copy()
        query.pop("format", None)
        return redirect(f"{reverse('contacts:list')}?{query.urlencode()}")
    audit_record(
        actor=request.user,
        action="contact.export",
        object_type="contact",
        object_id=None,
        changes={"format": kind, "rows": rows, "filters": _filters_for_audit(asdict(filters))},
    )
    return _export_response(qs, kind)


def _filters_for_audit(filters: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in filters.items()
        if value not in (None, "", [])
    }


def _export_response(qs: QuerySet[Contact], kind: str) -> HttpResponseBase:
    content_type, extension = ExportForm.FORMATS[kind]
    filename = f"contacts-{timezone.localtime():%Y%m%d-%H%M}.{extension}"
    response: HttpResponseBase
    if kind == "xlsx":
        response = FileResponse(export.xlsx_file(qs), content_type=content_type)
    else:
        encoding = "cp932" if kind == "csv-cp932" else "utf-8-sig"
        response = StreamingHttpResponse(
            export.csv_chunks(qs, encoding=encoding), content_type=content_type
        )
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    response["Cache-Control"] = "private, no-store"  # personal data: no shared caches
    return response


# ---- one contact ----------------------------------------------------------------------


def _get_contact(pk: int) -> Contact:
    contact = contact_get(pk)
    if contact is None:
        raise Http404
    return contact


def _timeline_context(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    before = None
    if raw := request.GET.get("before"):
        try:
            before = TimelineCursor.parse(raw)
        except ValueError:
            before = None  # a damaged link shows the newest page rather than an error
    page = contact_timeline(contact.pk, before=before, limit=TIMELINE_PAGE_SIZE)
    return {"contact": contact, "timeline": page.items, "timeline_next": page.next_cursor}


def _render_detail(request: HttpRequest, contact: Contact, **forms: Any) -> HttpResponse:
    user = request.user
    context = _timeline_context(request, contact)
    context["consents"] = contact_consents_latest(contact)
    context["panel_templates"], panel_variables = contact_panels(contact)
    context.update(panel_variables)
    if user.has_perm("contacts.change_lifecycle_stage"):
        forms.setdefault("stage_form", StageForm(initial={"to_stage": contact.lifecycle_stage}))
    if user.has_perm("contacts.assign_owner"):
        forms.setdefault("owner_form", OwnerForm(initial={"owner": contact.owner_id}))
    if user.has_perm("events.add_event"):
        forms.setdefault("activity_form", ActivityForm())
    return render(request, "contacts/contact_detail.html", {**context, **forms})


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_contact(pk))


@login_required
def contact_timeline_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline's items alone: the "older" button of the contact page loads these."""
    contact = get_object_or_404(Contact.objects.only("id"), pk=pk)
    return render(request, "contacts/_timeline_items.html", _timeline_context(request, contact))


@login_required
@permission_required("contacts.change_lifecycle_stage", raise_exception=True)
@_post_only("contacts:detail")
def contact_stage(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(pk)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            transition = contact_change_stage(
                contact=contact,
                to_stage=form.cleaned_data["to_stage"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                source="ui",
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if transition is None:
                messages.info(request, _("The contact is already in this stage."))
            else:
                messages.success(request, _("The lifecycle stage was changed."))
            return redirect("contacts:detail", pk=contact.pk)
    return _render_detail(request, contact, stage_form=form)


@login_required
@permission_required("contacts.assign_owner", raise_exception=True)
@_post_only("contacts:detail")
def contact_owner(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(pk)
    form = OwnerForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, contact, owner_form=form)
    contact_assign_owner(contact=contact, owner=form.cleaned_data["owner"], actor=request.user)
    messages.success(request, _("The owner was changed."))
    return redirect("contacts:detail", pk=contact.pk)


@login_required
@permission_required("events.add_event", raise_exception=True)
@_post_only("contacts:detail")
def contact_activity(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(pk)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, contact, activity_form=form)
    event_record_one(
        contact=contact,
        type=form.cleaned_data["type"],
        properties={"body": form.cleaned_data["body"]},
        occurred_at=form.cleaned_data["occurred_at"],
        actor=request.user,
    )
    messages.success(request, _("The activity was logged."))
    return redirect("contacts:detail", pk=contact.pk)


@login_required
@permission_required("contacts.change_contact", raise_exception=True)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(pk)
    if request.method != "POST":
        form = ContactForm(initial=ContactForm.initial_for(contact))
    else:
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact_update(contact=contact, actor=request.user, **form.changes_for(contact))
            except ValidationError as exc:
                service_errors_to_form(form, exc, form.aliases)
            else:
                messages.success(request, _("The contact was saved."))
                return redirect("contacts:detail", pk=contact.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


@login_required
@permission_required("contacts.delete_contact", raise_exception=True)
def contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(pk)
    if request.method == "POST":
        contact_delete(contact=contact, actor=request.user)
        messages.success(request, _("The contact and its personal data were erased."))
        return redirect("contacts:list")
    return render(request, "contacts/confirm_delete.html", {"object": contact, "kind": "contact"})


# ---- companies ------------------------------------------------------------------------


@login_required
def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanyFilterForm(request.GET)
    rows: list[Company] = []
    next_cursor = None
    if form.is_valid():
        qs = companies_filtered(form.to_filters())
        rows, next_cursor = keyset_page(qs, after=form.cleaned_data["after"], limit=PAGE_SIZE)
    context = {"form": form, "companies": rows, "next_cursor": next_cursor}
    return render(request, "contacts/company_list.html", context)


def _get_company(pk: int) -> Company:
    company = company_get(pk)
    if company is None:
        raise Http404
    return company


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = _get_company(pk)
    contacts, more = keyset_page(
        contacts_filtered(ContactFilters(company_id=company.pk)), after=None, limit=PAGE_SIZE
    )
    context: dict[str, Any] = {"company": company, "contacts": contacts, "more_contacts": more}
    if request.user.has_perm("contacts.assign_owner"):
        context["owner_form"] = OwnerForm(initial={"owner": company.owner_id})
    return render(request, "contacts/company_detail.html", context)


@login_required
@permission_required("contacts.add_company", raise_exception=True)
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            company, created = company_upsert(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            if created:
                messages.success(request, _("The company was created."))
            else:
                messages.info(
                    request,
                    _("A company with this domain or name already existed; it was updated."),
                )
            return redirect("contacts:company_detail", pk=company.pk)
    return render(request, "contacts/company_form.html", {"form": form, "company": None})


@login_required
@permission_required("contacts.change_company", raise_exception=True)
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _get_company(pk)
    if request.method != "POST":
        form = CompanyForm(initial=CompanyForm.initial_for(company))
    else:
        form = CompanyForm(request.POST)
        if form.is_valid():
            try:
                company_update(company=company, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, _("The company was saved."))
                return redirect("contacts:company_detail", pk=company.pk)
    return render(request, "contacts/company_form.html", {"form": form, "company": company})


@login_required
@permission_required("contacts.assign_owner", raise_exception=True)
@_post_only("contacts:company_detail")
def company_owner(request: HttpRequest, pk: int) -> HttpResponse:
    company = _get_company(pk)
    form = OwnerForm(request.POST)
    if form.is_valid():
        company_assign_owner(company=company, owner=form.cleaned_data["owner"], actor=request.user)
        messages.success(request, _("The owner was changed."))
    else:
        messages.error(request, _("Choose an active user as the owner."))
    return redirect("contacts:company_detail", pk=company.pk)


@login_required
@permission_required("contacts.delete_company", raise_exception=True)
def company_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    company = _get_company(pk)
    if request.method == "POST":
        company_delete(company=company, actor=request.user)
        messages.success(request, _("The company was deleted; its contacts remain."))
        return redirect("contacts:company_list")
    return render(request, "contacts/confirm_delete.html", {"object": company, "kind": "company"})


# ---- duplicates -----------------------------------------------------------------------

MERGE_PERMISSIONS = {"contact": "contacts.merge_contact", "company": "contacts.merge_company"}


def _reasons_for(user: Any) -> list[str]:
    """The reasons whose groups the user may merge, contacts' first."""
    reasons = []
    if user.has_perm(MERGE_PERMISSIONS["contact"]):
        reasons += list(CONTACT_REASONS)
    if user.has_perm(MERGE_PERMISSIONS["company"]):
        reasons += list(COMPANY_REASONS)
    return reasons


@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    """Likely duplicate contacts and companies, a reason at a time, with a merge form each."""
    allowed = _reasons_for(request.user)
    if not allowed:
        raise PermissionDenied
    form = DuplicatesForm(request.GET)
    if not form.is_valid():
        return render(request, "contacts/duplicates.html", {"form": form}, status=400)
    reason = form.cleaned_data["reason"] or allowed[0]
    if reason not in allowed:
        raise PermissionDenied
    after = form.cleaned_data["after"] or None
    groups, next_after = duplicate_groups(reason, after=after)
    context = {
        "form": form,
        "reason": reason,
        "tabs": [(r, REASONS[r]) for r in allowed],
        "groups": groups,
        "next_after": next_after,
        "after": after,
    }
    return render(request, "contacts/duplicates.html", context)


def _duplicates_url(reason: str) -> str:
    return f"{reverse('contacts:duplicates')}?reason={reason}"


@login_required
def duplicates_merge(request: HttpRequest) -> HttpResponse:
    """Merge a group: the first POST shows what will happen, the confirmed one merges."""
    if request.method != "POST":
        return redirect("contacts:duplicates")
    form = DuplicateMergeForm(request.POST)
    if not form.is_valid():
        if not _reasons_for(request.user):
            raise PermissionDenied
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        reason = form.cleaned_data.get("reason", "")
        return redirect(_duplicates_url(reason) if reason else reverse("contacts:duplicates"))
    kind, reason = form.kind, form.cleaned_data["reason"]
    if not request.user.has_perm(MERGE_PERMISSIONS[kind]):
        raise PermissionDenied
    ids = form.cleaned_data["members"]
    records = duplicate_records(kind, ids)
    if len(records) != len(ids):
        messages.error(request, _("Some of these records no longer exist; the list is updated."))
        return redirect(_duplicates_url(reason))
    keep = records[form.cleaned_data["keep"]]
    others = [records[pk] for pk in ids if pk != keep.pk]
    if not form.cleaned_data["confirm"]:
        context = {"kind": kind, "reason": reason, "keep": keep, "kept": [keep], "others": others}
        return render(request, "contacts/duplicates_confirm.html", context)
    try:
        _merge_group(kind, keep, others, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_duplicates_url(reason))
    messages.success(
        request,
        _("%(count)s records were merged into %(name)s.") % {"count": len(others), "name": keep},
    )
    return redirect(_duplicates_url(reason))


@transaction.atomic
def _merge_group(kind: str, keep: Any, others: list[Any], actor: Any) -> None:
    """All of the group or none of it."""
    for other in others:
        if kind == "company":
            keep = company_merge(keep=keep, merge=other, actor=actor)
        else:
            keep = contact_merge(winner=keep, loser=other, actor=actor)
