"""Writes to companies: find by domain then normalised name, upsert, edit, owner, delete."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.contacts.models import Company
from renkei.contacts.services.cleaning import _clean_company_data
from renkei.contacts.services.common import (
    KEEP,
    Actor,
    Conflict,
    _contacts_refresh_search_text,
    _derive_on_commit,
    _diff,
    _jsonable,
    _Keep,
    _user_id,
)
from renkei.lib import japanese as ja


def company_find(*, domain: str = "", name: str = "") -> Company | None:
    """The existing company for a domain, else for a normalised name.

    When a domain is given but unknown, only companies without a domain match by name:
    two 山田商事 with different domains are two companies, not one.
    """
    domain = ja.normalize_domain(domain)
    if domain and (found := Company.objects.filter(domain=domain).first()):
        return found
    key = ja.normalize_company_name(name)
    if not key:
        return None
    same_name = Company.objects.filter(name_normalized=key)
    if domain:
        same_name = same_name.filter(domain="")
    return same_name.order_by("id").first()


@transaction.atomic
def company_upsert(
    *,
    actor: Actor,
    name: str,
    domain: str = "",
    owner: AbstractBaseUser | _Keep | None = KEEP,
    **data: Any,
) -> tuple[Company, bool]:
    """Find the company by domain then normalised name and fill it in, or create it.

    An upsert fills in, it does not blank: empty incoming values keep what is stored, and
    it never renames (ABC㈱ finds 株式会社ABC and leaves its name; rename with
    ``company_update``).
    """
    if "owner" in data or "owner_id" in data:
        raise ValidationError({"owner_id": "pass owner= (a user) to company_upsert"})
    clean = _clean_company_data({"name": name, "domain": domain, **data})
    company = company_find(domain=clean["domain"], name=clean["name"])
    if company is None:
        company = Company(name_normalized=ja.normalize_company_name(clean["name"]), **clean)
        if owner is not KEEP:
            company.owner = owner  # type: ignore[assignment]
        try:
            with transaction.atomic():
                company.save()
        except IntegrityError:
            # Another request created the same domain between our read and our insert.
            raise Conflict({"domain": _("a company with this domain was just created")}) from None
        audit_record(
            actor=actor,
            action="company.create",
            object_type="company",
            object_id=company.pk,
            changes=_jsonable({"owner_id": [None, company.owner_id]} if company.owner_id else {}),
        )
        return company, True
    # The name stays: it matched (in some spelling) or the domain did; renaming is an edit.
    fill = {k: v for k, v in clean.items() if v not in ("", None) and k != "name"}
    company_update(company=company, actor=actor, **fill)
    if owner is not KEEP and owner is not None:
        company_assign_owner(company=company, owner=owner, actor=actor)
    return company, False


@transaction.atomic
def company_update(*, company: Company, actor: Actor, **data: Any) -> Company:
    """Change a company's fields; a rename refreshes its contacts' search text."""
    if "owner" in data or "owner_id" in data:
        raise ValidationError({"owner_id": "use company_assign_owner"})
    clean = _clean_company_data(data)
    changes = _diff(company, clean)
    if not changes:
        return company
    if (
        changes.get("domain", ["", ""])[1]
        and Company.objects.filter(domain=clean["domain"]).exclude(pk=company.pk).exists()
    ):
        raise Conflict({"domain": _("another company already has this domain")})
    for field, (_old, new) in changes.items():
        setattr(company, field, new)
    if "name" in changes:
        company.name_normalized = ja.normalize_company_name(company.name)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:  # the domain's unique constraint, lost a race
        raise Conflict({"domain": _("another company already has this domain")}) from None
    contact_ids = list(company.contacts.values_list("pk", flat=True))
    if "name" in changes:
        _contacts_refresh_search_text(contact_ids)
    # Its contacts' fit and journey may read what changed (industry, size, prefecture).
    _derive_on_commit(contact_ids)
    audit_record(
        actor=actor,
        action="company.update",
        object_type="company",
        object_id=company.pk,
        changes=_jsonable(changes),
    )
    return company


@transaction.atomic
def company_assign_owner(
    *, company: Company, owner: AbstractBaseUser | None, actor: Actor
) -> Company:
    old = Company.objects.filter(pk=company.pk).values_list("owner_id", flat=True).first()
    new = _user_id(owner)
    if old != new:
        Company.objects.filter(pk=company.pk).update(owner=owner, updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="company.owner",
            object_type="company",
            object_id=company.pk,
            changes={"owner_id": [old, new]},
        )
    company.owner = owner  # type: ignore[assignment]
    return company


@transaction.atomic
def company_edit(
    *,
    company: Company,
    actor: Actor,
    owner: AbstractBaseUser | _Keep | None = KEEP,
    **data: Any,
) -> Company:
    """Fields and owner in one transaction (the API's PATCH)."""
    if data:
        company_update(company=company, actor=actor, **data)
    if owner is not KEEP:
        company_assign_owner(company=company, owner=owner, actor=actor)
    return company


@transaction.atomic
def company_delete(*, company: Company, actor: Actor) -> None:
    """Delete a company; its contacts stay, without a company."""
    company_id = company.pk
    contact_ids = list(company.contacts.values_list("pk", flat=True))
    company.delete()
    _contacts_refresh_search_text(contact_ids)
    _derive_on_commit(contact_ids)  # they lost the company's industry, size, prefecture
    audit_record(actor=actor, action="company.delete", object_type="company", object_id=company_id)
