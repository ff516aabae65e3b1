"""HTML views of contacts and companies: validate with a form, call a selector or service.

Every page needs a login; every change needs the permission of the user's role (403
otherwise). Lists use keyset pages and never count more than ``COUNT_CAP`` rows.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from renkei.contacts.forms import (
    ActivityForm,
    CompanyFilterForm,
    CompanyForm,
    ContactCreateForm,
    ContactFilterForm,
    ContactForm,
    OwnerForm,
    StageForm,
    service_errors_to_form,
)
from renkei.contacts.models import Company, Contact
from renkei.contacts.selectors import (
    ContactFilters,
    companies_filtered,
    company_get,
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
