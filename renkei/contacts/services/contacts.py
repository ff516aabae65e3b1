"""Writes to contacts: create-or-update by email, edit, owner, erase."""

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.models import AuditEntry
from renkei.accounts.services import audit_erase_values, audit_record
from renkei.contacts.models import Company, Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services.cleaning import _clean_contact_data, _field_text
from renkei.contacts.services.common import (
    CONTACT_PERSONAL_FIELDS,
    KEEP,
    Actor,
    Conflict,
    ReferenceNotFound,
    _actor_user,
    _company_or_none,
    _derive_on_commit,
    _diff,
    _jsonable,
    _Keep,
    _search_text,
    _user_id,
)
from renkei.contacts.services.companies import company_upsert
from renkei.contacts.services.lifecycle import _unknown_stage, contact_change_stage
from renkei.lib import japanese as ja


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
            found, _created = company_upsert(actor=actor, name=name or domain, domain=domain)
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
        raise ReferenceNotFound(
            {"company_id": _("no company with id %(id)s") % {"id": clean["company_id"]}}
        )


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
    _derive_on_commit()  # the company and contact writes below queue together
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
            _derive_on_commit([contact.pk])
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
            raise Conflict({"email": _("another contact already has this email")})
        clean["email_normalized"] = key
    changes = _diff(contact, clean)
    if not changes:
        return contact
    for field, (_old, new) in changes.items():
        setattr(contact, field, new)
    if "company_id" in changes:
        contact.company = _company_or_none(contact.company_id)
    contact.search_text = _search_text(contact)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:  # the email's unique constraint, lost a race
        raise Conflict({"email": _("another contact already has this email")}) from None
    changes.pop("email_normalized", None)
    audit_record(
        actor=actor,
        action="contact.update",
        object_type="contact",
        object_id=contact.pk,
        changes=_jsonable(changes),
    )
    _derive_on_commit([contact.pk])
    return contact


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
def contacts_assign_owner_bulk(
    *, owners: Mapping[int, int | None], actor: Actor, reason: str = ""
) -> list[int]:
    """Give many contacts an owner each (contact id → user id); audited like
    ``contact_assign_owner``. Set-based (routing's hot path): one read, one UPDATE … FROM
    and one INSERT … SELECT of the audit entries, each column passed as one array
    (PostgreSQL) or one JSON list (SQLite). Returns the ids whose owner changed."""
    old = dict(
        Contact.objects.filter(pk__in=list(owners)).values_list("pk", "owner_id").order_by("pk")
    )
    changed = sorted(
        (pk, old[pk], new) for pk, new in owners.items() if pk in old and old[pk] != new
    )
    if not changed:
        return []
    user = _actor_user(actor)
    _owners_write(
        changed,
        now=timezone.now(),
        actor_id=user.pk if user else None,
        label=user.get_username() if user else "system",
        reason=reason,
    )
    return [pk for pk, _old, _new in changed]


def _owners_write(
    changed: Sequence[tuple[int, int | None, int | None]],
    *,
    now: Any,
    actor_id: int | None,
    label: str,
    reason: str,
) -> None:
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    audit = connection.ops.quote_name(AuditEntry._meta.db_table)
    insert = (
        f"INSERT INTO {audit} (actor_id, actor_label, action, object_type, object_id, "
        "changes, reason, created_at) SELECT %s, %s, 'contact.owner', 'contact', v.id, "
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = "unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, old, new)"
            ids, olds, news = (list(column) for column in zip(*changed, strict=True))
            cursor.execute(
                f"UPDATE {contacts} SET owner_id = v.new, updated_at = %s "  # noqa: S608
                f"FROM {values} WHERE {contacts}.id = v.id",
                [now, ids, olds, news],
            )
            cursor.execute(
                insert + "jsonb_build_object('owner_id', jsonb_build_array(v.old, v.new)), "
                f"%s, %s FROM {values}",
                [actor_id, label, reason, now, ids, olds, news],
            )
            return
        values = (
            "(SELECT value ->> 0 AS id, value ->> 1 AS old, value ->> 2 AS new "
            "FROM json_each(%s)) AS v"
        )
        rows = orjson.dumps(changed).decode()
        at = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(
            f"UPDATE {contacts} SET owner_id = v.new, updated_at = %s "  # noqa: S608
            f"FROM {values} WHERE {contacts}.id = v.id",
            [at, rows],
        )
        cursor.execute(
            insert + f"json_object('owner_id', json_array(v.old, v.new)), %s, %s FROM {values}",
            [actor_id, label, reason, at, rows],
        )


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
