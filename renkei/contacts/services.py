"""Every write to companies and contacts: dedupe, normalisation, stage, owner, merge, erase.

Views, the API, tasks and commands call these; none of them writes the models directly.
Errors are Django ``ValidationError``s keyed by field, so every caller can name the field;
two subclasses say more: ``Conflict`` (the data changed meanwhile or collides with another
row) and ``ReferenceNotFound`` (an id points at nothing).
"""

import enum
import math
import re
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.accounts.services import audit_erase_values, audit_record
from renkei.contacts.models import (
    FUNNEL_ORDER,
    Company,
    Contact,
    Industry,
    LifecycleStage,
    LifecycleTransition,
    stage_is_backward,
)
from renkei.contacts.signals import stage_changed
from renkei.lib import japanese as ja

Actor = AbstractBaseUser | AnonymousUser | None


class Conflict(ValidationError):
    """The change collides with the current state (changed meanwhile, or a duplicate key)."""


class ReferenceNotFound(ValidationError):
    """A field names a row that does not exist (company_id, owner_id, the other contact)."""


class _Keep(enum.Enum):
    KEEP = "keep"


# "Leave the owner as it is" (None means "no owner").
KEEP = _Keep.KEEP

# Fields whose changes are personal data and are therefore audited.
CONTACT_PERSONAL_FIELDS = (
    "email",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "department",
    "title",
    "phone",
    "prefecture",
)
CONTACT_FIELDS = (*CONTACT_PERSONAL_FIELDS, "company_id", "source", "properties", "score")
COMPANY_FIELDS = (
    "name",
    "name_kana",
    "domain",
    "industry",
    "employee_count",
    "prefecture",
    "address",
    "phone",
)
PROPERTIES_MAX_BYTES = 65_536
_INT_BOUND = 2**31 - 1  # IntegerField on PostgreSQL


def _text(value: Any, max_length: int) -> str:
    """NFKC, trimmed, without NUL (PostgreSQL refuses it), at most ``max_length`` long."""
    text = ja.nfkc(str(value)).replace("\x00", "") if value is not None else ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (lone surrogate)") from None
    if len(text) > max_length:
        raise ValueError(f"at most {max_length} characters")
    return text


def _field_text(value: Any, field: str, max_length: int) -> str:
    """``_text`` for a single argument: a ValidationError that names the field."""
    try:
        return _text(value, max_length)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def _json_clean(value: Any, depth: int = 0) -> Any:
    """A JSON value every database stores: finite numbers, no NUL, not absurdly deep."""
    if depth > 32:
        raise ValueError("nested too deeply (at most 32 levels)")
    if isinstance(value, dict):
        return {_text(k, 200): _json_clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(v, depth + 1) for v in value]
    if isinstance(value, str):
        return _text(value, PROPERTIES_MAX_BYTES)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if value is None or isinstance(value, bool | int | float):
        return value
    raise ValueError(f"not a JSON value: {type(value).__name__}")


def _clean_properties(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    clean = _json_clean(value)
    if len(orjson.dumps(clean, option=orjson.OPT_NON_STR_KEYS)) > PROPERTIES_MAX_BYTES:
        raise ValueError(f"at most {PROPERTIES_MAX_BYTES} bytes of JSON")
    return clean


def _clean_int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError("must be an integer")
    number = int(value)  # ValueError for "abc", OverflowError for inf
    if not low <= number <= high:
        raise ValueError(f"must be between {low} and {high}")
    return number


def _clean_contact_data(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise incoming contact fields; a ValidationError names every bad field."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("family_name", "given_name"):
                clean[field] = ja.normalize_person_name(_text(value, 100))
            elif field in ("family_name_kana", "given_name_kana"):
                clean[field] = ja.normalize_kana(_text(value, 100))
                if len(clean[field]) > 100:
                    raise ValueError("at most 100 characters")
            elif field in ("department", "title"):
                clean[field] = _text(value, 200)
            elif field == "source":
                clean[field] = _text(value, 64)
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, 64))
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, 32))
            elif field == "email":
                clean[field] = _clean_email(value)
            elif field == "properties":
                clean[field] = _clean_properties(value)
            elif field == "score":
                clean[field] = _clean_int(value, -_INT_BOUND, _INT_BOUND)
            elif field == "company_id":
                clean[field] = None if value is None else _clean_int(value, 1, 2**63 - 1)
            elif field in ("company", "lifecycle_stage"):
                clean[field] = value
            else:
                raise ValueError("unknown field")
        except ValidationError as exc:
            errors.update({k: "; ".join(v) for k, v in exc.message_dict.items()})
        except (ValueError, TypeError, OverflowError) as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_email(value: Any) -> str:
    try:
        email = _text(value, 254).replace(" ", "").replace("\u3000", "")
        validate_email(email)
    except (ValidationError, ValueError):
        raise ValidationError({"email": f"not a valid email address: {value!r}"}) from None
    return email


