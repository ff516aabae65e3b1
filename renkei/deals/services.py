"""Every write to pipelines and deals, audited.

Who may change a deal: its owner (``deals.change_deal``) or anyone with
``deals.change_any_deal`` (managers, admins). The system (actor None) may change any.

A contact reaching SQL gets a deal (``deal_create_for_sql``) and moves on to
opportunity: in Renkei "opportunity" means "has an open deal", so a contact whose deal
exists and is still at SQL would say less than the truth. A deal won moves its contacts
to customer; a deal lost leaves them where they are (sales decide whether to recycle).
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import Actor, audit_record
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Company, Contact, LifecycleStage
from renkei.contacts.services import Conflict, contact_change_stage
from renkei.deals.models import (
    Deal,
    DealContact,
    DealStageChange,
    DealStatus,
    LostReason,
    Pipeline,
    PipelineStage,
)

NAME_MAX = 200
NOTE_MAX = 2000


def _user(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def deal_can_change(user: Actor, deal: Deal) -> bool:
    """The owner with ``change_deal``, or anyone with ``change_any_deal``; the system."""
    if user is None:
        return True
    if not isinstance(user, PermissionsMixin) or not user.is_authenticated:
        return False
    if user.has_perm("deals.change_any_deal"):
        return True
    return bool(user.has_perm("deals.change_deal") and deal.owner_id == user.pk)


def _check_can_change(actor: Actor, deal: Deal) -> None:
    if not deal_can_change(actor, deal):
        raise PermissionDenied(_("Only the deal's owner or a manager can change this deal."))


# ---- pipelines -------------------------------------------------------------------------

DEFAULT_STAGES: list[tuple[str, int, bool, bool]] = [  # as in migration 0002
    # name, probability, won, lost
    ("初回商談", 10, False, False),
    ("提案", 30, False, False),
    ("見積", 50, False, False),
    ("交渉", 70, False, False),
    ("受注", 100, True, False),
    ("失注", 0, False, True),
]


@transaction.atomic
def pipeline_create(*, name: str, actor: Actor) -> Pipeline:
    """A new pipeline with the standard stages (rename or re-order them afterwards)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the pipeline a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    if Pipeline.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A pipeline with this name already exists.")})
    pipeline = Pipeline.objects.create(name=name, is_default=not Pipeline.objects.exists())
    PipelineStage.objects.bulk_create(
        PipelineStage(
            pipeline=pipeline,
            name=stage,
            order=(i + 1) * 10,
            probability=probability,
            is_won=won,
            is_lost=lost,
        )
        for i, (stage, probability, won, lost) in enumerate(DEFAULT_STAGES)
    )
    audit_record(
        actor=actor,
        action="pipeline.create",
        object_type="pipeline",
        object_id=pipeline.pk,
        changes={"name": name},
    )
    return pipeline


