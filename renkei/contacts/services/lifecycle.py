"""Lifecycle stages: the services that change a contact's stage, and their rules.

``contact_change_stage`` moves one contact; ``contacts_change_stage_bulk`` moves many
(automatic decisions such as qualification) with the same records — a transition and an
audit entry per contact — in a fixed number of queries per chunk. After commit both send
``stage_changed`` per contact and ``stages_changed`` once for the whole move.
"""

from collections.abc import Collection, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.models import AuditEntry
from renkei.accounts.services import audit_record
from renkei.contacts.models import (
    FUNNEL_ORDER,
    Contact,
    LifecycleStage,
    LifecycleTransition,
    stage_is_backward,
)
from renkei.contacts.services.cleaning import _field_text
from renkei.contacts.services.common import Actor, Conflict, ReferenceNotFound, _actor_user
from renkei.contacts.signals import StageChange, stage_changed, stages_changed


def _unknown_stage(stage: str) -> str:
    return _("unknown stage %(stage)s; one of %(choices)s") % {
        "stage": repr(stage),
        "choices": ", ".join(LifecycleStage.values),
    }


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
        raise ReferenceNotFound({"contact": _("no such contact")})
    if expected_stage is not None and from_stage != expected_stage:
        message = _("the stage is now %(stage)s, not %(expected)s; reload")
        raise Conflict(
            {"lifecycle_stage": message % {"stage": from_stage, "expected": expected_stage}}
        )
    if from_stage == to_stage:
        return None
    if stage_is_backward(from_stage, to_stage) and not reason:
        raise ValidationError(
            {
                "reason": _("moving from %(from_stage)s to %(to_stage)s needs a reason")
                % {"from_stage": from_stage, "to_stage": to_stage}
            }
        )
    now = timezone.now()
    updated = Contact.objects.filter(pk=contact.pk, lifecycle_stage=from_stage).update(
        lifecycle_stage=to_stage, lifecycle_stage_changed_at=now, updated_at=now
    )
    if updated != 1:
        raise Conflict({"lifecycle_stage": _("the stage was changed meanwhile; reload")})
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
    change = StageChange(contact.pk, from_stage, to_stage, transition.pk)
    transaction.on_commit(lambda: _stages_announce([change]))
    return transition


BULK_CHUNK = 500  # contacts per statement: well under SQLite's parameter limit


def contacts_change_stage_bulk(
    *,
    contact_ids: Sequence[int],
    to_stage: str,
    from_stages: Collection[str],
    reasons: Mapping[int, str],
    actor: Actor,
    source: str,
) -> list[int]:
    """Move the contacts that are in one of ``from_stages`` to ``to_stage``; the others
    (moved meanwhile, deleted) are left alone. Returns the ids moved.

    Set-based: per chunk, one locking read, one conditional UPDATE, one insert of the
    transitions and one of the audit entries; after commit, ``stage_changed`` per contact
    and ``stages_changed`` once for the whole move. Only forward moves: a backward move
    needs a person's reason, one at a time.
    """
    if to_stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": _unknown_stage(to_stage)})
    unknown = [stage for stage in from_stages if stage not in LifecycleStage.values]
    if unknown:
        raise ValidationError({"from_stages": _unknown_stage(unknown[0])})
    backward = [stage for stage in from_stages if stage_is_backward(stage, to_stage)]
    if backward:
        raise ValidationError(
            {
                "from_stages": _("moving from %(from_stage)s to %(to_stage)s needs a reason")
                % {"from_stage": backward[0], "to_stage": to_stage}
            }
        )
    source = _field_text(source, "source", 32)
    stages = sorted(set(from_stages) - {to_stage})
    ids = sorted({int(i) for i in contact_ids})
    changes: list[StageChange] = []
    if not stages:
        return []
    try:
        for start in range(0, len(ids), BULK_CHUNK):
            changes += _change_stage_chunk(
                ids[start : start + BULK_CHUNK], to_stage, stages, reasons, actor, source
            )
    finally:
        # One announcement for the whole move, after commit (chunks commit one by one
        # outside an enclosing transaction: if a later chunk fails, the moves already
        # committed are still announced).
        if changes:
            transaction.on_commit(lambda: _stages_announce(changes))
    return [c.contact_id for c in changes]


@transaction.atomic
def _change_stage_chunk(
    ids: list[int],
    to_stage: str,
    from_stages: list[str],
    reasons: Mapping[int, str],
    actor: Actor,
    source: str,
) -> list[StageChange]:
    # Locked in id order (PostgreSQL; SQLite's IMMEDIATE transactions hold the write lock
    # already): nobody changes these stages between the read and the UPDATE.
    found = list(
        Contact.objects.select_for_update()
        .filter(id__in=ids, lifecycle_stage__in=from_stages)
        .order_by("id")
        .values_list("id", "lifecycle_stage")
    )
    if not found:
        return []
    now = timezone.now()
    Contact.objects.filter(id__in=[pk for pk, _stage in found]).update(
        lifecycle_stage=to_stage, lifecycle_stage_changed_at=now, updated_at=now
    )
    user = _actor_user(actor)
    texts = {pk: _field_text(reasons.get(pk) or "", "reason", 2000) for pk, _stage in found}
    transitions = LifecycleTransition.objects.bulk_create(
        LifecycleTransition(
            contact_id=pk,
            from_stage=stage,
            to_stage=to_stage,
            occurred_at=now,
            actor=user,
            reason=texts[pk],
            source=source,
        )
        for pk, stage in found
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            action="contact.stage",
            object_type="contact",
            object_id=pk,
            changes={"lifecycle_stage": [stage, to_stage]},
            reason=texts[pk],
            actor=user,
            actor_label=user.get_username() if user else "system",
        )
        for pk, stage in found
    )
    return [StageChange(t.contact_id, t.from_stage, to_stage, t.pk) for t in transitions]


def _stages_announce(changes: list[StageChange]) -> None:
    """After commit: ``stage_changed`` per contact, then ``stages_changed`` once."""
    for change in changes:
        stage_changed.send(sender=Contact, **change._asdict())
    stages_changed.send(sender=Contact, changes=changes)


def _further_in_funnel(stage: str, than: str) -> bool:
    if stage not in FUNNEL_ORDER or than not in FUNNEL_ORDER:
        return False
    return FUNNEL_ORDER.index(stage) > FUNNEL_ORDER.index(than)  # type: ignore[arg-type]
