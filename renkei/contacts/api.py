"""``/api/v1/contacts`` and ``/api/v1/companies``: validate, check the role, call a service.

Everyone with a token may read; writes need the permission of the role (roles.py).
Errors name the field: 404 for an unknown id in the path, 422 for a bad value (an id in
the body that points at nothing, such as ``company_id``, ``owner_id`` or ``other_id``,
is a bad value), 409 for a change that collides with the current data (an email or
domain that is taken, a stage changed meanwhile).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError
from pydantic import BaseModel

from renkei.api import api, require_perm
from renkei.contacts import selectors, services
from renkei.contacts.models import Company, Contact
from renkei.contacts.schemas import (
    MAX_ID,
    CompanyIn,
    CompanyListQuery,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    CompanyUpsertOut,
    ContactIn,
    ContactListQuery,
    ContactOut,
    ContactPage,
    ContactPatch,
    ContactUpsertOut,
    ErrorOut,
    MergeIn,
    TransitionOut,
)

contacts_router = Router(tags=["contacts"])
companies_router = Router(tags=["companies"])

# The error statuses each kind of operation can answer, so the OpenAPI document is complete:
# 401 bad token, 422 bad parameter or value, 400 unparsable body, 403 role, 404 unknown id
# in the path, 409 conflict with the current data.
_READ = {401: ErrorOut, 422: ErrorOut}
_WRITE = {400: ErrorOut, **_READ, 403: ErrorOut, 409: ErrorOut}
_DELETE = {**_READ, 403: ErrorOut}
_ITEM = {404: ErrorOut}

PathId = Path(..., ge=1, le=MAX_ID)


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [{"loc": [f], "msg": "; ".join(m)} for f, m in exc.message_dict.items()]
    return [{"loc": [], "msg": "; ".join(exc.messages)}]


@api.exception_handler(services.Conflict)
def on_conflict(request: HttpRequest, exc: services.Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": _field_errors(exc)}, status=409)


def _contact(pk: int) -> Contact:
    contact = selectors.contact_get(pk)
    if contact is None:
        raise HttpError(404, f"id: no contact with id {pk}")
    return contact


def _company(pk: int) -> Company:
    company = selectors.company_get(pk)
    if company is None:
        raise HttpError(404, f"id: no company with id {pk}")
    return company


def _owner(owner_id: int | None) -> AbstractBaseUser | None:
    if owner_id is None:
        return None
    user = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if user is None:
        raise services.ReferenceNotFound({"owner_id": f"no active user with id {owner_id}"})
    return user


def _sent(payload: BaseModel) -> dict[str, Any]:
    """The fields the client sent (a PATCH changes only those)."""
    return payload.model_dump(exclude_unset=True)


def _cursor(value: str | None) -> int | None:
    return int(value) if value else None


def _page(rows: list[Any], next_id: int | None) -> dict[str, Any]:
    return {"items": rows, "next_cursor": str(next_id) if next_id is not None else None}


def _check(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


# ---- contacts --------------------------------------------------------------------------


@contacts_router.post(
    "",
    response={200: ContactUpsertOut, 201: ContactUpsertOut, **_WRITE},
    summary="Create or update",
)
def contact_upsert(request: HttpRequest, payload: ContactIn) -> Any:
    """Create the contact with this email, or fill in the one that has it (emails match
    after NFKC and lower-casing: ＴＡＲＯ@Example.jp is taro@example.jp). Empty values do
    not blank stored ones. 201 when created, 200 when updated; ``created`` says which."""
    data = _sent(payload)
    require_perm(request, "contacts.add_contact")
    require_perm(request, "contacts.change_contact")
    if data.get("lifecycle_stage"):
        require_perm(request, "contacts.change_lifecycle_stage")
    owner: Any = services.KEEP
    if data.get("owner_id") is not None:
        require_perm(request, "contacts.assign_owner")
        owner = _owner(data["owner_id"])
    data.pop("owner_id", None)
    contact, created = services.contact_upsert(
        actor=request.user,
        email=data.pop("email"),
        source=data.pop("source", "") or "api",
        lifecycle_stage=data.pop("lifecycle_stage", None) or "",
        stage_reason=data.pop("reason", ""),
        owner=owner,
        via="api",
        **data,
    )
    return Status(201 if created else 200, {"created": created, "contact": _contact(contact.pk)})


@contacts_router.get("", response={200: ContactPage, **_READ}, summary="List and filter")
def contact_list(request: HttpRequest, params: Query[ContactListQuery]) -> Any:
    """Newest first. Filters combine with AND; ``stage`` may repeat. Pages are keyset
    pages: pass ``next_cursor`` back as ``cursor`` until it is null."""
    filters = selectors.ContactFilters(
        stages=list(params.stage),
        owner_id=params.owner_id,
        company_id=params.company_id,
        score_min=params.score_min,
        score_max=params.score_max,
        created_from=params.created_from,
        created_to=params.created_to,
        q=params.q,
    )
    _check(filters.errors())
    rows, next_id = selectors.keyset_page(
        selectors.contacts_filtered(filters), after=_cursor(params.cursor), limit=params.limit
    )
    return _page(rows, next_id)


@contacts_router.get("/{id}", response={200: ContactOut, **_ITEM, **_READ}, summary="Get")
def contact_detail(request: HttpRequest, id: int = PathId) -> Any:
    return _contact(id)


@contacts_router.patch("/{id}", response={200: ContactOut, **_ITEM, **_WRITE}, summary="Update")
def contact_patch(request: HttpRequest, payload: ContactPatch, id: int = PathId) -> Any:
    """Personal fields need change_contact, ``lifecycle_stage`` (with ``reason`` when it
    moves backwards) change_lifecycle_stage, ``owner_id`` assign_owner. All or nothing."""
    data = _sent(payload)
    contact = _contact(id)
    stage = data.pop("lifecycle_stage", None) or ""
    reason = data.pop("reason", "")
    owner: Any = services.KEEP
    if "owner_id" in data:
        require_perm(request, "contacts.assign_owner")
        owner = _owner(data.pop("owner_id"))
    if stage:
        require_perm(request, "contacts.change_lifecycle_stage")
    if data:
        require_perm(request, "contacts.change_contact")
    services.contact_edit(
        contact=contact,
        actor=request.user,
        lifecycle_stage=stage,
        reason=reason,
        owner=owner,
        source="api",
        **data,
    )
    return _contact(id)


@contacts_router.delete("/{id}", response={204: None, **_ITEM, **_DELETE}, summary="Erase")
def contact_erase(request: HttpRequest, id: int = PathId) -> Any:
    """Erase the contact's personal data, events, visitors and stage history; the audit
    trail keeps who erased it and when, with the values blanked."""
    require_perm(request, "contacts.delete_contact")
    services.contact_delete(contact=_contact(id), actor=request.user)
    return Status(204, None)


@contacts_router.post(
    "/{id}/merge", response={200: ContactOut, **_ITEM, **_WRITE}, summary="Merge another contact in"
)
def contact_merge(request: HttpRequest, payload: MergeIn, id: int = PathId) -> Any:
    """Merge ``other_id`` into this contact: its events, stage history and visitors move
    here, blank fields are filled from it, then it is deleted."""
    require_perm(request, "contacts.merge_contact")
    winner = _contact(id)
    loser = selectors.contact_get(payload.other_id)
    if loser is None:
        raise services.ReferenceNotFound({"other_id": f"no contact with id {payload.other_id}"})
    services.contact_merge(winner=winner, loser=loser, actor=request.user)
    return _contact(id)


@contacts_router.get(
    "/{id}/transitions",
    response={200: list[TransitionOut], **_ITEM, **_READ},
    summary="Stage history",
)
def contact_transition_list(request: HttpRequest, id: int = PathId) -> Any:
    """Every change of lifecycle stage, newest first: from, to, when, who and why."""
    contact = _contact(id)
    return list(selectors.contact_transitions(contact.pk))


# ---- companies -------------------------------------------------------------------------


@companies_router.post(
    "",
    response={200: CompanyUpsertOut, 201: CompanyUpsertOut, **_WRITE},
    summary="Create or update",
)
def company_upsert(request: HttpRequest, payload: CompanyIn) -> Any:
    """Find the company by domain, then by normalised name (株式会社 / (株) / ㈱ before or
    after, width and spaces do not matter), and fill it in; else create it."""
    data = _sent(payload)
    require_perm(request, "contacts.add_company")
    require_perm(request, "contacts.change_company")
    owner: Any = services.KEEP
    if data.get("owner_id") is not None:
        require_perm(request, "contacts.assign_owner")
        owner = _owner(data["owner_id"])
    data.pop("owner_id", None)
    company, created = services.company_upsert(
        actor=request.user, name=data.pop("name"), owner=owner, **data
    )
    return Status(201 if created else 200, {"created": created, "company": _company(company.pk)})


@companies_router.get("", response={200: CompanyPage, **_READ}, summary="List and filter")
def company_list(request: HttpRequest, params: Query[CompanyListQuery]) -> Any:
    """Newest first, keyset pages like the contacts list."""
    filters = selectors.CompanyFilters(
        q=params.q, industry=params.industry, prefecture=params.prefecture, owner_id=params.owner_id
    )
    _check(filters.errors())
    rows, next_id = selectors.keyset_page(
        selectors.companies_filtered(filters), after=_cursor(params.cursor), limit=params.limit
    )
    return _page(rows, next_id)


@companies_router.get("/{id}", response={200: CompanyOut, **_ITEM, **_READ}, summary="Get")
def company_detail(request: HttpRequest, id: int = PathId) -> Any:
    return _company(id)


@companies_router.patch("/{id}", response={200: CompanyOut, **_ITEM, **_WRITE}, summary="Update")
def company_patch(request: HttpRequest, payload: CompanyPatch, id: int = PathId) -> Any:
    """Fields need change_company, ``owner_id`` assign_owner. All or nothing."""
    data = _sent(payload)
    company = _company(id)
    owner: Any = services.KEEP
    if "owner_id" in data:
        require_perm(request, "contacts.assign_owner")
        owner = _owner(data.pop("owner_id"))
    if data:
        require_perm(request, "contacts.change_company")
    services.company_edit(company=company, actor=request.user, owner=owner, **data)
    return _company(id)


@companies_router.delete("/{id}", response={204: None, **_ITEM, **_DELETE}, summary="Delete")
def company_remove(request: HttpRequest, id: int = PathId) -> Any:
    """Delete the company; its contacts stay, without a company."""
    require_perm(request, "contacts.delete_company")
    services.company_delete(company=_company(id), actor=request.user)
    return Status(204, None)
