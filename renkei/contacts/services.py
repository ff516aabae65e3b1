"""Every write to companies and contacts: dedupe, normalisation, stage, owner, merge, erase.

Views, the API, tasks and commands call these; none of them writes the models directly.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone

from renkei.accounts.services import audit_erase_values, audit_record
from renkei.contacts.models import (
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


def _text(value: Any, field: str, max_length: int) -> str:
    text = ja.nfkc(str(value)) if value is not None else ""
    if len(text) > max_length:
        raise ValidationError({field: f"at most {max_length} characters"})
    return text


def _clean_contact_data(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise incoming contact fields; a ValidationError names every bad field."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("family_name", "given_name"):
                clean[field] = ja.normalize_person_name(_text(value, field, 100))
            elif field in ("family_name_kana", "given_name_kana"):
                clean[field] = ja.normalize_kana(_text(value, field, 100))
            elif field in ("department", "title"):
                clean[field] = _text(value, field, 200)
            elif field == "source":
                clean[field] = _text(value, field, 64)
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, field, 64))
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, field, 16))
            elif field == "email":
                clean[field] = _clean_email(value)
            elif field == "properties":
                if not isinstance(value, dict):
                    raise ValueError("must be an object")
                clean[field] = value
            elif field == "score":
                clean[field] = int(value)
            elif field in ("company", "company_id", "owner", "owner_id", "lifecycle_stage"):
                clean[field] = value
            else:
                raise ValueError("unknown field")
        except ValidationError as exc:
            errors.update({k: "; ".join(v) for k, v in exc.message_dict.items()})
        except (ValueError, TypeError) as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_email(value: Any) -> str:
    email = ja.nfkc(str(value or "")).replace(" ", "")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"not a valid email address: {email!r}"}) from None
    return email


def _search_text(contact: Contact) -> str:
    company_name = contact.company.name if contact.company_id and contact.company else ""
    return ja.search_text(
        contact.family_name + contact.given_name,
        contact.family_name_kana.replace(" ", "") + contact.given_name_kana.replace(" ", ""),
        contact.email_normalized,
        company_name,
    )


def _diff(obj: models.Model, values: dict[str, Any]) -> dict[str, list[Any]]:
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [old, new]
    return changes


# ---- companies ------------------------------------------------------------------------


def _clean_company_data(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("name", "name_kana", "address"):
                clean[field] = _text(value, field, 300 if field == "address" else 200)
                if field == "name_kana":
                    clean[field] = ja.normalize_kana(clean[field])
            elif field == "domain":
                clean[field] = ja.normalize_domain(_text(value, field, 200))
            elif field == "industry":
                clean[field] = _text(value, field, 32)
            elif field == "employee_count":
                clean[field] = None if value in (None, "") else int(value)
                if clean[field] is not None and clean[field] < 0:
                    raise ValueError("must be zero or more")
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, field, 16))
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, field, 64))
            elif field in ("owner", "owner_id"):
                clean[field] = value
            else:
                raise ValueError("unknown field")
        except (ValueError, TypeError) as exc:
            errors[field] = str(exc)
    if clean.get("industry") and clean["industry"] not in Industry.values:
        errors["industry"] = f"unknown industry {clean['industry']!r}; one of {Industry.values}"
    if "name" in clean and not clean["name"]:
        errors["name"] = "required"
    if errors:
        raise ValidationError(errors)
    return clean


def company_find(*, domain: str = "", name: str = "") -> Company | None:
    """The existing company for a domain, else for a normalised name."""
    if domain and (found := Company.objects.filter(domain=ja.normalize_domain(domain)).first()):
        return found
    key = ja.normalize_company_name(name)
    if key:
        return Company.objects.filter(name_normalized=key).order_by("id").first()
    return None


@transaction.atomic
def company_upsert(
    *, actor: Actor, name: str, domain: str = "", **data: Any
) -> tuple[Company, bool]:
    """Find the company by domain then normalised name and update it, or create it."""
    clean = _clean_company_data({"name": name, "domain": domain, **data})
    company = company_find(domain=clean["domain"], name=clean["name"])
    if company is None:
        company = Company(name_normalized=ja.normalize_company_name(clean["name"]), **clean)
        company.save()
        audit_record(
            actor=actor, action="company.create", object_type="company", object_id=company.pk
        )
        return company, True
    # An upsert fills in, it does not blank: empty incoming values keep what is stored.
    company_update(company=company, actor=actor, **{k: v for k, v in clean.items() if v})
    return company, False


@transaction.atomic
def company_update(*, company: Company, actor: Actor, **data: Any) -> Company:
    clean = _clean_company_data(data)
    changes = _diff(company, clean)
    if not changes:
        return company
    for field, (_, new) in changes.items():
        setattr(company, field, new)
    if "name" in changes:
        company.name_normalized = ja.normalize_company_name(company.name)
    try:
        with transaction.atomic():
            company.save()
    except Exception as exc:  # the domain's unique constraint
        if (
            "domain" in changes
            and Company.objects.filter(domain=company.domain).exclude(pk=company.pk).exists()
        ):
            raise ValidationError({"domain": "another company already has this domain"}) from exc
        raise
    audit_record(
        actor=actor,
        action="company.update",
        object_type="company",
        object_id=company.pk,
        changes=_jsonable(changes),
    )
    return company


@transaction.atomic
def company_delete(*, company: Company, actor: Actor) -> None:
    """Delete a company; its contacts stay, without a company."""
    company_id = company.pk
    company.delete()
    audit_record(actor=actor, action="company.delete", object_type="company", object_id=company_id)


# ---- contacts -------------------------------------------------------------------------


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out = {}
    for field, pair in changes.items():
        out[field] = [v.pk if isinstance(v, models.Model) else v for v in pair]
    return out


def _resolve_company(actor: Actor, clean: dict[str, Any], data: dict[str, Any]) -> None:
    """Accept company as an instance, an id, or a name/domain to find or create."""
    company = clean.pop("company", None)
    if isinstance(company, Company):
        clean["company_id"] = company.pk
    elif company is not None:
        raise ValidationError({"company": "must be a Company"})
    name, domain = data.get("company_name"), data.get("company_domain")
    if "company_id" not in clean and (name or domain):
        found, _ = company_upsert(actor=actor, name=name or domain, domain=domain or "")
        clean["company_id"] = found.pk
    if (
        clean.get("company_id") is not None
        and not Company.objects.filter(pk=clean["company_id"]).exists()
    ):
        raise ValidationError({"company_id": f"no company with id {clean['company_id']}"})


@transaction.atomic
def contact_upsert(
    *,
    email: str,
    actor: Actor,
    source: str = "",
    lifecycle_stage: str = "",
    stage_reason: str = "",
    **data: Any,
) -> tuple[Contact, bool]:
    """Create the contact for a (normalised) email, or update the one that has it.

    ``company_name`` / ``company_domain`` find or create the company. An existing
    contact's stage changes only through ``contact_change_stage``.
    """
    company_keys = {k: data.pop(k) for k in ("company_name", "company_domain") if k in data}
    clean = _clean_contact_data({"email": email, **data})
    _resolve_company(actor, clean, company_keys)
    key = ja.normalize_email(clean["email"])
    contact = Contact.objects.select_for_update().filter(email_normalized=key).first()
    if contact is not None:
        clean.pop("email")
        contact_update(
            contact=contact, actor=actor, **{k: v for k, v in clean.items() if v not in ("", None)}
        )
        if lifecycle_stage and lifecycle_stage != contact.lifecycle_stage:
            contact_change_stage(
                contact=contact,
                to_stage=lifecycle_stage,
                actor=actor,
                reason=stage_reason,
                source=source or "api",
            )
        return contact, False
    stage = lifecycle_stage or LifecycleStage.LEAD
    if stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": f"unknown stage {stage!r}"})
    owner = clean.pop("owner", None)
    contact = Contact(
        email_normalized=key,
        source=source,
        lifecycle_stage=stage,
        lifecycle_stage_changed_at=timezone.now(),
        **clean,
    )
    if owner is not None:
        contact.owner = owner
    contact.search_text = _search_text(contact)
    contact.save()
    LifecycleTransition.objects.create(
        contact=contact,
        from_stage="",
        to_stage=stage,
        occurred_at=contact.created_at,
        actor=actor if actor and actor.is_authenticated else None,
        reason=stage_reason,
        source=source,
    )
    audit_record(actor=actor, action="contact.create", object_type="contact", object_id=contact.pk)
    return contact, True


@transaction.atomic
def contact_update(*, contact: Contact, actor: Actor, **data: Any) -> Contact:
    """Change a contact's fields; personal-data changes go to the audit trail."""
    company_keys = {k: data.pop(k) for k in ("company_name", "company_domain") if k in data}
    if "lifecycle_stage" in data or "owner" in data or "owner_id" in data:
        raise ValidationError({"lifecycle_stage": "use contact_change_stage / assign_owner"})
    clean = _clean_contact_data(data)
    _resolve_company(actor, clean, company_keys)
    if "email" in clean:
        key = ja.normalize_email(clean["email"])
        if Contact.objects.filter(email_normalized=key).exclude(pk=contact.pk).exists():
            raise ValidationError({"email": "another contact already has this email"})
        clean["email_normalized"] = key
    changes = _diff(contact, clean)
    if not changes:
        return contact
    for field, (_, new) in changes.items():
        setattr(contact, field, new)
    if "company_id" in changes:
        contact.company = Company.objects.filter(pk=contact.company_id).first()
    contact.search_text = _search_text(contact)
    contact.save()
    changes.pop("email_normalized", None)
    audit_record(
        actor=actor,
        action="contact.update",
        object_type="contact",
        object_id=contact.pk,
        changes=_jsonable(changes),
    )
    return contact