def _search_text(contact: Contact) -> str:
    company_name = contact.company.name if contact.company_id and contact.company else ""
    return ja.search_text(
        contact.family_name + contact.given_name,
        contact.family_name_kana.replace(" ", "") + contact.given_name_kana.replace(" ", ""),
        contact.email_normalized,
        company_name,
    )


def _contacts_refresh_search_text(contact_ids: list[int]) -> None:
    """Recompute search_text after a company was renamed or deleted (1,000 rows a batch)."""
    for start in range(0, len(contact_ids), 1000):
        batch = list(
            Contact.objects.select_related("company").filter(
                pk__in=contact_ids[start : start + 1000]
            )
        )
        for contact in batch:
            contact.search_text = _search_text(contact)
        Contact.objects.bulk_update(batch, ["search_text"])


def _diff(obj: models.Model, values: dict[str, Any]) -> dict[str, list[Any]]:
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [old, new]
    return changes


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out = {}
    for field, pair in changes.items():
        out[field] = [v.pk if isinstance(v, models.Model) else v for v in pair]
    return out


def _actor_user(actor: Actor) -> Any:
    """The user to store as a row's actor; None for the system or an anonymous request."""
    return actor if actor is not None and actor.is_authenticated else None


def _company_or_none(company_id: int | None) -> Company | None:
    return Company.objects.filter(pk=company_id).first() if company_id else None


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None else None


# ---- companies ------------------------------------------------------------------------


def _clean_company_data(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("name", "name_kana", "address"):
                clean[field] = _text(value, 300 if field == "address" else 200)
                if field == "name_kana":
                    clean[field] = ja.normalize_kana(clean[field])
                    if len(clean[field]) > 200:
                        raise ValueError("at most 200 characters")
            elif field == "domain":
                clean[field] = ja.normalize_domain(_text(value, 200))
                if clean[field] and not _is_domain(clean[field]):
                    raise ValueError(f"not a domain name: {clean[field]!r}")
            elif field == "industry":
                clean[field] = _text(value, 32)
            elif field == "employee_count":
                clean[field] = None if value in (None, "") else _clean_int(value, 0, _INT_BOUND)
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, 32))
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, 64))
            else:
                raise ValueError("unknown field")
        except (ValueError, TypeError, OverflowError) as exc:
            errors[field] = str(exc)
    if clean.get("industry") and clean["industry"] not in Industry.values:
        errors["industry"] = f"unknown industry {clean['industry']!r}; one of {Industry.values}"
    if "name" in clean and not clean["name"]:
        errors["name"] = "required"
    if errors:
        raise ValidationError(errors)
    return clean


# A DNS label: letters (any script, for IDN domains such as 例え.jp), digits, inner hyphens.
_LABEL = re.compile(r"^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$")


def _is_domain(value: str) -> bool:
    labels = value.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


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
            raise Conflict({"domain": "a company with this domain was just created"}) from None
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
        raise Conflict({"domain": "another company already has this domain"})
    for field, (_, new) in changes.items():
        setattr(company, field, new)
    if "name" in changes:
        company.name_normalized = ja.normalize_company_name(company.name)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:  # the domain's unique constraint, lost a race
        raise Conflict({"domain": "another company already has this domain"}) from None
    if "name" in changes:
        _contacts_refresh_search_text(list(company.contacts.values_list("pk", flat=True)))
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
    audit_record(actor=actor, action="company.delete", object_type="company", object_id=company_id)