def _stage_values(
    *, pipeline: Pipeline, stage: PipelineStage | None, values: dict[str, Any]
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the stage a name.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    elif (
        PipelineStage.objects.filter(pipeline=pipeline, name=name)
        .exclude(pk=stage.pk if stage else 0)
        .exists()
    ):
        errors["name"] = _("This pipeline already has a stage with this name.")
    order, probability = values.get("order"), values.get("probability")
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 32767:
        errors["order"] = _("A whole number from 0 to 32767.")
    if (
        not isinstance(probability, int)
        or isinstance(probability, bool)
        or not 0 <= probability <= 100
    ):
        errors["probability"] = _("A whole number from 0 to 100.")
    is_won, is_lost = bool(values.get("is_won")), bool(values.get("is_lost"))
    if is_won and is_lost:
        errors["is_lost"] = _("A stage cannot be both won and lost.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "order": order,
        "probability": probability,
        "is_won": is_won,
        "is_lost": is_lost,
    }


def _check_pipeline_closes(pipeline: Pipeline) -> None:
    stages = list(PipelineStage.objects.filter(pipeline=pipeline))
    if not any(s.is_won for s in stages) or not any(s.is_lost for s in stages):
        raise ValidationError(_("A pipeline needs at least one won and one lost stage."))
    if all(s.is_won or s.is_lost for s in stages):
        raise ValidationError(_("A pipeline needs at least one open stage."))


@transaction.atomic
def pipeline_stage_save(
    *, pipeline: Pipeline, stage: PipelineStage | None, actor: Actor, **values: Any
) -> PipelineStage:
    """Create (``stage`` None) or change a stage. A stage holding deals keeps its won/lost
    flags: flipping them would leave open deals in a closed column, or the reverse."""
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    clean = _stage_values(pipeline=pipeline, stage=stage, values=values)
    if stage is None:
        stage = PipelineStage.objects.create(pipeline=pipeline, **clean)
        changes = {k: [None, v] for k, v in clean.items()}
        action = "pipeline.stage_create"
    else:
        stage = PipelineStage.objects.get(pk=stage.pk, pipeline=pipeline)
        flips = (clean["is_won"], clean["is_lost"]) != (stage.is_won, stage.is_lost)
        if flips and stage.deals.exists():
            raise ValidationError(
                {"is_won": _("This stage holds deals: its won/lost flags cannot change.")}
            )
        changes = {k: [getattr(stage, k), v] for k, v in clean.items() if getattr(stage, k) != v}
        for key, value in clean.items():
            setattr(stage, key, value)
        stage.save()
        action = "pipeline.stage_update"
    _check_pipeline_closes(pipeline)
    audit_record(
        actor=actor, action=action, object_type="pipelinestage", object_id=stage.pk, changes=changes
    )
    return stage


@transaction.atomic
def pipeline_stage_delete(*, stage: PipelineStage, actor: Actor) -> None:
    """Remove an empty stage (deals and their history point at it otherwise)."""
    Pipeline.objects.select_for_update().get(pk=stage.pipeline_id)
    if (
        Deal.objects.filter(stage=stage).exists()
        or DealStageChange.objects.filter(from_stage=stage).exists()
        or DealStageChange.objects.filter(to_stage=stage).exists()
    ):
        raise ValidationError(_("This stage has deals or history; it cannot be deleted."))
    pipeline, pk, name = stage.pipeline, stage.pk, stage.name
    stage.delete()
    _check_pipeline_closes(pipeline)
    audit_record(
        actor=actor,
        action="pipeline.stage_delete",
        object_type="pipelinestage",
        object_id=pk,
        changes={"name": [name, None]},
    )


def pipeline_default() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        from renkei.deals.defaults import pipeline_default_ensure

        pipeline_default_ensure()
        pipeline = Pipeline.objects.get(is_default=True)
    return pipeline


def _first_open_stage(pipeline: Pipeline) -> PipelineStage:
    stage = (
        PipelineStage.objects.filter(pipeline=pipeline, is_won=False, is_lost=False)
        .order_by("order", "id")
        .first()
    )
    if stage is None:
        raise ValidationError({"stage": _("The pipeline has no open stage.")})
    return stage


# ---- deals -----------------------------------------------------------------------------


def _clean_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError({"amount": _("Enter the amount in whole yen.")})
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    if amount > 10**15:
        raise ValidationError({"amount": _("The amount is too large.")})
    return amount


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Check the editable fields present in ``values``; every bad one is named."""
    clean: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name:
            errors["name"] = _("Give the deal a name.")
        elif len(name) > NAME_MAX:
            errors["name"] = _("At most %(n)d characters.") % {"n": NAME_MAX}
        clean["name"] = name
    if "amount" in values:
        try:
            clean["amount"] = _clean_amount(values["amount"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "expected_close_date" in values:
        when = values["expected_close_date"]
        if when is not None and not isinstance(when, date):
            errors["expected_close_date"] = _("Enter a date as YYYY-MM-DD.")
        clean["expected_close_date"] = when
    for field, model in (("company", Company), ("source_campaign", Campaign)):
        if field in values:
            obj = values[field]
            if obj is not None and not isinstance(obj, model):
                errors[field] = _("Unknown %(field)s.") % {"field": field}
            clean[field] = obj
    if "owner" in values:
        clean["owner"] = values["owner"]
    if "contact_ids" in values:
        ids = sorted({int(i) for i in values["contact_ids"] or []})
        found = set(Contact.objects.filter(id__in=ids).values_list("id", flat=True))
        if len(found) != len(ids):
            errors["contacts"] = _("Unknown contact: %(ids)s") % {
                "ids": ", ".join(str(i) for i in ids if i not in found)
            }
        clean["contact_ids"] = ids
    if errors:
        raise ValidationError(errors)
    return clean


def _audit_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


@transaction.atomic
def deal_create(
    *,
    name: str,
    actor: Actor,
    amount: int = 0,
    pipeline: Pipeline | None = None,
    stage: PipelineStage | None = None,
    expected_close_date: date | None = None,
    owner: Any = None,
    company: Company | None = None,
    contact_ids: Iterable[int] = (),
    source_campaign: Campaign | None = None,
) -> Deal:
    """A new open deal. Without a stage it starts in the pipeline's first open stage;
    without a company it takes the first contact's."""
    clean = _clean_fields(
        {
            "name": name,
            "amount": amount,
            "expected_close_date": expected_close_date,
            "company": company,
            "source_campaign": source_campaign,
            "owner": owner,
            "contact_ids": list(contact_ids),
        }
    )
    pipeline = pipeline or (stage.pipeline if stage else pipeline_default())
    if stage is None:
        stage = _first_open_stage(pipeline)
    elif stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    elif stage.is_closed:
        raise ValidationError({"stage": _("A new deal starts in an open stage.")})
    ids = clean.pop("contact_ids")
    if clean["company"] is None and ids:
        company_id = Contact.objects.filter(id=ids[0]).values_list("company_id", flat=True)[0]
        clean["company"] = Company.objects.filter(pk=company_id).first()
    deal = Deal.objects.create(pipeline=pipeline, stage=stage, created_by=_user(actor), **clean)
    DealContact.objects.bulk_create(DealContact(deal=deal, contact_id=i) for i in ids)
    DealStageChange.objects.create(
        deal=deal, from_stage=None, to_stage=stage, occurred_at=deal.created_at, actor=_user(actor)
    )
    audit_record(
        actor=actor,
        action="deal.create",
        object_type="deal",
        object_id=deal.pk,
        changes={
            **{k: [None, _audit_value(v)] for k, v in clean.items()},
            "stage": [None, stage.pk],
            "contacts": [[], ids],
        },
    )
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, actor: Actor, **values: Any) -> Deal:
    """Change name, amount, expected close date, owner, company, contacts or campaign.
    The stage changes only through ``deal_move``."""
    allowed = {
        "name",
        "amount",
        "expected_close_date",
        "owner",
        "company",
        "contact_ids",
        "source_campaign",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"deal_update cannot change {sorted(unknown)}")
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    _check_can_change(actor, locked)
    clean = _clean_fields(values)
    changes: dict[str, list[Any]] = {}
    ids = clean.pop("contact_ids", None)
    for key, value in clean.items():
        old = getattr(locked, key)
        if old != value:
            changes[key] = [_audit_value(old), _audit_value(value)]
            setattr(locked, key, value)
    if ids is not None:
        old_ids = sorted(locked.deal_contacts.values_list("contact_id", flat=True))
        if old_ids != ids:
            locked.deal_contacts.exclude(contact_id__in=ids).delete()
            DealContact.objects.bulk_create(
                DealContact(deal=locked, contact_id=i) for i in ids if i not in old_ids
            )
            changes["contacts"] = [old_ids, ids]
    if changes:
        locked.save()
        audit_record(
            actor=actor,
            action="deal.update",
            object_type="deal",
            object_id=locked.pk,
            changes=changes,
        )
    return locked