@transaction.atomic
def contact_change_stage(
    *,
    contact: Contact,
    to_stage: str,
    actor: Actor,
    reason: str = "",
    source: str = "",
) -> LifecycleTransition | None:
    """The one way a lifecycle stage changes. Records the transition and audits it.

    Moving backwards (or to recycled / disqualified) needs a reason. Returns None when
    the contact is already in ``to_stage``. Concurrency: the update is conditional on
    the stage read, so two writers cannot both record a transition from the same stage.
    """
    if to_stage not in LifecycleStage.values:
        raise ValidationError(
            {
                "lifecycle_stage": f"unknown stage {to_stage!r}; one of "
                f"{', '.join(LifecycleStage.values)}"
            }
        )
    reason = (reason or "").strip()
    from_stage = (
        Contact.objects.filter(pk=contact.pk).values_list("lifecycle_stage", flat=True).first()
    )
    if from_stage is None:
        raise ValidationError({"contact": "no such contact"})
    if from_stage == to_stage:
        return None
    if stage_is_backward(from_stage, to_stage) and not reason:
        raise ValidationError({"reason": f"moving from {from_stage} to {to_stage} needs a reason"})
    now = timezone.now()
    updated = Contact.objects.filter(pk=contact.pk, lifecycle_stage=from_stage).update(
        lifecycle_stage=to_stage, lifecycle_stage_changed_at=now, updated_at=now
    )
    if updated != 1:
        raise ValidationError({"lifecycle_stage": "the stage was changed meanwhile; reload"})
    contact.lifecycle_stage, contact.lifecycle_stage_changed_at = to_stage, now
    transition = LifecycleTransition.objects.create(
        contact=contact,
        from_stage=from_stage,
        to_stage=to_stage,
        occurred_at=now,
        actor=actor if actor and actor.is_authenticated else None,
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
    old = contact.owner_id
    new = owner.pk if owner is not None else None
    if old == new:
        return contact
    Contact.objects.filter(pk=contact.pk).update(owner=owner, updated_at=timezone.now())
    contact.owner = owner  # type: ignore[assignment]
    audit_record(
        actor=actor,
        action="contact.owner",
        object_type="contact",
        object_id=contact.pk,
        changes={"owner_id": [old, new]},
        reason=reason,
    )
    return contact


@transaction.atomic
def company_assign_owner(
    *, company: Company, owner: AbstractBaseUser | None, actor: Actor
) -> Company:
    old = company.owner_id
    new = owner.pk if owner is not None else None
    if old != new:
        Company.objects.filter(pk=company.pk).update(owner=owner)
        company.owner = owner  # type: ignore[assignment]
        audit_record(
            actor=actor,
            action="company.owner",
            object_type="company",
            object_id=company.pk,
            changes={"owner_id": [old, new]},
        )
    return company


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Actor) -> None:
    """Erase a contact: its personal data, events, visitors and transitions.

    The audit trail keeps that the contact existed and who erased it, with values blanked.
    """
    contact_id = contact.pk
    contact.delete()  # events, visitors and transitions cascade in set-based deletes
    audit_erase_values(object_type="contact", object_id=contact_id)
    audit_record(actor=actor, action="contact.erase", object_type="contact", object_id=contact_id)


@transaction.atomic
def contact_merge(*, winner: Contact, loser: Contact, actor: Actor) -> Contact:
    """Merge ``loser`` into ``winner``: every event, transition, visitor and other row that
    points at the loser moves to the winner; blank fields of the winner take the loser's
    values; the loser is then deleted.

    Relations are found through the model's metadata, so rows of apps added later (deals,
    scores, SLA clocks) move too without this app importing them.
    """
    if winner.pk == loser.pk:
        raise ValidationError({"loser": "cannot merge a contact into itself"})
    moved: dict[str, int] = {}
    for relation in Contact._meta.related_objects:
        if relation.one_to_many or relation.one_to_one:
            model = relation.related_model
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
    if fill:
        for field, value in fill.items():
            setattr(winner, field, value)
    winner.properties = {**loser.properties, **winner.properties}
    winner.score = max(winner.score, loser.score)
    loser_id, loser_email = loser.pk, loser.email
    loser.delete()
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