# ---- contacts -------------------------------------------------------------------------


def _resolve_company(actor: Actor, clean: dict[str, Any], data: dict[str, Any]) -> None:
    """Accept company as an instance, an id, or a name/domain to find or create."""
    company = clean.pop("company", None)
    if isinstance(company, Company):
        clean["company_id"] = company.pk
    elif company is not None:
        raise ValidationError({"company": "must be a Company"})
    name = _field_text(data.get("company_name") or "", "company_name", 200)
    domain = _field_text(data.get("company_domain") or "", "company_domain", 200)
    if "company_id" not in clean and (name or domain):
        try:
            found, _ = company_upsert(actor=actor, name=name or domain, domain=domain)
        except ValidationError as exc:
            renamed = {"name": "company_name", "domain": "company_domain"}
            raise ValidationError(
                {renamed.get(k, k): v for k, v in exc.message_dict.items()}
            ) from None
        clean["company_id"] = found.pk
    if (
        clean.get("company_id") is not None
        and not Company.objects.filter(pk=clean["company_id"]).exists()
    ):
        raise ReferenceNotFound({"company_id": f"no company with id {clean['company_id']}"})


def _creation_changes(contact: Contact) -> dict[str, list[Any]]:
    """What a new contact starts with, for the audit trail (blanked when it is erased)."""
    changes: dict[str, list[Any]] = {
        f: [None, getattr(contact, f)] for f in CONTACT_PERSONAL_FIELDS if getattr(contact, f)
    }
    changes["lifecycle_stage"] = [None, contact.lifecycle_stage]
    if contact.owner_id:
        changes["owner_id"] = [None, contact.owner_id]
    if contact.company_id:
        changes["company_id"] = [None, contact.company_id]
    return changes


@transaction.atomic
def contact_upsert(
    *,
    email: str,
    actor: Actor,
    source: str = "",
    lifecycle_stage: str = "",
    stage_reason: str = "",
    owner: AbstractBaseUser | _Keep | None = KEEP,
    via: str = "",
    **data: Any,
) -> tuple[Contact, bool]:
    """Create the contact for a (normalised) email, or fill in the one that has it.

    ``company_name`` / ``company_domain`` find or create the company. On an existing
    contact, empty values keep what is stored and ``properties`` are merged key by key;
    the stage changes through ``contact_change_stage``, the owner through
    ``contact_assign_owner`` (both audited). ``source`` is where the contact came from
    (kept from the first time); ``via`` the channel recorded on stage transitions (ui,
    api, import; ``source`` when not given). Returns the contact and whether it is new.
    """
    company_keys = {k: data.pop(k) for k in ("company_name", "company_domain") if k in data}
    if "owner_id" in data:
        raise ValidationError({"owner_id": "pass owner= (a user) to contact_upsert"})
    clean = _clean_contact_data({"email": email, **data})
    source = _field_text(source, "source", 64)
    stage_reason = _field_text(stage_reason, "reason", 2000)
    via = _field_text(via, "via", 32) or source[:32]
    if lifecycle_stage and lifecycle_stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": _unknown_stage(lifecycle_stage)})
    _resolve_company(actor, clean, company_keys)
    key = ja.normalize_email(clean["email"])
    contact = Contact.objects.select_for_update().filter(email_normalized=key).first()
    if contact is None:
        contact = Contact(
            email_normalized=key,
            source=source,
            lifecycle_stage=lifecycle_stage or LifecycleStage.LEAD,
            lifecycle_stage_changed_at=timezone.now(),
            **clean,
        )
        if owner is not KEEP:
            contact.owner = owner  # type: ignore[assignment]
        contact.search_text = _search_text(contact)
        try:
            with transaction.atomic():
                contact.save()
        except IntegrityError:
            # Created by another request between our read and our insert: fill that one in.
            contact = Contact.objects.select_for_update().get(email_normalized=key)
        else:
            LifecycleTransition.objects.create(
                contact=contact,
                from_stage="",
                to_stage=contact.lifecycle_stage,
                occurred_at=contact.created_at,
                actor=_actor_user(actor),
                reason=stage_reason,
                source=via,
            )
            audit_record(
                actor=actor,
                action="contact.create",
                object_type="contact",
                object_id=contact.pk,
                changes=_jsonable(_creation_changes(contact)),
            )
            return contact, True
    clean.pop("email")
    fill = {k: v for k, v in clean.items() if v not in ("", None, {})}
    if "properties" in fill:
        fill["properties"] = {**contact.properties, **fill["properties"]}
    contact_update(contact=contact, actor=actor, **fill)
    if owner is not KEEP and owner is not None:
        contact_assign_owner(contact=contact, owner=owner, actor=actor)
    if lifecycle_stage:
        contact_change_stage(
            contact=contact,
            to_stage=lifecycle_stage,
            actor=actor,
            reason=stage_reason,
            source=via,
        )
    return contact, False


