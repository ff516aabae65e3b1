"""The demo's sales side: two teams of reps with capacities and weights, routing rules,
a history of hand-offs with their SLA clocks and breaches, and open leads in the inboxes.

The set-up goes through the hand-off services (audited like a manager's edits). The
history cannot: those services stamp "now" and notify the reps, while the demo needs
months of past decisions. So it is read off the seeded stage history — every passage out
of MQL is the hand-off decided then (to SAL: accepted; to recycled or disqualified:
rejected with the matching reason code) — and written in bulk; the clocks' deadlines come
from the SLA app's business calendar and their outcome from the touches (calls, emails,
meetings) the rep logged. The open leads are routed by the real routing (rules, named
accounts, capacity, tallies, owners, audit), then dated back so that some are past their
SLA, and one is re-assigned by the manager through the service (its clocks restart).

Bounded whatever the data set's size: at most ``HISTORY_MAX`` passages and ``OPEN_MAX``
open leads, the most recent of this seed's contacts.
"""

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage, LifecycleTransition
from renkei.demo import vocabulary as v
from renkei.demo.people import EVENT_COLUMNS
from renkei.demo.writer import BulkWriter
from renkei.events.models import Event
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
from renkei.handoff.regions import prefectures_of
from renkei.handoff.routing import mqls_route
from renkei.handoff.services import (
    QUEUE_REASONS,
    assignment_reassign,
    rep_settings_save,
    routing_rule_save,
    team_save,
)
from renkei.sla.calendar import CalendarSpec, business_add, business_day_end
from renkei.sla.models import ClockKind, CloseReason, SlaAgreement, SlaBreach, SlaClock
from renkei.sla.selectors import agreement_active, calendar_get
from renkei.sla.services import TOUCH_TYPES, sla_clocks_start
from renkei.sla.services import Assignment as ClockStart

MQL, SAL = LifecycleStage.MQL, LifecycleStage.SAL
HISTORY_MAX = 1500
OPEN_MAX = 60  # well under the reps' capacity: new MQLs of the live demo still find a rep
FRESH_SHARE = 0.4  # open leads handed over in the last hours: still within their SLA
QUEUE_DAYS = 30  # data-quality rejections of the last month still wait in marketing's queue
SCAN_DELAY = timedelta(seconds=20)  # the breach scan runs every 30 s

# (team, manager, reps); rep: (capacity in open leads, weight in the round robin)
DEMO_TEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("東日本営業部", "manager", ("sales1", "sales2")),
    ("西日本営業部", "manager", ("sales3", "sales4")),
)
DEMO_REPS: dict[str, tuple[int, int]] = {
    "sales1": (40, 2),
    "sales2": (30, 1),
    "sales3": (40, 2),
    "sales4": (30, 1),
}
EAST = ["北海道", "東北", "関東", "中部"]
WEST = ["関西", "中国", "四国", "九州・沖縄"]
# (name, conditions, reps): tried in order; no match → round robin among every rep.
DEMO_RULES: tuple[tuple[str, dict[str, Any], tuple[str, ...]], ...] = (
    ("大手企業（従業員1,000名以上）", {"position": 10, "employees_min": 1000},
     ("sales1", "sales3")),
    ("製造業（中部）", {"position": 20, "industries": ["manufacturing"], "regions": ["中部"]},
     ("sales2",)),
    ("東日本（北海道・東北・関東・中部）", {"position": 30, "regions": EAST}, ("sales1", "sales2")),
    ("西日本（関西・中国・四国・九州・沖縄）", {"position": 40, "regions": WEST},
     ("sales3", "sales4")),
)  # fmt: skip

R = RejectReason
# The seeded reasons for leaving MQL, as a rep's reason code. The stage they lead to is
# the one the hand-off service gives the code (recycled, or disqualified).
REJECT_CODES: dict[str, str] = {
    **dict(zip(v.REASONS_RECYCLED, (R.NOT_NOW, R.NO_BUDGET, R.NOT_DECISION_MAKER, R.NOT_NOW,
                                    R.OTHER), strict=True)),
    **dict(zip(v.REASONS_DISQUALIFIED, (R.COMPETITOR, R.STUDENT_JOB_SEEKER, R.DUPLICATE,
                                        R.WRONG_DATA, R.WRONG_DATA), strict=True)),
}  # fmt: skip


@dataclass
class HandoffSummary:
    assignments: int = 0
    open: int = 0
    clocks: int = 0
    breaches: int = 0
    touches: int = 0


