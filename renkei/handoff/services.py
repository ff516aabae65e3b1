"""Writes of the hand-off: accept / reject by the rep, re-assignment by a manager,
marketing's queue, routing rules, rep settings and teams. Every write is audited.

Where a rejected lead goes (the contact's lifecycle stage):

- no_budget, not_now, not_decision_maker, other → recycled (back to nurture);
- competitor → disqualified;
- wrong_data, duplicate, student_job_seeker → disqualified *and* marketing's queue,
  where marketing fixes the data (back to lead) or dismisses it.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services import contact_assign_owner, contact_change_stage
from renkei.contacts.services.common import Actor, Conflict, _actor_user
from renkei.handoff.models import (
    Assignment,
    AssignmentMethod,
    AssignmentStatus,
    QueueState,
    RejectReason,
    RepSettings,
    RoutingRule,
    Team,
)
from renkei.handoff.regions import REGIONS
from renkei.handoff.routing import assignments_announce
from renkei.lib.japanese import PREFECTURES

RECYCLE_REASONS = {
    RejectReason.NO_BUDGET,
    RejectReason.NOT_NOW,
    RejectReason.NOT_DECISION_MAKER,
    RejectReason.OTHER,
}
QUEUE_REASONS = {RejectReason.WRONG_DATA, RejectReason.DUPLICATE, RejectReason.STUDENT_JOB_SEEKER}


def _open_for(assignment: Assignment, actor: Actor) -> Assignment:
    """The assignment afresh, open and assigned to ``actor``: else 403 or a conflict."""
    current = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if current is None:
        raise Conflict({"assignment": _("this hand-off no longer exists; reload")})
    if actor is None or current.user_id != actor.pk:
        if current.status == AssignmentStatus.REASSIGNED:
            raise Conflict({"assignment": _("this lead was re-assigned to someone else")})
        raise PermissionDenied(_("this lead is assigned to someone else"))
    if current.status == AssignmentStatus.REASSIGNED:
        raise Conflict({"assignment": _("this lead was re-assigned to someone else")})
    if current.status != AssignmentStatus.OPEN:
        raise Conflict({"assignment": _("this lead was already decided")})
    return current


def _close(current: Assignment, status: str, **fields: Any) -> None:
    now = timezone.now()
    updated = Assignment.objects.filter(pk=current.pk, status=AssignmentStatus.OPEN).update(
        status=status, decided_at=now, **fields
    )
    if updated != 1:
        raise Conflict({"assignment": _("this lead was changed meanwhile; reload")})
    current.status, current.decided_at = status, now
    for name, value in fields.items():
        setattr(current, name, value)


@transaction.atomic
def assignment_accept(*, assignment: Assignment, actor: Actor) -> Assignment:
    """The assigned rep accepts the lead: the contact becomes SAL."""
    current = _open_for(assignment, actor)
    _close(current, AssignmentStatus.ACCEPTED)
    contact_change_stage(
        contact=Contact(pk=current.contact_id),
        to_stage=LifecycleStage.SAL,
        actor=actor,
        reason=_("accepted by sales"),
        source="handoff",
    )
    audit_record(
        actor=actor,
        action="handoff.accept",
        object_type="contact",
        object_id=current.contact_id,
        changes={"assignment": [AssignmentStatus.OPEN, AssignmentStatus.ACCEPTED]},
    )
    return current


@transaction.atomic
def assignment_reject(
    *, assignment: Assignment, actor: Actor, reason_code: str, reason_text: str = ""
) -> Assignment:
    """The assigned rep rejects the lead with a reason code (and text for "other")."""
    if reason_code not in RejectReason.values:
        raise ValidationError(
            {
                "reason_code": _("choose one of %(codes)s")
                % {"codes": ", ".join(RejectReason.values)}
            }
        )
    reason_text = (reason_text or "").strip()
    if reason_code == RejectReason.OTHER and not reason_text:
        raise ValidationError({"reason_text": _("say why when the reason is “other”")})
    if len(reason_text) > 2000:
        raise ValidationError({"reason_text": _("at most 2,000 characters")})
    current = _open_for(assignment, actor)
    queued = reason_code in QUEUE_REASONS
    _close(
        current,
        AssignmentStatus.REJECTED,
        reason_code=reason_code,
        reason_text=reason_text,
        queue_state=QueueState.PENDING if queued else QueueState.NONE,
    )
    to_stage = (
        LifecycleStage.RECYCLED if reason_code in RECYCLE_REASONS else LifecycleStage.DISQUALIFIED
    )
    label = str(RejectReason(reason_code).label)
    contact_change_stage(
        contact=Contact(pk=current.contact_id),
        to_stage=to_stage,
        actor=actor,
        reason=_("rejected by sales: %(reason)s") % {"reason": label}
        + (f" — {reason_text}" if reason_text else ""),
        source="handoff",
    )
    audit_record(
        actor=actor,
        action="handoff.reject",
        object_type="contact",
        object_id=current.contact_id,
        changes={
            "assignment": [AssignmentStatus.OPEN, AssignmentStatus.REJECTED],
            "reason_code": [None, reason_code],
        },
        reason=reason_text,
    )
    return current


@transaction.atomic
def assignment_reassign(
    *, assignment: Assignment, to_user: AbstractBaseUser, actor: Actor, reason: str = ""
) -> Assignment:
    """A manager hands an open lead to another rep: the old assignment is closed as
    re-assigned, a new one records the previous rep, and ``leads_assigned`` is sent."""
    if not to_user.is_active:
        raise ValidationError({"user": _("this user is deactivated")})
    current = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if current is None or current.status != AssignmentStatus.OPEN:
        raise Conflict({"assignment": _("only an open lead can be re-assigned; reload")})
    if current.user_id == to_user.pk:
        raise ValidationError({"user": _("the lead is already assigned to this rep")})
    _close(current, AssignmentStatus.REASSIGNED)
    now = timezone.now()
    try:
        with transaction.atomic():
            new = Assignment.objects.create(
                contact_id=current.contact_id,
                user_id=to_user.pk,
                method=AssignmentMethod.MANUAL,
                assigned_at=now,
                assigned_by=_actor_user(actor),
                previous_user_id=current.user_id,
            )
    except IntegrityError:
        raise Conflict({"assignment": _("the lead was changed meanwhile; reload")}) from None
    contact_assign_owner(
        contact=Contact(pk=current.contact_id), owner=to_user, actor=actor, reason=reason
    )
    audit_record(
        actor=actor,
        action="handoff.reassign",
        object_type="contact",
        object_id=current.contact_id,
        changes={"assigned_to": [current.user_id, to_user.pk]},
        reason=reason,
    )
    made = [(new.pk, new.contact_id, to_user.pk)]
    previous = current.user_id
    transaction.on_commit(lambda: assignments_announce(made, now, previous))
    return new


@transaction.atomic
def queue_resolve(*, assignment: Assignment, actor: Actor, action: str) -> Assignment:
    """Marketing resolves a queued rejection: ``return`` (data fixed: back to lead) or
    ``dismiss`` (stays disqualified)."""
    if action not in ("return", "dismiss"):
        raise ValidationError({"action": _("choose return or dismiss")})
    updated = Assignment.objects.filter(pk=assignment.pk, queue_state=QueueState.PENDING).update(
        queue_state=QueueState.RETURNED if action == "return" else QueueState.DISMISSED
    )
    if updated != 1:
        raise Conflict({"assignment": _("this entry was already resolved")})
    if action == "return":
        contact_change_stage(
            contact=Contact(pk=assignment.contact_id),
            to_stage=LifecycleStage.LEAD,
            actor=actor,
            reason=_("data fixed by marketing after a sales rejection"),
            source="handoff",
        )
    audit_record(
        actor=actor,
        action=f"handoff.queue_{action}",
        object_type="contact",
        object_id=assignment.contact_id,
    )
    assignment.refresh_from_db()
    return assignment


# ---- routing rules, reps, teams -----------------------------------------------------------

RULE_FIELDS = (
    "name",
    "position",
    "is_active",
    "regions",
    "prefectures",
    "industries",
    "employees_min",
    "employees_max",
    "persona",
)


def _rule_validate(data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if not str(data.get("name") or "").strip():
        errors["name"] = _("give the rule a name")
    bad = [r for r in data.get("regions") or [] if r not in REGIONS]
    if bad:
        errors["regions"] = _("unknown region %(value)s") % {"value": bad[0]}
    bad = [p for p in data.get("prefectures") or [] if p not in PREFECTURES]
    if bad:
        errors["prefectures"] = _("unknown prefecture %(value)s") % {"value": bad[0]}
    low, high = data.get("employees_min"), data.get("employees_max")
    if low is not None and high is not None and low > high:
        errors["employees_max"] = _("must not be below “employees from”")
    if errors:
        raise ValidationError(errors)


def _rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    out = {f: getattr(rule, f) for f in RULE_FIELDS if f != "persona"}
    out["persona_id"] = rule.persona_id
    out["reps"] = sorted(rule.reps.values_list("pk", flat=True)) if rule.pk else []
    return out


@transaction.atomic
def routing_rule_save(
    *,
    actor: Actor,
    rule: RoutingRule | None = None,
    reps: list[AbstractBaseUser] | None = None,
    **data: Any,
) -> RoutingRule:
    """Create or change a routing rule; the audit entry keeps the before and after."""
    _rule_validate(data)
    creating = rule is None
    rule = rule or RoutingRule()
    before = {} if creating else _rule_snapshot(rule)
    for name, value in data.items():
        if name not in RULE_FIELDS:
            raise ValidationError({name: _("unknown field")})
        setattr(rule, name, value)
    rule.save()
    if reps is not None:
        rule.reps.set([u.pk for u in reps])
    after = _rule_snapshot(rule)
    audit_record(
        actor=actor,
        action="routing_rule.create" if creating else "routing_rule.update",
        object_type="routing_rule",
        object_id=rule.pk,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action="routing_rule.delete",
        object_type="routing_rule",
        object_id=rule.pk,
        changes={k: [v, None] for k, v in _rule_snapshot(rule).items()},
    )
    rule.delete()


@transaction.atomic
def rep_settings_save(*, user: AbstractBaseUser, actor: Actor, **data: Any) -> RepSettings:
    """Capacity, weight, out of office, team and webhook of one rep; audited."""
    errors = {}
    if data.get("weight") is not None and data["weight"] < 1:
        errors["weight"] = _("at least 1")
    if data.get("webhook_url"):
        from renkei.handoff.notify import webhook_url_check

        try:
            webhook_url_check(data["webhook_url"])
        except ValidationError as exc:
            errors["webhook_url"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    settings_row, _created = RepSettings.objects.get_or_create(user_id=user.pk)
    changes = {}
    for name, value in data.items():
        old = getattr(settings_row, name)
        if old != value:
            changes[name] = [str(old) if old is not None else None, str(value) if value else value]
            setattr(settings_row, name, value)
    if changes:
        settings_row.save()
        audit_record(
            actor=actor,
            action="rep_settings.update",
            object_type="user",
            object_id=user.pk,
            changes=changes,
        )
    return settings_row


@transaction.atomic
def team_save(*, actor: Actor, team: Team | None = None, **data: Any) -> Team:
    if data.get("webhook_url"):
        from renkei.handoff.notify import webhook_url_check

        try:
            webhook_url_check(data["webhook_url"])
        except ValidationError as exc:
            raise ValidationError({"webhook_url": exc.messages}) from None
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": _("give the team a name")})
    same_name = Team.objects.filter(name=name)
    if team is not None:
        same_name = same_name.exclude(pk=team.pk)
    if same_name.exists():
        raise ValidationError({"name": _("another team has this name")})
    creating = team is None
    team = team or Team()
    for key, value in data.items():
        setattr(team, key, value)
    team.save()
    audit_record(
        actor=actor,
        action="team.create" if creating else "team.update",
        object_type="team",
        object_id=team.pk,
        changes={"name": [None, team.name]},
    )
    return team


def users_active() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")
