"""Every write to personas, and the set-based rebuild of contacts' fit scores.

Approval rule: a version becomes active once one user has approved it *for marketing* and a
different user *for sales*. A marketing-role user may approve for marketing, a sales-role
user for sales; a manager or an admin may approve for either side (they stand in for a team
lead who is away), but never for both sides of the same version.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.approval import MARKETING_SIDE, SALES_SIDE, approval_side_check
from renkei.accounts.roles import ADMIN, MANAGER, MARKETING, SALES
from renkei.accounts.services import Actor, audit_record
from renkei.contacts.models import Contact
from renkei.contacts.signals import derived_rebuilt
from renkei.personas.criteria import (
    ROW_FIELDS,
    CompiledCriterion,
    criteria_validate,
    criterion_compile,
    criterion_vector,
    row_prepare,
)
from renkei.personas.models import (
    ContactFit,
    ContactPersona,
    Persona,
    PersonaVersion,
    VersionStatus,
)

SIDE_ROLES = {MARKETING_SIDE: (MARKETING, MANAGER, ADMIN), SALES_SIDE: (SALES, MANAGER, ADMIN)}
CHUNK = 2000  # contacts read and written per step of a full rebuild


def _user_id(actor: Actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


def _version_state(version: PersonaVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "description": version.description,
        "pains": version.pains,
        "goals": version.goals,
        "criteria": version.criteria,
    }


@transaction.atomic
def persona_create(
    *,
    name: str,
    criteria: list[dict[str, Any]],
    actor: Actor,
    description: str = "",
    pains: str = "",
    goals: str = "",
) -> PersonaVersion:
    """A new persona and its first draft version."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the persona a name.")})
    if Persona.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A persona with this name already exists.")})
    clean = criteria_validate(criteria)
    persona = Persona.objects.create(name=name)
    audit_record(
        actor=actor,
        action="persona.create",
        object_type="persona",
        object_id=persona.pk,
        changes={"name": name},
    )
    return _version_insert(
        persona=persona,
        criteria=clean,
        actor=actor,
        description=description,
        pains=pains,
        goals=goals,
    )


