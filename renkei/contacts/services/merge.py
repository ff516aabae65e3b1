"""Merging two contacts (or two companies) into one: every row that points at the merged
record moves to the surviving one, so no history is lost."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.contacts.derived import EVENTS, contacts_derive_enqueue
from renkei.contacts.models import Company, Contact
from renkei.contacts.services.common import (
    COMPANY_FIELDS,
    CONTACT_PERSONAL_FIELDS,
    Actor,
    ReferenceNotFound,
    _company_or_none,
    _contacts_refresh_search_text,
    _derive_on_commit,
    _jsonable,
    _search_text,
)
from renkei.contacts.services.lifecycle import _further_in_funnel, contact_change_stage
from renkei.contacts.services.scores import contact_scores_set


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
    merged_score = max(winner.score, loser.score)  # before the score rows move
    moved = _move_related_rows(Contact, loser, winner)
    fill = {
        f: getattr(loser, f)
        for f in (*CONTACT_PERSONAL_FIELDS, "company_id", "source", "first_campaign_id")
        if f != "email" and not getattr(winner, f) and getattr(loser, f)
    }
    if not winner.owner_id and loser.owner_id:
        fill["owner_id"] = loser.owner_id
    if loser.first_touch_at and (
        not winner.first_touch_at or loser.first_touch_at < winner.first_touch_at
    ):
        # The merged person's first touch is whichever of the two came first.
        fill["first_touch_at"] = loser.first_touch_at
        fill["first_touch"] = loser.first_touch
        if loser.first_campaign_id:
            fill["first_campaign_id"] = loser.first_campaign_id
    for field, value in fill.items():
        setattr(winner, field, value)
    winner.properties = {**loser.properties, **winner.properties}
    # The loser's events now count for the winner: the higher score until the rescore
    # queued below recomputes it from all of them.
    contact_scores_set({winner.pk: merged_score})
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
    _derive_on_commit([winner.pk])  # fields filled in, events and properties merged
    # The loser's events now count for the winner: its engagement and last activity too.
    winner_id = winner.pk
    transaction.on_commit(lambda: contacts_derive_enqueue([winner_id], EVENTS))
    if _further_in_funnel(loser_stage, winner.lifecycle_stage):
        contact_change_stage(
            contact=winner,
            to_stage=loser_stage,
            actor=actor,
            reason=f"merged contact #{loser_id}",
            source="merge",
        )
    return winner


def _move_related_rows(
    model: type[models.Model], old: models.Model, new: models.Model
) -> dict[str, int]:
    """Point every row that references ``old`` at ``new``: one UPDATE per relation.

    Relations are found through the model's metadata, so rows of apps added later move
    too without this app importing them. (Nothing has a many-to-many to these models yet;
    such a relation would need its link rows moved here as well.)
    """
    moved: dict[str, int] = {}
    for relation in model._meta.related_objects:
        if relation.one_to_many or relation.one_to_one:
            related = relation.related_model
            assert not isinstance(related, str)  # "self" only on models pointing at themselves
            field = relation.field.name
            rows = related._default_manager.filter(**{field: old})
            if relation.one_to_one and related._default_manager.filter(**{field: new}).exists():
                # One row per record (a contact's journey stage …): ``new`` keeps its own;
                # moving the other would break the unique key. Derived rows are recomputed
                # for the merged record after commit.
                rows.delete()
                count = 0
            else:
                count = rows.update(**{field: new})
            moved[f"{related._meta.label_lower}.{field}"] = count
    return moved


@transaction.atomic
def company_merge(*, keep: Company, merge: Company, actor: Actor) -> Company:
    """Merge company ``merge`` into ``keep``: its contacts and every other row that points
    at it move to ``keep``; ``keep``'s empty fields (and owner) take ``merge``'s values;
    ``merge`` is then deleted. ``keep``'s name stays (rename it with ``company_update``).
    """
    if keep.pk == merge.pk:
        raise ValidationError({"merge_id": _("cannot merge a company into itself")})
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Company.objects.select_for_update()
        .filter(pk__in=[keep.pk, merge.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ReferenceNotFound({"merge_id": _("the company no longer exists")})
    keep, merge = locked[keep.pk], locked[merge.pk]
    moved_contacts = list(merge.contacts.values_list("pk", flat=True))
    moved = _move_related_rows(Company, merge, keep)
    fill: dict[str, Any] = {
        f: getattr(merge, f)
        for f in (*COMPANY_FIELDS, "owner_id")
        if f != "name" and getattr(keep, f) in ("", None) and getattr(merge, f) not in ("", None)
    }
    merge_id, merge_name = merge.pk, merge.name
    merge.delete()  # first: keep may take its domain, which is unique
    for field, value in fill.items():
        setattr(keep, field, value)
    keep.save()
    if keep.name != merge_name:
        # The contacts' search text holds their company's name.
        _contacts_refresh_search_text(moved_contacts)
    # The moved contacts have another company; all of keep's may see fields filled in.
    _derive_on_commit(keep.contacts.values_list("pk", flat=True) if fill else moved_contacts)
    audit_record(
        actor=actor,
        action="company.merge",
        object_type="company",
        object_id=keep.pk,
        changes={
            "merged_company": [merge_id, None],
            "merged_name": [merge_name, None],
            **_jsonable({f: [None, v] for f, v in fill.items()}),
        },
        reason=f"merged company #{merge_id}; moved {moved}",
    )
    return keep
