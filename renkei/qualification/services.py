"""Every write of the qualification app: the policy (audited), the MQL decision for some
contacts (the derived-data step) or for everyone (the full evaluation), and its runs.

Both paths run ``_qualify_chunk`` on chunks of contacts, so they decide alike: contacts in
subscriber, lead or recycled that meet the policy move to MQL through the stage service
(``contacts_change_stage_bulk``) with a reason in words; MQLs that no longer meet it are
flagged (``below_policy_since``), never demoted, and unflagged when they meet it again.

What "meets the policy" reads, per contact: its best persona fit (no persona: 0), its
engagement score — the stored ``Contact.score`` and the score decayed to now must both
reach the threshold (for MQLs only the decayed one counts) — and whether a hand-raise
event happened within the window.
"""

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renkei.accounts.services import Actor, audit_record
from renkei.contacts.derived import PROPERTIES, contacts_derive_enqueue
from renkei.contacts.models import Contact, ContactScore, LifecycleStage
from renkei.contacts.services import contacts_change_stage_bulk
from renkei.events.models import Event, EventType
from renkei.personas.models import ContactPersona
from renkei.qualification.models import (
    DEFAULT_HAND_RAISE_TYPES,
    ContactQualification,
    QualificationPolicy,
    QualificationRun,
)
from renkei.qualification.selectors import qualification_policy
from renkei.scoring.models import EngagementRule
from renkei.scoring.selectors import contacts_engagement_now
from renkei.scoring.services import event_type_check

QUALIFYING_STAGES = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.RECYCLED)
SOURCE = "qualification"
CHUNK = 500  # contacts per step: a fixed number of queries each
POLICY_FIELDS = (
    "fit_threshold",
    "engagement_threshold",
    "hand_raise_event_types",
    "hand_raise_window_days",
    "active",
)
MAX_ENGAGEMENT = 1_000_000
MAX_WINDOW_DAYS = 3650
MAX_HAND_RAISE_TYPES = 20

# Names a salesperson reads in a reason; other types show their built-in label or slug.
HAND_RAISE_LABELS = {
    "demo_request": gettext_lazy("Demo request"),
    "contact_request": gettext_lazy("Contact request"),
}