def demo_sales_setup_ensure() -> bool:
    """Teams, the reps' capacities and weights, and the routing rules, when the site has
    no team and no rule yet (a site's own set-up is left alone). Returns whether made."""
    names = {m for _, manager, reps in DEMO_TEAMS for m in (manager, *reps)}
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    if Team.objects.exists() or RoutingRule.objects.exists() or set(users) != names:
        return False
    for name, manager, reps in DEMO_TEAMS:
        team = team_save(actor=None, name=name, manager=users[manager])
        for rep in reps:
            capacity, weight = DEMO_REPS[rep]
            rep_settings_save(
                user=users[rep], actor=None, team=team, capacity=capacity, weight=weight
            )
    for name, conditions, reps in DEMO_RULES:
        routing_rule_save(actor=None, name=name, reps=[users[r] for r in reps], **conditions)
    return True


def demo_handoff_ensure(
    *, seed: int, first_contact_id: int, until_at: datetime, now: datetime | None = None
) -> HandoffSummary:
    """The hand-off history and open leads of the contacts from ``first_contact_id`` on;
    nothing when any of them has an assignment already (safe to run twice)."""
    summary = HandoffSummary()
    if Assignment.objects.filter(contact_id__gte=first_contact_id).exists():
        return summary
    now = now or timezone.now()
    anchor = min(now, until_at)  # the end of the seeded history
    rng = random.Random(f"renkei-demo:{seed}:{first_contact_id}:handoff")
    clocks = _Clocks.load(now)
    with transaction.atomic():  # routing's notifications go out once, after it all
        history = _history(rng, first_contact_id, anchor)
        opened = _open_leads(rng, first_contact_id, anchor, now)
        summary.touches = _touches_log(rng, history + opened, min(anchor, now))
        if clocks is not None:
            touches = _touches([a.contact_id for a in history + opened])
            for assignment in history + opened:
                clocks.add(assignment, touches[assignment.contact_id])
            summary.clocks, summary.breaches = clocks.save()
        if _reassign_one(opened) is not None:
            summary.assignments += 1
    summary.assignments += len(history) + len(opened)
    summary.open = len(opened)
    return summary


# ---- the history: one decided assignment per passage out of MQL ------------------------


def _history(rng: random.Random, first_contact_id: int, anchor: datetime) -> list[Assignment]:
    """One decided assignment per recent passage out of MQL, inserted."""
    passages = list(
        LifecycleTransition.objects.filter(
            contact_id__gte=first_contact_id,
            from_stage=MQL,
            to_stage__in=(SAL, LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED),
        )
        .exclude(contact__lifecycle_stage=MQL)  # those get an open lead instead
        .order_by("-occurred_at", "-id")
        .values_list("id", "contact_id", "to_stage", "occurred_at", "reason")[:HISTORY_MAX]
    )
    ids = {p[1] for p in passages}
    entered: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, at in LifecycleTransition.objects.filter(
        contact_id__in=ids, to_stage=MQL
    ).values_list("contact_id", "occurred_at"):
        entered[contact_id].append(at)
    contacts = _routing_facts(ids)
    rules = _Rules()
    made: list[Assignment] = []
    by_rep: dict[int, list[int]] = defaultdict(list)
    for transition_id, contact_id, to_stage, decided, reason in reversed(passages):
        facts = contacts[contact_id]
        user_id = facts["owner_id"]
        if user_id is None:
            continue
        qualified = max((t for t in entered[contact_id] if t < decided), default=decided)
        method, rule_id, rule_name = rules.method(user_id, facts)
        assignment = Assignment(
            contact_id=contact_id,
            user_id=user_id,
            method=method,
            rule_id=rule_id,
            rule_name=rule_name,
            assigned_at=_assigned_before(rng, qualified, decided),
            decided_at=decided,
        )
        if to_stage == SAL:
            assignment.status = AssignmentStatus.ACCEPTED
        else:
            default = R.OTHER if to_stage == LifecycleStage.RECYCLED else R.WRONG_DATA
            code = REJECT_CODES.get(reason, default)
            assignment.status = AssignmentStatus.REJECTED
            assignment.reason_code, assignment.reason_text = code, reason
            if code in QUEUE_REASONS:
                recent = anchor - decided <= timedelta(days=QUEUE_DAYS)
                assignment.queue_state = QueueState.PENDING if recent else QueueState.DISMISSED
        made.append(assignment)
        by_rep[user_id].append(transition_id)
    Assignment.objects.bulk_create(made, batch_size=1000)
    # The decision was the rep's, through the hand-off (the seeded rows said "marketing").
    for user_id, transition_ids in by_rep.items():
        LifecycleTransition.objects.filter(id__in=transition_ids).update(
            actor_id=user_id, source="handoff"
        )
    return made


def _assigned_before(rng: random.Random, qualified: datetime, decided: datetime) -> datetime:
    """Most reps decide within the working day; a quarter take days."""
    hours = rng.uniform(0.3, 6) if rng.random() < 0.75 else rng.uniform(10, 96)
    earliest = min(qualified + timedelta(minutes=2), decided - timedelta(minutes=1))
    return max(decided - timedelta(hours=hours), earliest)