@transaction.atomic
def contact_update(*, contact: Contact, actor: Actor, **data: Any) -> Contact:
    """Change a contact's fields; personal-data changes go to the audit trail."""
    company_keys = {k: data.pop(k) for k in ("company_name", "company_domain") if k in data}
    if "lifecycle_stage" in data:
        raise ValidationError({"lifecycle_stage": "use contact_change_stage"})
    if "owner" in data or "owner_id" in data:
        raise ValidationError({"owner_id": "use contact_assign_owner"})
    clean = _clean_contact_data(data)
    _resolve_company(actor, clean, company_keys)
    if "email" in clean:
        key = ja.normalize_email(clean["email"])
        if Contact.objects.filter(email_normalized=key).exclude(pk=contact.pk).exists():
            raise Conflict({"email": "another contact already has this email"})
        clean["email_normalized"] = key
    changes = _diff(contact, clean)
    if not changes:
        return contact
    for field, (_, new) in changes.items():
        setattr(contact, field, new)
    if "company_id" in changes:
        contact.company = _company_or_none(contact.company_id)
    contact.search_text = _search_text(contact)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:  # the email's unique constraint, lost a race
        raise Conflict({"email": "another contact already has this email"}) from None
    changes.pop("email_normalized", None)
    audit_record(
        actor=actor,
        action="contact.update",
        object_type="contact",
        object_id=contact.pk,
        changes=_jsonable(changes),
    )
    return contact


def _unknown_stage(stage: str) -> str:
    return f"unknown stage {stage!r}; one of {', '.join(LifecycleStage.values)}"


@transaction.atomic
def contact_change_stage(
    *,
    contact: Contact,
    to_stage: str,
    actor: Actor,
    reason: str = "",
    source: str = "",
    expected_stage: str | None = None,
) -> LifecycleTransition | None:
    """The one way a lifecycle stage changes. Records the transition and audits it.

    Moving backwards (or to recycled / disqualified) needs a reason. Returns None when
    the contact is already in ``to_stage``. Concurrency: the update is conditional on
    the stage read, so two writers cannot both record a transition from the same stage;
    ``expected_stage`` (the stage the user saw) refuses a change decided on stale data.
    """
    if to_stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": _unknown_stage(to_stage)})
    reason = _field_text(reason or "", "reason", 2000)
    source = _field_text(source, "source", 32)
    from_stage = (
        Contact.objects.filter(pk=contact.pk).values_list("lifecycle_stage", flat=True).first()
    )
    if from_stage is None:
        raise ReferenceNotFound({"contact": "no such contact"})
    if expected_stage is not None and from_stage != expected_stage:
        raise Conflict(
            {"lifecycle_stage": f"the stage is now {from_stage}, not {expected_stage}; reload"}
        )
    if from_stage == to_stage:
        return None
    if stage_is_backward(from_stage, to_stage) and not reason:
        raise ValidationError({"reason": f"moving from {from_stage} to {to_stage} needs a reason"})
    now = timezone.now()
    updated = Contact.objects.filter(pk=contact.pk, lifecycle_stage=from_stage).update(
        lifecycle_stage=to_stage, lifecycle_stage_changed_at=now, updated_at=now
    )
    if updated != 1:
        raise Conflict({"lifecycle_stage": "the stage was changed meanwhile; reload"})
    contact.lifecycle_stage, contact.lifecycle_stage_changed_at = to_stage, now
    transition = LifecycleTransition.objects.create(
        contact=contact,
        from_stage=from_stage,
        to_stage=to_stage,
        occurred_at=now,
        actor=_actor_user(actor),
        reason=reason,
        source=source,
    )
    audit_record(
        actor=actor,
        action="contact.stage",
        object_type="contact",
        object_id=contact.pk,
        changes={"lifecycle_stage": [from_stage, to_stage]},
        reason=reason,
    )
    transaction.on_commit(
        lambda: stage_changed.send(
            sender=Contact,
            contact_id=contact.pk,
            from_stage=from_stage,
            to_stage=to_stage,
            transition_id=transition.pk,
        )
    )
    return transition