@transaction.atomic
def deal_move(
    *,
    deal: Deal,
    to_stage: PipelineStage,
    actor: Actor,
    expected_stage_id: int | None = None,
    lost_reason: str = "",
    note: str = "",
) -> DealStageChange | None:
    """Move a deal to another stage of its pipeline; returns the history row, or None
    when it is already there.

    ``expected_stage_id`` is the stage the user saw (the card's column): if the deal has
    moved meanwhile the move is refused with ``Conflict``. A lost stage needs a reason
    code; a won stage marks every contact of the deal customer. Moving a closed deal back
    to an open stage reopens it (its contacts stay customers).
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": NOTE_MAX}})
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    _check_can_change(actor, locked)
    if expected_stage_id is not None and locked.stage_id != expected_stage_id:
        raise Conflict(
            {
                "stage": _("Someone moved this deal to “%(stage)s” meanwhile; reload the board.")
                % {"stage": locked.stage.name}
            }
        )
    if to_stage.pipeline_id != locked.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if to_stage.is_lost and lost_reason not in LostReason.values:
        raise ValidationError({"lost_reason": _("Choose why the deal was lost.")})
    if locked.stage_id == to_stage.pk:
        return None
    from_stage_id, now = locked.stage_id, timezone.now()
    if to_stage.is_won:
        status, closed_at, reason = DealStatus.WON, now, ""
    elif to_stage.is_lost:
        status, closed_at, reason = DealStatus.LOST, now, lost_reason
    else:
        status, closed_at, reason = DealStatus.OPEN, None, ""
    # Conditional on the stage read: a second writer that read the same stage updates 0.
    updated = Deal.objects.filter(pk=locked.pk, stage_id=from_stage_id).update(
        stage=to_stage,
        status=status,
        closed_at=closed_at,
        lost_reason=reason,
        close_note=note if to_stage.is_closed else locked.close_note,
        updated_at=now,
    )
    if updated != 1:
        raise Conflict({"stage": _("The deal was moved meanwhile; reload the board.")})
    change = DealStageChange.objects.create(
        deal=locked,
        from_stage_id=from_stage_id,
        to_stage=to_stage,
        occurred_at=now,
        actor=_user(actor),
        note=note,
    )
    audit_record(
        actor=actor,
        action="deal.move",
        object_type="deal",
        object_id=locked.pk,
        changes={"stage": [from_stage_id, to_stage.pk], "status": [locked.status, status]},
        reason=" ".join(p for p in (reason, note) if p),
    )
    if status == DealStatus.WON:
        _contacts_to_customer(locked, actor)
    return change


def _contacts_to_customer(deal: Deal, actor: Actor) -> None:
    for contact in Contact.objects.filter(deal_links__deal=deal).order_by("id"):
        contact_change_stage(
            contact=contact,
            to_stage=LifecycleStage.CUSTOMER,
            actor=actor,
            source="deal",
            reason=_("Deal won: %(deal)s") % {"deal": deal.name},
        )


def deal_close(
    *,
    deal: Deal,
    won: bool,
    actor: Actor,
    lost_reason: str = "",
    note: str = "",
    expected_stage_id: int | None = None,
) -> DealStageChange | None:
    """Mark the deal won or lost: a move to its pipeline's (first) won or lost stage."""
    stages = PipelineStage.objects.filter(pipeline_id=deal.pipeline_id)
    stage = stages.filter(is_won=True) if won else stages.filter(is_lost=True)
    target = stage.order_by("order", "id").first()
    if target is None:
        raise ValidationError({"stage": _("The pipeline has no won or lost stage.")})
    return deal_move(
        deal=deal,
        to_stage=target,
        actor=actor,
        expected_stage_id=expected_stage_id,
        lost_reason=lost_reason,
        note=note,
    )