# ---- the policy ---------------------------------------------------------------------------


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _types_errors(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return _("Give a list of event types.")
    if len(value) > MAX_HAND_RAISE_TYPES:
        return _("At most %(max)s event types.") % {"max": MAX_HAND_RAISE_TYPES}
    known = {
        *DEFAULT_HAND_RAISE_TYPES,
        *EngagementRule.objects.values_list("event_type", flat=True),
    }
    problems = []
    for event_type in value:
        problem = event_type_check(event_type, known=sorted(known))
        if problem:
            problems.append(f"{event_type}: {problem}")
    return " ".join(problems) or None


def _policy_errors(v: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    fit = v["fit_threshold"]
    if not _whole(fit) or not 0 <= fit <= 100:
        errors["fit_threshold"] = _("Enter a whole number from 0 to 100.")
    score = v["engagement_threshold"]
    if not _whole(score) or not 0 <= score <= MAX_ENGAGEMENT:
        errors["engagement_threshold"] = _("Enter a whole number from 0 to %(max)s.") % {
            "max": MAX_ENGAGEMENT
        }
    types_error = _types_errors(v["hand_raise_event_types"])
    if types_error:
        errors["hand_raise_event_types"] = types_error
    window = v["hand_raise_window_days"]
    if not _whole(window) or not 1 <= window <= MAX_WINDOW_DAYS:
        errors["hand_raise_window_days"] = _("Enter a whole number of days from 1 to %(max)s.") % {
            "max": MAX_WINDOW_DAYS
        }
    if not isinstance(v["active"], bool):
        errors["active"] = _("Choose on or off.")
    return errors


def _policy_locked() -> QualificationPolicy:
    from renkei.qualification.defaults import qualification_policy_ensure

    qualification_policy_ensure()
    return QualificationPolicy.objects.select_for_update().get(pk=qualification_policy().pk)


def _values_checked(policy: QualificationPolicy, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({f: _("unknown field") for f in sorted(unknown)})
    values = {f: getattr(policy, f) for f in POLICY_FIELDS} | fields
    errors = _policy_errors(values)
    if errors:
        raise ValidationError(errors)
    values["hand_raise_event_types"] = list(dict.fromkeys(values["hand_raise_event_types"]))
    return values


def qualification_policy_validate(**fields: Any) -> QualificationPolicy:
    """The policy saving ``fields`` would give, checked the same way, not saved (for the
    backtest preview). ValidationError names each bad field."""
    current = qualification_policy()
    proposed = QualificationPolicy(pk=current.pk)
    for field, value in _values_checked(current, fields).items():
        setattr(proposed, field, value)
    return proposed


@transaction.atomic
def qualification_policy_update(*, actor: Actor, **fields: Any) -> QualificationPolicy:
    """Change the policy; ValidationError names each bad field. A change is audited (old
    and new values) and queues a full evaluation when the policy is active."""
    if set(fields) - set(POLICY_FIELDS):
        _values_checked(qualification_policy(), fields)  # raises, naming the fields
    policy = _policy_locked()
    values = _values_checked(policy, fields)
    changes = {f: [getattr(policy, f), v] for f, v in values.items() if getattr(policy, f) != v}
    if not changes:
        return policy
    for field in changes:
        setattr(policy, field, values[field])
    policy.updated_by = actor if isinstance(actor, User) else None
    policy.save(update_fields=[*changes, "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="qualification_policy.update",
        object_type="qualification_policy",
        object_id=policy.pk,
        changes=changes,
    )
    if policy.active:
        qualification_run_enqueue(actor=actor, trigger="policy")
    return policy


# ---- the decision -------------------------------------------------------------------------


@dataclass
class QualifySummary:
    contacts: int = 0  # contacts read
    qualified: int = 0  # moved to MQL
    flagged: int = 0  # MQLs newly found below the policy
    cleared: int = 0  # flags taken off
    moved_ids: list[int] = dataclasses.field(default_factory=list)

    def add(self, other: "QualifySummary") -> None:
        self.moved_ids += other.moved_ids
        self.contacts += other.contacts
        self.qualified += other.qualified
        self.flagged += other.flagged
        self.cleared += other.cleared


@dataclass(frozen=True)
class _Facts:
    id: int
    stage: str
    score: int
    fit: int
    hand_raise_at: datetime | None
    hand_raise_type: str | None


def _window_start(policy: QualificationPolicy, now: datetime) -> datetime:
    return now - timedelta(days=policy.hand_raise_window_days)


def _facts(policy: QualificationPolicy, ids: list[int], now: datetime) -> list[_Facts]:
    """One query: stage, stored score, best-persona fit and the latest hand-raise event in
    the window. The hand-raise subquery is a backwards range scan of the (contact,
    occurred_at) index within the window that stops at the first matching type."""
    fit = ContactPersona.objects.filter(contact_id=OuterRef("pk")).values("fit")[:1]
    qs = Contact.objects.with_score().filter(id__in=ids).order_by()
    if policy.hand_raise_event_types:
        latest = Event.objects.filter(
            contact_id=OuterRef("pk"),
            occurred_at__gte=_window_start(policy, now),
            type__in=policy.hand_raise_event_types,
        ).order_by("-occurred_at")
        qs = qs.annotate(
            hand_at=Subquery(latest.values("occurred_at")[:1]),
            hand_type=Subquery(latest.values("type")[:1]),
        )
    else:
        qs = qs.annotate(hand_at=Value(None), hand_type=Value(None))
    rows = qs.annotate(fit=Subquery(fit)).values_list(
        "id", "lifecycle_stage", "score_value", "fit", "hand_at", "hand_type"
    )
    return [
        _Facts(pk, stage, score, fit or 0, hand_at, hand_type)
        for pk, stage, score, fit, hand_at, hand_type in rows
    ]


def _hand_raise_words(event_type: str, at: datetime) -> str:
    if event_type in HAND_RAISE_LABELS:
        label = str(HAND_RAISE_LABELS[event_type])
    elif event_type in EventType.values:
        label = str(EventType(event_type).label)
    else:
        label = event_type
    return f"{label} {timezone.localtime(at).date().isoformat()}"


def qualification_reason(
    policy: QualificationPolicy,
    fit: int,
    score: int | None,
    hand_raise: tuple[str, datetime] | None,
) -> str:
    """The reason in words a salesperson reads in ten seconds, e.g. "デモ申込 2026-11-20" or
    "適合度 72 (基準 60 以上) かつ エンゲージメント 45点 (基準 40 以上)" (half-width
    brackets: the stage service stores reasons NFKC-normalised)."""
    parts = []
    if hand_raise:
        parts.append(_hand_raise_words(*hand_raise))
    if score is not None:
        parts.append(
            _(
                "fit %(fit)s (at least %(min_fit)s) and engagement %(score)s points "
                "(at least %(min_score)s)"
            )
            % {
                "fit": fit,
                "min_fit": policy.fit_threshold,
                "score": score,
                "min_score": policy.engagement_threshold,
            }
        )
    if len(parts) == 2:
        return _("%(first)s; %(second)s") % {"first": parts[0], "second": parts[1]}
    return parts[0] if parts else ""


def _engaged(policy: QualificationPolicy, facts: _Facts, now_score: int) -> bool:
    if facts.fit < policy.fit_threshold or now_score < policy.engagement_threshold:
        return False
    # Not yet MQL: the stored score must reach it too, as the full evaluation's candidate
    # query (on the score index) asks; an MQL is judged by its decayed score alone.
    return facts.stage == LifecycleStage.MQL or facts.score >= policy.engagement_threshold


def _qualify_chunk(policy: QualificationPolicy, ids: list[int], now: datetime) -> QualifySummary:
    """Decide for one chunk of contacts: a fixed number of queries whatever its size."""
    facts = [f for f in _facts(policy, ids, now) if f.stage in (*QUALIFYING_STAGES, "mql")]
    summary = QualifySummary(contacts=len(ids))
    # The decayed score is read only where it can matter (fit high enough).
    scores = contacts_engagement_now(
        [f.id for f in facts if f.fit >= policy.fit_threshold], now=now
    )
    moves: dict[int, tuple[int, int]] = {}  # contact id: (fit, score) when it qualified
    reasons: dict[int, str] = {}
    below: set[int] = set()
    meeting_mqls: set[int] = set()
    with translation.override(settings.LANGUAGE_CODE):  # stored words: the site's language
        for f in facts:
            now_score = scores.get(f.id, 0)
            engaged = _engaged(policy, f, now_score)
            hand = None
            if f.hand_raise_type and f.hand_raise_at:
                hand = (f.hand_raise_type, f.hand_raise_at)
            meets = engaged or hand is not None
            if f.stage == LifecycleStage.MQL:
                (meeting_mqls if meets else below).add(f.id)
            elif meets:
                # The score then: decayed to now where it was read, else the stored one.
                fit_ok = f.fit >= policy.fit_threshold
                moves[f.id] = (f.fit, now_score if fit_ok else f.score)
                reasons[f.id] = qualification_reason(
                    policy, f.fit, now_score if engaged else None, hand
                )
    moved = contacts_change_stage_bulk(
        contact_ids=sorted(moves),
        to_stage=LifecycleStage.MQL,
        from_stages=QUALIFYING_STAGES,
        reasons=reasons,
        actor=None,
        source=SOURCE,
    )
    if moved:
        ContactQualification.objects.bulk_create(
            [
                ContactQualification(
                    contact_id=pk,
                    qualified_at=now,
                    reason=reasons[pk],
                    fit=moves[pk][0],
                    score=moves[pk][1],
                    below_policy_since=None,
                    checked_at=now,
                )
                for pk in moved
            ],
            update_conflicts=True,
            unique_fields=["contact"],
            update_fields=[
                "qualified_at",
                "reason",
                "fit",
                "score",
                "below_policy_since",
                "checked_at",
            ],
        )
    summary.qualified = len(moved)
    summary.moved_ids = list(moved)
    flagged, cleared = _flags_refresh(ids, below, meeting_mqls, now)
    summary.flagged, summary.cleared = flagged, cleared
    return summary


def _flags_refresh(
    ids: list[int], below: set[int], meeting_mqls: set[int], now: datetime
) -> tuple[int, int]:
    """Flag the MQLs below the policy (keeping the first day they were), clear the flags
    of those meeting it again and of contacts no longer at MQL. Returns (new, cleared)."""
    existing = dict(
        ContactQualification.objects.filter(contact_id__in=ids)
        .order_by()
        .values_list("contact_id", "below_policy_since")
    )
    missing = sorted(below - set(existing))
    if missing:
        ContactQualification.objects.bulk_create(
            [
                ContactQualification(contact_id=pk, below_policy_since=now, checked_at=now)
                for pk in missing
            ],
            ignore_conflicts=True,  # a concurrent step for the same contact wrote it first
        )
    to_flag = [pk for pk in below if pk in existing and existing[pk] is None]
    flagged = len(missing)
    if to_flag:
        flagged += ContactQualification.objects.filter(
            contact_id__in=to_flag, below_policy_since__isnull=True
        ).update(below_policy_since=now)
    to_clear = [pk for pk, since in existing.items() if since is not None and pk not in below]
    cleared = 0
    if to_clear:
        cleared = ContactQualification.objects.filter(contact_id__in=to_clear).update(
            below_policy_since=None, checked_at=now
        )
    checked = [pk for pk in existing if pk in below or pk in meeting_mqls]
    if checked:
        ContactQualification.objects.filter(contact_id__in=checked).update(checked_at=now)
    return flagged, cleared


def contacts_qualify(*, contact_ids: Iterable[int], now: datetime | None = None) -> QualifySummary:
    """Decide for these contacts now (the derived-data step ``qualification``). Safe to
    repeat: a contact is moved once; a flag keeps the time it was first set."""
    now = now or timezone.now()
    policy = qualification_policy()
    summary = QualifySummary()
    if not policy.active:
        return summary
    ids = sorted({int(i) for i in contact_ids})
    for start in range(0, len(ids), CHUNK):
        summary.add(_qualify_chunk(policy, ids[start : start + CHUNK], now))
    return summary


def contacts_unflag(*, contact_ids: Iterable[int]) -> int:
    """Clear the flag of these contacts if they are no longer at MQL (they left it since):
    a flag means "an MQL below the policy". Returns how many were cleared."""
    return (
        ContactQualification.objects.filter(
            contact_id__in=sorted({int(i) for i in contact_ids}), below_policy_since__isnull=False
        )
        .exclude(contact__lifecycle_stage=LifecycleStage.MQL)
        .update(below_policy_since=None)
    )


def _candidate_ids(policy: QualificationPolicy, now: datetime) -> set[int]:
    """Contacts that may move to MQL, selected in SQL: those whose stored score reaches
    the threshold (the (score, contact) index of ``ContactScore``) with a persona fit high
    enough, and those with a hand-raise event in the window."""
    waiting = Contact.objects.filter(lifecycle_stage__in=QUALIFYING_STAGES).order_by()
    scored = ContactScore.objects.filter(score__gte=policy.engagement_threshold)
    engaged = waiting.filter(id__in=scored.values("contact_id"))
    if policy.engagement_threshold <= 0:  # a contact without a score row has 0
        engaged = waiting.filter(Q(id__in=scored.values("contact_id")) | Q(score_row=None))
    if policy.fit_threshold > 0:
        fitting = ContactPersona.objects.filter(fit__gte=policy.fit_threshold)
        engaged = engaged.filter(id__in=fitting.values("contact_id"))
    ids = set(engaged.values_list("id", flat=True).iterator(chunk_size=10_000))
    if policy.hand_raise_event_types:
        # Per waiting contact, a range of the (contact, occurred_at) index over the window:
        # cheaper than scanning the window of all events (there is no index on the type).
        raised = Event.objects.filter(
            contact_id=OuterRef("pk"),
            occurred_at__gte=_window_start(policy, now),
            type__in=policy.hand_raise_event_types,
        )
        hands = waiting.filter(Exists(raised))
        ids.update(hands.values_list("id", flat=True).iterator(chunk_size=10_000))
    return ids


def qualification_evaluate_all(*, now: datetime | None = None) -> QualifySummary:
    """Decide for everyone: the candidates the SQL selects, and every MQL (its flag)."""
    now = now or timezone.now()
    policy = qualification_policy()
    summary = QualifySummary()
    if not policy.active:
        return summary
    mqls = Contact.objects.filter(lifecycle_stage=LifecycleStage.MQL).order_by()
    ids = _candidate_ids(policy, now)
    ids.update(mqls.values_list("id", flat=True).iterator(chunk_size=10_000))
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        summary.add(_qualify_chunk(policy, ordered[start : start + CHUNK], now))
    # Flags of contacts that left MQL since (accepted, rejected …) mean nothing any more.
    summary.cleared += (
        ContactQualification.objects.filter(below_policy_since__isnull=False)
        .exclude(contact__lifecycle_stage=LifecycleStage.MQL)
        .update(below_policy_since=None, checked_at=now)
    )
    # Their journey stage may follow the new lifecycle stage (the pipeline does it when
    # the move happens there).
    moved = summary.moved_ids
    transaction.on_commit(lambda: contacts_derive_enqueue(moved, PROPERTIES))
    return summary


# ---- runs ---------------------------------------------------------------------------------


def qualification_run_enqueue(*, actor: Actor, trigger: str = "") -> QualificationRun:
    """Queue a full evaluation after commit; a run still waiting in the queue is reused
    (it reads the policy and the scores when it starts)."""
    from renkei.qualification.tasks import qualify_all  # tasks import services

    with transaction.atomic():
        waiting = QualificationRun.objects.filter(status=QualificationRun.Status.QUEUED).first()
        if waiting is not None:
            return waiting
        user = actor if isinstance(actor, User) else None
        run = QualificationRun.objects.create(requested_by=user, trigger=trigger[:32])
        if user is not None:
            audit_record(
                actor=actor,
                action="qualification.run",
                object_type="qualification_run",
                object_id=run.pk,
            )
        transaction.on_commit(lambda: qualify_all.enqueue(run.pk))
    return run


def qualification_run_execute(
    *, run: QualificationRun | None = None, actor: Actor = None, trigger: str = ""
) -> QualificationRun:
    """Run a full evaluation now and record how it went (the command and the task)."""
    if run is None:
        user = actor if isinstance(actor, User) else None
        run = QualificationRun.objects.create(requested_by=user, trigger=trigger[:32])
    claimed = QualificationRun.objects.filter(
        id=run.pk, status=QualificationRun.Status.QUEUED
    ).update(status=QualificationRun.Status.RUNNING, started_at=timezone.now())
    run.refresh_from_db()
    if not claimed:
        return run  # another worker got there first, or it already ran
    began = time.perf_counter()
    try:
        summary = qualification_evaluate_all()
    except Exception as exc:
        QualificationRun.objects.filter(id=run.pk).update(
            status=QualificationRun.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    QualificationRun.objects.filter(id=run.pk).update(
        status=QualificationRun.Status.DONE,
        finished_at=timezone.now(),
        seconds=round(time.perf_counter() - began, 3),
        contacts=summary.contacts,
        qualified=summary.qualified,
        flagged=summary.flagged,
    )
    run.refresh_from_db()
    return run