@transaction.atomic
def contact_assign_owner(
    *, contact: Contact, owner: AbstractBaseUser | None, actor: Actor, reason: str = ""
) -> Contact:
    """Give the contact an owner (or none); audited with the previous owner."""
    old = Contact.objects.filter(pk=contact.pk).values_list("owner_id", flat=True).first()
    new = _user_id(owner)
    if old != new:
        Contact.objects.filter(pk=contact.pk).update(owner=owner, updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="contact.owner",
            object_type="contact",
            object_id=contact.pk,
            changes={"owner_id": [old, new]},
            reason=reason,
        )
    contact.owner = owner  # type: ignore[assignment]
    return contact


@transaction.atomic
def contact_edit(
    *,
    contact: Contact,
    actor: Actor,
    lifecycle_stage: str = "",
    reason: str = "",
    owner: AbstractBaseUser | _Keep | None = KEEP,
    source: str = "",
    **data: Any,
) -> Contact:
    """Fields, owner and stage in one transaction (the API's PATCH): all or nothing."""
    if data:
        contact_update(contact=contact, actor=actor, **data)
    if owner is not KEEP:
        contact_assign_owner(contact=contact, owner=owner, actor=actor, reason=reason)
    if lifecycle_stage:
        contact_change_stage(
            contact=contact, to_stage=lifecycle_stage, actor=actor, reason=reason, source=source
        )
    return contact


def _merged_contact_ids(contact_id: int) -> set[int]:
    """Ids of every contact ever merged into this one, directly or through others."""
    found: set[int] = set()
    todo = [contact_id]
    while todo:
        entries = AuditEntry.objects.filter(
            object_type="contact", object_id__in=todo, action="contact.merge"
        ).values_list("changes", flat=True)
        todo = []
        for changes in entries:
            merged = (changes or {}).get("merged_contact", [None])[0]
            if isinstance(merged, int) and merged not in found:
                found.add(merged)
                todo.append(merged)
    return found


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Actor) -> None:
    """Erase a contact: its personal data, events, visitors and transitions.

    The audit trail keeps that the contact existed and who erased it, with values blanked,
    including the entries of contacts merged into it earlier.
    """
    contact_id = contact.pk
    merged = _merged_contact_ids(contact_id)
    contact.delete()  # events, visitors and transitions cascade in set-based deletes
    for erased_id in (contact_id, *merged):
        audit_erase_values(object_type="contact", object_id=erased_id)
    audit_record(actor=actor, action="contact.erase", object_type="contact", object_id=contact_id)


def _further_in_funnel(stage: str, than: str) -> bool:
    if stage not in FUNNEL_ORDER or than not in FUNNEL_ORDER:
        return False
    return FUNNEL_ORDER.index(stage) > FUNNEL_ORDER.index(than)  # type: ignore[arg-type]


