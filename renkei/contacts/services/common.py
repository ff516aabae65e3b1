"""What the modules of the services package share: errors, the actor, KEEP, the audited
field names, small audit helpers and the search text every contact carries."""

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from renkei.contacts.derived import PROPERTIES, contacts_derive_enqueue
from renkei.contacts.models import Company, Contact
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
CONTACT_FIELDS = (*CONTACT_PERSONAL_FIELDS, "company_id", "source", "properties")
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
        out[field] = [_json_value(v) for v in pair]
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _actor_user(actor: Actor) -> Any:
    """The user to store as a row's actor; None for the system or an anonymous request."""
    return actor if actor is not None and actor.is_authenticated else None


def _company_or_none(company_id: int | None) -> Company | None:
    return Company.objects.filter(pk=company_id).first() if company_id else None


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None else None


class _DeriveOnCommit:
    """The contacts whose fields a transaction changed: one enqueue when it commits."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def __call__(self) -> None:
        if self.ids:
            contacts_derive_enqueue(self.ids, PROPERTIES)


def _derive_on_commit(contact_ids: Iterable[int] = ()) -> None:
    """Queue the derived-data pipeline (fit, journey …) for these contacts after commit.

    Services nest (``contact_upsert`` → ``company_upsert`` → ``company_update``, then
    ``contact_update``): ids are gathered into the callback of an enclosing level whose
    savepoints are all still open, so one service call queues once — one task per 1,000
    contacts — not once per level or per row. Whatever such a callback holds commits or
    rolls back together with it. Called without ids at the start of a service, it opens
    the callback that the services it calls add to.
    """
    ids = {int(i) for i in contact_ids}
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        open_savepoints = set(connection.savepoint_ids)
        for savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _DeriveOnCommit) and savepoints <= open_savepoints:
                callback.ids |= ids
                return
    elif not ids:
        return
    callback = _DeriveOnCommit()
    callback.ids = ids
    transaction.on_commit(callback)
