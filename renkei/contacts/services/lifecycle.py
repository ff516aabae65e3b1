"""Lifecycle stages: the one service that changes a contact's stage, and its rules."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
from renkei.contacts.signals import stage_changed


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


def _further_in_funnel(stage: str, than: str) -> bool:
    if stage not in FUNNEL_ORDER or than not in FUNNEL_ORDER:
        return False
    return FUNNEL_ORDER.index(stage) > FUNNEL_ORDER.index(than)  # type: ignore[arg-type]