@transaction.atomic
def contact_merge(*, winner: Contact, loser: Contact, actor: Actor) -> Contact:
    """Merge ``loser`` into ``winner``: every event, transition, visitor and other row that
    points at the loser moves to the winner; blank fields of the winner take the loser's
    values; the winner moves forward to the loser's stage if that is further down the
    funnel; the loser is then deleted.

    Relations are found through the model's metadata, so rows of apps added later (deals,
    scores, SLA clocks) move too without this app importing them.
    """
    if winner.pk == loser.pk:
        raise ValidationError({"other_id": "cannot merge a contact into itself"})
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[winner.pk, loser.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ReferenceNotFound({"other_id": "the contact no longer exists"})
    winner, loser = locked[winner.pk], locked[loser.pk]
    moved: dict[str, int] = {}
    for relation in Contact._meta.related_objects:
        if relation.one_to_many or relation.one_to_one:
            model = relation.related_model
            assert not isinstance(model, str)  # "self" only on models pointing at themselves
            field = relation.field.name
            count = model._default_manager.filter(**{field: loser}).update(**{field: winner})
            moved[f"{model._meta.label_lower}.{field}"] = count
    fill = {
        f: getattr(loser, f)
        for f in (*CONTACT_PERSONAL_FIELDS, "company_id", "source", "first_campaign_id")
        if f != "email" and not getattr(winner, f) and getattr(loser, f)
    }
    if not winner.owner_id and loser.owner_id:
        fill["owner_id"] = loser.owner_id
    for field, value in fill.items():
        setattr(winner, field, value)
    winner.properties = {**loser.properties, **winner.properties}
    winner.score = max(winner.score, loser.score)
    winner.last_activity_at = (
        winner.events.aggregate(newest=Max("occurred_at"))["newest"] or winner.last_activity_at
    )
    loser_id, loser_email, loser_stage = loser.pk, loser.email, loser.lifecycle_stage
    loser.delete()
    if "company_id" in fill:
        winner.company = _company_or_none(winner.company_id)
    winner.search_text = _search_text(winner)
    winner.save()
    audit_record(
        actor=actor,
        action="contact.merge",
        object_type="contact",
        object_id=winner.pk,
        changes={
            "merged_contact": [loser_id, None],
            "merged_email": [loser_email, None],
            **_jsonable({f: [None, v] for f, v in fill.items()}),
        },
        reason=f"merged contact #{loser_id}; moved {moved}",
    )
    if _further_in_funnel(loser_stage, winner.lifecycle_stage):
        contact_change_stage(
            contact=winner,
            to_stage=loser_stage,
            actor=actor,
            reason=f"merged contact #{loser_id}",
            source="merge",
        )
    return winner


def contacts_ensure_for_emails(*, emails: set[str], actor: Actor, source: str) -> dict[str, int]:
    """Contact ids for normalised emails, creating the missing contacts in bulk (stage lead).

    Set-based: three queries whatever the number of emails. Used by event ingestion,
    where an event may identify a person Renkei has not seen yet.
    """
    if not emails:
        return {}
    found = dict(
        Contact.objects.filter(email_normalized__in=emails).values_list("email_normalized", "id")
    )
    missing = emails - found.keys()
    if missing:
        now = timezone.now()
        Contact.objects.bulk_create(
            [
                Contact(
                    email=e,
                    email_normalized=e,
                    source=source,
                    search_text=ja.search_text(e),
                    lifecycle_stage=LifecycleStage.LEAD,
                    lifecycle_stage_changed_at=now,
                )
                for e in sorted(missing)
            ],
            ignore_conflicts=True,  # another request may create the same contact meanwhile
        )
        created = dict(
            Contact.objects.filter(email_normalized__in=missing, created_at__gte=now).values_list(
                "email_normalized", "id"
            )
        )
        LifecycleTransition.objects.bulk_create(
            [
                LifecycleTransition(
                    contact_id=cid,
                    from_stage="",
                    to_stage=LifecycleStage.LEAD,
                    occurred_at=now,
                    source=source,
                )
                for cid in created.values()
            ]
        )
        found.update(
            Contact.objects.filter(email_normalized__in=missing).values_list(
                "email_normalized", "id"
            )
        )
    return found
