"""Merging two contacts into one: every row that points at the loser moves to the winner."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.contacts.models import Contact
from renkei.contacts.services.common import (
    CONTACT_PERSONAL_FIELDS,
    Actor,
    ReferenceNotFound,
    _company_or_none,
    _jsonable,
    _search_text,
)
from renkei.contacts.services.lifecycle import _further_in_funnel, contact_change_stage


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
        raise ValidationError({"other_id": _("cannot merge a contact into itself")})
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[winner.pk, loser.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ReferenceNotFound({"other_id": _("the contact no longer exists")})
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