def _version_insert(
    *,
    persona: Persona,
    criteria: list[dict[str, Any]],
    actor: Actor,
    description: str,
    pains: str,
    goals: str,
) -> PersonaVersion:
    number = (persona.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PersonaVersion.objects.create(
        persona=persona,
        number=number,
        criteria=criteria,
        description=description,
        pains=pains,
        goals=goals,
        created_by_id=_user_id(actor),
    )
    audit_record(
        actor=actor,
        action="persona.version_create",
        object_type="personaversion",
        object_id=version.pk,
        changes=_version_state(version),
    )
    return version


@transaction.atomic
def persona_version_create(
    *,
    persona: Persona,
    criteria: list[dict[str, Any]],
    actor: Actor,
    description: str = "",
    pains: str = "",
    goals: str = "",
) -> PersonaVersion:
    """A new draft version of an existing persona (the active one stays active)."""
    clean = criteria_validate(criteria)
    persona = Persona.objects.select_for_update().get(pk=persona.pk)
    return _version_insert(
        persona=persona,
        criteria=clean,
        actor=actor,
        description=description,
        pains=pains,
        goals=goals,
    )


def _locked_draft(version: PersonaVersion) -> PersonaVersion:
    locked = PersonaVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft version can be changed or approved."))
    return locked


@transaction.atomic
def persona_version_update(
    *,
    version: PersonaVersion,
    criteria: list[dict[str, Any]],
    actor: Actor,
    description: str = "",
    pains: str = "",
    goals: str = "",
) -> PersonaVersion:
    """Edit a draft. Any approval already given is withdrawn: it approved other content."""
    clean = criteria_validate(criteria)
    locked = _locked_draft(version)
    before = _version_state(locked)
    locked.criteria, locked.description, locked.pains, locked.goals = (
        clean,
        description,
        pains,
        goals,
    )
    locked.approved_by_marketing = locked.approved_by_sales = None
    locked.save()
    after = _version_state(locked)
    audit_record(
        actor=actor,
        action="persona.version_update",
        object_type="personaversion",
        object_id=locked.pk,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return locked


def _check_side(version: PersonaVersion, side: str, actor: Actor) -> None:
    approval_side_check(
        side=side,
        actor=actor,
        side_roles=SIDE_ROLES,
        approved_by_marketing_id=version.approved_by_marketing_id,
        approved_by_sales_id=version.approved_by_sales_id,
    )


@transaction.atomic
def persona_version_approve(*, version: PersonaVersion, side: str, actor: Actor) -> PersonaVersion:
    """Approve one side. With both sides approved the version becomes active, the persona's
    previous active version is retired, and every contact's fit is rebuilt after commit."""
    locked = _locked_draft(version)
    _check_side(locked, side, actor)
    setattr(locked, f"approved_by_{side}_id", actor.pk if actor else None)
    changes: dict[str, Any] = {"side": side}
    if locked.approved_by_marketing_id and locked.approved_by_sales_id:
        now = timezone.now()
        previous = PersonaVersion.objects.select_for_update().filter(
            persona_id=locked.persona_id, status=VersionStatus.APPROVED
        )
        for old in previous:
            old.status, old.retired_at = VersionStatus.RETIRED, now
            old.save(update_fields=["status", "retired_at"])
            audit_record(
                actor=actor,
                action="persona.version_retire",
                object_type="personaversion",
                object_id=old.pk,
                changes={"replaced_by": locked.number},
            )
        locked.status, locked.approved_at = VersionStatus.APPROVED, now
        changes["status"] = VersionStatus.APPROVED
        _fits_rebuild_on_commit()
    locked.save()
    audit_record(
        actor=actor,
        action="persona.version_approve",
        object_type="personaversion",
        object_id=locked.pk,
        changes=changes,
    )
    return locked


@transaction.atomic
def persona_version_retire(*, version: PersonaVersion, actor: Actor) -> PersonaVersion:
    """Retire a draft or the active version; contacts' fits are rebuilt without it."""
    locked = PersonaVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status == VersionStatus.RETIRED:
        raise ValidationError(_("This version is already retired."))
    was_active = locked.status == VersionStatus.APPROVED
    locked.status, locked.retired_at = VersionStatus.RETIRED, timezone.now()
    locked.save(update_fields=["status", "retired_at"])
    audit_record(
        actor=actor,
        action="persona.version_retire",
        object_type="personaversion",
        object_id=locked.pk,
        changes={"was_active": was_active},
    )
    if was_active:
        _fits_rebuild_on_commit()
    return locked


def _fits_rebuild_on_commit() -> None:
    from renkei.personas.tasks import persona_fit_rebuild  # tasks import services

    transaction.on_commit(lambda: persona_fit_rebuild.enqueue())


# ---- fit scores ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveVersion:
    id: int
    criteria: list[CompiledCriterion]


def _active_versions_locked() -> list[ActiveVersion]:
    """Active versions, oldest persona first (the order that breaks best-persona ties).

    Called inside the writing transaction: locking the active versions' rows serialises a
    full rebuild and a refresh on PostgreSQL, which would otherwise both insert the same
    (contact, version) fits.
    """
    rows = (
        PersonaVersion.objects.select_for_update(of=("self",))
        .filter(status=VersionStatus.APPROVED)
        .order_by("persona__created_at", "persona_id")
        .values_list("id", "criteria")
    )
    return [ActiveVersion(pk, [criterion_compile(c) for c in crit]) for pk, crit in rows]


FitRow = tuple[int, int, int]  # (contact id, version id, fit)


def _fits_for_rows(
    versions: list[ActiveVersion], rows: list[dict[str, Any]]
) -> tuple[list[FitRow], list[FitRow]]:
    """Fits of a chunk of contacts, vectorised: one boolean array per distinct criterion,
    one weighted sum per version."""
    rows = [row_prepare(row) for row in rows]
    if not rows:
        return [], []
    ids = np.fromiter((row["id"] for row in rows), dtype=np.int64, count=len(rows))
    vectors: dict[CompiledCriterion, np.ndarray[Any, Any]] = {}
    fits: list[FitRow] = []
    best_fit = np.zeros(len(rows), dtype=np.int64)
    best_version = np.zeros(len(rows), dtype=np.int64)
    for version in versions:
        met_weight = np.zeros(len(rows), dtype=np.int64)
        for c in version.criteria:
            if c not in vectors:
                vectors[c] = criterion_vector(c, rows)
            met_weight += vectors[c] * c.weight
        total = sum(c.weight for c in version.criteria)
        fit = met_weight * 100 // total
        fits.extend(zip(ids.tolist(), [version.id] * len(rows), fit.tolist(), strict=True))
        # Strictly greater: on a tie the older persona (earlier in ``versions``) keeps it.
        better = fit > best_fit
        best_fit[better] = fit[better]
        best_version[better] = version.id
    has = best_fit > 0
    best = list(
        zip(ids[has].tolist(), best_version[has].tolist(), best_fit[has].tolist(), strict=True)
    )
    return fits, best


def _insert(model: type[ContactFit] | type[ContactPersona], rows: list[FitRow]) -> None:
    """Plain ``executemany``: building a model instance per fit would cost more than the
    scoring itself (measured: half the time of a rebuild)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} (contact_id, version_id, fit) VALUES (%s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _write(fits: list[FitRow], best: list[FitRow]) -> None:
    _insert(ContactFit, fits)
    _insert(ContactPersona, best)


def contacts_fit_rebuild_all() -> int:
    """Recompute every contact's fits against the active personas; returns contacts read.

    Contacts are read in keyset chunks (a handful of queries per 2,000 contacts) and the
    fits replaced in one transaction, so readers see either the old or the new scores.
    """
    seen, after = 0, 0
    with transaction.atomic():
        transaction.on_commit(lambda: derived_rebuilt.send(sender=Persona, name="persona_fit"))
        versions = _active_versions_locked()
        ContactFit.objects.all().delete()
        ContactPersona.objects.all().delete()
        if not versions:
            return 0
        while True:
            rows = list(
                Contact.objects.filter(id__gt=after).order_by("id").values(*ROW_FIELDS)[:CHUNK]
            )
            if not rows:
                break
            _write(*_fits_for_rows(versions, rows))
            seen += len(rows)
            after = rows[-1]["id"]
    return seen


def contacts_fit_refresh(*, contact_ids: Iterable[int]) -> int:
    """Recompute the fits of the given contacts (their data changed); returns how many.

    Safe to run twice; ids of deleted contacts are ignored.
    """
    ids = sorted(set(contact_ids))
    done = 0
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        with transaction.atomic():
            versions = _active_versions_locked()
            rows = list(Contact.objects.filter(id__in=part).values(*ROW_FIELDS))
            ContactFit.objects.filter(contact_id__in=part).delete()
            ContactPersona.objects.filter(contact_id__in=part).delete()
            _write(*_fits_for_rows(versions, rows))
        done += len(rows)
    return done