# ---- SQL → deal ------------------------------------------------------------------------


@transaction.atomic
def deal_create_for_sql(*, contact_id: int) -> Deal | None:
    """A contact at SQL gets a deal unless it already takes part in an open one, then
    moves to opportunity. Safe to run twice: the contact row is locked while checking,
    and a contact no longer at SQL is left alone. Returns the new deal, or None."""
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("company", "first_campaign")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None or contact.lifecycle_stage != LifecycleStage.SQL:
        return None
    deal = None
    if not Deal.objects.filter(deal_contacts__contact=contact, status=DealStatus.OPEN).exists():
        label = contact.company.name if contact.company else str(contact)
        deal = deal_create(
            name=_("%(who)s — new deal") % {"who": label},
            actor=None,
            owner=contact.owner,
            company=contact.company,
            contact_ids=[contact.pk],
            source_campaign=contact.first_campaign,
        )
    contact_change_stage(
        contact=contact,
        to_stage=LifecycleStage.OPPORTUNITY,
        actor=None,
        source="deal",
        expected_stage=LifecycleStage.SQL,
    )
    return deal


def next_stage_order(pipeline: Pipeline) -> int:
    top = PipelineStage.objects.filter(pipeline=pipeline).aggregate(m=Max("order"))["m"]
    return (top or 0) + 10