def _routing_facts(contact_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = Contact.objects.filter(id__in=list(contact_ids)).values(
        "id",
        "owner_id",
        "prefecture",
        "company__prefecture",
        "company__industry",
        "company__employee_count",
        "company__owner_id",
    )
    return {r["id"]: dict(r) for r in rows}


class _Rules:
    """Which way a past hand-off to the contact's owner would have been routed: their
    named account, the first matching rule that has them among its reps, or the round
    robin (rules on a persona are not matched: the history has no personas)."""

    def __init__(self) -> None:
        self.rules = [
            (
                rule,
                prefectures_of(rule.regions or [], rule.prefectures or []),
                {u.pk for u in rule.reps.all()},
            )
            for rule in RoutingRule.objects.filter(is_active=True, persona=None)
            .prefetch_related("reps")
            .order_by("position", "id")
        ]

    def method(self, user_id: int, facts: dict[str, Any]) -> tuple[str, int | None, str]:
        if facts["company__owner_id"] == user_id:
            return AssignmentMethod.NAMED_ACCOUNT, None, ""
        territory = facts["prefecture"] or facts["company__prefecture"]
        employees = facts["company__employee_count"]
        for rule, prefectures, reps in self.rules:
            if (
                (not prefectures or territory in prefectures)
                and (not rule.industries or facts["company__industry"] in rule.industries)
                and (rule.employees_min is None or (employees or 0) >= rule.employees_min)
                and (rule.employees_max is None or (employees or 0) <= rule.employees_max)
                and (not reps or user_id in reps)
            ):
                return AssignmentMethod.RULE, rule.pk, rule.name
        return AssignmentMethod.ROUND_ROBIN, None, ""


# ---- open leads: routed now, dated back -------------------------------------------------


def _open_leads(
    rng: random.Random, first_contact_id: int, anchor: datetime, now: datetime
) -> list[Assignment]:
    """Route the most recent MQLs through the real routing, then date the hand-offs:
    some in the last hours (within their SLA), the others over the last two weeks."""
    ids = list(
        Contact.objects.filter(id__gte=first_contact_id, lifecycle_stage=MQL)
        .order_by("-lifecycle_stage_changed_at", "-id")
        .values_list("id", flat=True)[:OPEN_MAX]
    )
    routed = mqls_route(ids, actor=None)
    made = list(Assignment.objects.filter(pk__in=routed.assignment_ids).order_by("id"))
    qualified = dict(
        Contact.objects.filter(id__in=[a.contact_id for a in made]).values_list(
            "id", "lifecycle_stage_changed_at"
        )
    )
    latest = now - timedelta(minutes=5)
    for a in made:
        if rng.random() < FRESH_SHARE:
            a.assigned_at = now - timedelta(minutes=rng.uniform(5, 150))
            continue
        back = anchor - timedelta(hours=rng.uniform(2, 24 * 14))
        after_mql = (qualified[a.contact_id] or back) + timedelta(minutes=rng.uniform(2, 90))
        a.assigned_at = min(max(back, after_mql), latest)
    Assignment.objects.bulk_update(made, ["assigned_at"], batch_size=500)
    return made


def _reassign_one(opened: list[Assignment]) -> Assignment | None:
    """The manager hands one open lead to the rep's team-mate (the service: the old
    hand-off closes as re-assigned, the clocks restart with a record)."""
    manager = User.objects.filter(username="manager").first()
    teams = dict(RepSettings.objects.exclude(team=None).values_list("user_id", "team_id"))
    if manager is None:
        return None
    for a in opened:
        mates = [u for u, t in teams.items() if t == teams.get(a.user_id) and u != a.user_id]
        if not mates:
            continue
        to_user = User.objects.get(pk=min(mates))
        new = assignment_reassign(
            assignment=a, to_user=to_user, actor=manager, reason="担当者の負荷調整"
        )
        # Started here too (not only after commit) so the restart is in place at once.
        sla_clocks_start([ClockStart(new.contact_id, new.user_id, new.pk, new.assigned_at,
                                     a.user_id)])  # fmt: skip
        return new
    return None


# ---- the reps' touches and the SLA clocks ---------------------------------------------

TOUCH_MISSED = 0.15  # hand-offs whose first call came too late or never


def _touches_log(rng: random.Random, assignments: list[Assignment], latest: datetime) -> int:
    """The calls and emails a rep logs after a hand-off (most first touches within the
    hour, two follow-ups over the next days; a rejection ends them), as events."""
    rows: list[tuple[Any, ...]] = []
    last: dict[int, datetime] = {}
    writer = BulkWriter()
    for a in assignments:
        end = latest
        if a.status == AssignmentStatus.REJECTED and a.decided_at is not None:
            end = min(a.decided_at, latest)  # a rejection ends the calls
        first = timedelta(minutes=rng.uniform(5, 150))
        if rng.random() < TOUCH_MISSED:
            first = timedelta(hours=rng.uniform(6, 72))
        times = [a.assigned_at + first]
        for _ in range(2):
            times.append(times[-1] + timedelta(hours=rng.uniform(3, 40)))
        for k, at in enumerate(t for t in times if t <= end):
            kind = "call" if k != 1 else rng.choice(("email_sent", "call"))
            props = (
                {"outcome": rng.choice(v.CALL_OUTCOMES), "duration_s": rng.randrange(30, 900)}
                if kind == "call"
                else {"subject": rng.choice(v.SALES_EMAIL_SUBJECTS)}
            )
            stamp = writer.fmt(int(at.timestamp()))
            key = f"demo-{a.contact_id:09d}-h{int(a.assigned_at.timestamp())}-{k}"
            rows.append((key, kind, stamp, stamp, a.contact_id, None,
                         None, orjson.dumps(props).decode()))  # fmt: skip
            last[a.contact_id] = max(at, last.get(a.contact_id, at))
    writer.insert(Event, EVENT_COLUMNS, rows)
    stale = list(
        Contact.objects.filter(pk__in=list(last)).only("id", "last_activity_at").order_by("id")
    )
    for contact in stale:
        contact.last_activity_at = max(filter(None, (contact.last_activity_at, last[contact.pk])))
    Contact.objects.bulk_update(stale, ["last_activity_at"], batch_size=500)
    return len(rows)


def _touches(contact_ids: list[int]) -> dict[int, list[datetime]]:
    """Each contact's touches (calls, emails sent, meetings), in time order: one query."""
    out: dict[int, list[datetime]] = defaultdict(list)
    rows = (
        Event.objects.filter(contact_id__in=contact_ids, type__in=TOUCH_TYPES)
        .order_by("occurred_at")
        .values_list("contact_id", "occurred_at")
    )
    for contact_id, at in rows:
        out[contact_id].append(at)
    return out


class _Clocks:
    """The clocks of seeded hand-offs as the SLA app would have left them: met by the
    touches, met or closed by the decision, breached when the deadline passed first."""

    def __init__(self, agreement: SlaAgreement, spec: CalendarSpec, now: datetime) -> None:
        self.agreement, self.spec, self.now = agreement, spec, now
        self.clocks: list[SlaClock] = []

    @classmethod
    def load(cls, now: datetime) -> "_Clocks | None":
        agreement = agreement_active()
        if agreement is None:
            return None
        return cls(agreement, calendar_get().spec(), now)

    def add(self, a: Assignment, touches: list[datetime]) -> None:
        terms, start = self.agreement, a.assigned_at
        rejected = a.status == AssignmentStatus.REJECTED
        # A rejection closes the touch clocks still unmet (sla_stage_changed).
        closes = a.decided_at if rejected else None
        end = min(closes or self.now, self.now)
        seen = [t for t in touches if start <= t <= end]
        due = {
            ClockKind.FIRST_TOUCH: business_add(self.spec, start, float(terms.first_touch_hours)),
            ClockKind.ATTEMPTS: business_day_end(self.spec, start, terms.attempts_days),
            ClockKind.DECISION: business_add(self.spec, start, float(terms.decision_hours)),
        }
        for kind, due_at in due.items():
            clock = SlaClock(
                assignment_id=a.pk,
                contact_id=a.contact_id,
                user_id=a.user_id,
                agreement=terms,
                kind=kind,
                started_at=start,
                due_at=due_at,
            )
            if kind == ClockKind.DECISION:
                clock.met_at = a.decided_at
            else:
                need = 1 if kind == ClockKind.FIRST_TOUCH else terms.attempts_required
                clock.attempts_required = need
                clock.attempts_count = min(len(seen), 32767)
                clock.met_at = seen[need - 1] if len(seen) >= need else None
                if clock.met_at is None and closes is not None:
                    clock.closed_at, clock.closed_reason = closes, CloseReason.REJECTED
            ended = clock.met_at or clock.closed_at or self.now
            if due_at + SCAN_DELAY <= min(ended, self.now):  # the scan got there first
                clock.breached_at = due_at + SCAN_DELAY
            self.clocks.append(clock)

    def save(self) -> tuple[int, int]:
        """Insert the clocks and a breach for each breached one; (clocks, breaches)."""
        saved = SlaClock.objects.bulk_create(self.clocks, batch_size=1000)
        breaches = [
            SlaBreach(
                clock_id=c.pk,
                contact_id=c.contact_id,
                user_id=c.user_id,
                kind=c.kind,
                due_at=c.due_at,
                found_at=c.breached_at,
            )
            for c in saved
            if c.breached_at is not None
        ]
        SlaBreach.objects.bulk_create(breaches, batch_size=1000)
        return len(saved), len(breaches)
