"""Routing: who gets each new MQL.

Order of decision for one contact:

1. Named account — the contact's company has an owner (an active user who is not out of
   office): the owner keeps it, whatever their capacity.
2. The first active routing rule (by order) whose conditions all hold and that has a rep
   who is neither out of office nor at capacity: weighted round robin among its reps.
3. Otherwise weighted round robin among every active sales rep.
4. Nobody available: the MQL stays unassigned; ``renkei handoff_route`` tries again.

Set-based: contacts are routed in chunks of 1,000 with a fixed number of queries per
chunk (one read of the MQLs with their company and persona, one INSERT … RETURNING of the
assignments, the tallies, the owners, the audit entries); the round-robin tallies are
written once per chunk. The partial unique index on open assignments makes a second
worker's insert of the same contact a no-op (``renkei.handoff.bulk``).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from renkei.accounts.roles import SALES
from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services.common import Actor, _actor_user
from renkei.contacts.services.contacts import contacts_assign_owner_bulk
from renkei.handoff.bulk import Pick, assignments_audit, assignments_insert
from renkei.handoff.models import (
    DEFAULT_CAPACITY,
    DEFAULT_WEIGHT,
    Assignment,
    AssignmentMethod,
    AssignmentStatus,
    RepSettings,
    RoutingRule,
    RoutingTally,
)
from renkei.handoff.regions import prefectures_of
from renkei.personas.models import ContactPersona

CHUNK = 1000
ALL_REPS = 0  # the tally key of the round robin among every rep


@dataclass
class Rep:
    user_id: int
    capacity: int = DEFAULT_CAPACITY
    weight: int = DEFAULT_WEIGHT
    away: bool = False
    open: int = 0

    @property
    def available(self) -> bool:
        return not self.away and self.open < self.capacity


@dataclass
class CompiledRule:
    rule_id: int
    name: str
    prefectures: frozenset[str]
    industries: frozenset[str]
    employees_min: int | None
    employees_max: int | None
    persona_id: int | None
    rep_ids: list[int]

    def matches(self, row: dict[str, Any], persona_id: int | None) -> bool:
        if self.prefectures and row["territory"] not in self.prefectures:
            return False
        if self.industries and row["company__industry"] not in self.industries:
            return False
        employees = row["company__employee_count"]
        if self.employees_min is not None and (employees is None or employees < self.employees_min):
            return False
        if self.employees_max is not None and (employees is None or employees > self.employees_max):
            return False
        return self.persona_id is None or self.persona_id == persona_id


@dataclass
class RoutingContext:
    """Everything routing reads once per call: rules, reps, tallies."""

    rules: list[CompiledRule]
    reps: dict[int, Rep]
    sales_ids: list[int]
    tallies: dict[tuple[int, int], int]
    today: date
    tally_added: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def pick(self, rule_key: int, rep_ids: Iterable[int]) -> Rep | None:
        """Weighted round robin: the available rep furthest below their weight share."""
        best: Rep | None = None
        best_load = 0.0
        for user_id in rep_ids:
            rep = self.reps.get(user_id)
            if rep is None or not rep.available:
                continue
            load = (self.tallies.get((rule_key, user_id), 0) + 1) / max(rep.weight, 1)
            if best is None or load < best_load:
                best, best_load = rep, load
        if best is not None:
            key = (rule_key, best.user_id)
            self.tallies[key] = self.tallies.get(key, 0) + 1
            self.tally_added[key] += 1
            best.open += 1
        return best


@dataclass
class RouteResult:
    assigned: int = 0
    skipped: int = 0  # already assigned, no longer MQL, or deleted
    unassigned: list[int] = field(default_factory=list)  # nobody available
    assignment_ids: list[int] = field(default_factory=list)


def _compile_rules() -> list[CompiledRule]:
    rules = (
        RoutingRule.objects.filter(is_active=True)
        .prefetch_related("reps")
        .order_by("position", "id")
    )
    return [
        CompiledRule(
            rule_id=r.pk,
            name=r.name,
            prefectures=prefectures_of(r.regions or [], r.prefectures or []),
            industries=frozenset(r.industries or []),
            employees_min=r.employees_min,
            employees_max=r.employees_max,
            persona_id=r.persona_id,
            rep_ids=sorted(u.pk for u in r.reps.all() if u.is_active),
        )
        for r in rules
    ]


def routing_context() -> RoutingContext:
    """Rules, the reps they may choose with their settings, and the tallies (5 queries)."""
    rules = _compile_rules()
    users = get_user_model().objects.filter(is_active=True)
    sales_ids = sorted(users.filter(groups__name=SALES).values_list("pk", flat=True))
    # Named-account owners may be any active user: they are found per chunk.
    wanted = set(sales_ids) | {u for r in rules for u in r.rep_ids}
    today = timezone.localdate()
    reps = {uid: Rep(user_id=uid) for uid in wanted}
    for s in RepSettings.objects.filter(user_id__in=wanted):
        reps[s.user_id] = Rep(
            user_id=s.user_id,
            capacity=s.capacity,
            weight=s.weight,
            away=bool(s.out_of_office_until and s.out_of_office_until >= today),
        )
    tallies = {
        (t.rule_key, t.user_id): t.count
        for t in RoutingTally.objects.filter(user_id__in=wanted).only(
            "rule_key", "user_id", "count"
        )
    }
    return RoutingContext(rules=rules, reps=reps, sales_ids=sales_ids, tallies=tallies, today=today)


def _refresh_open_counts(context: RoutingContext, owner_ids: set[int]) -> None:
    """Open leads per rep, read afresh per chunk (other workers assign meanwhile)."""
    missing = owner_ids - context.reps.keys()
    if missing:
        for uid in missing:
            context.reps[uid] = Rep(user_id=uid)
        for s in RepSettings.objects.filter(user_id__in=missing):
            context.reps[s.user_id] = Rep(
                user_id=s.user_id,
                capacity=s.capacity,
                weight=s.weight,
                away=bool(s.out_of_office_until and s.out_of_office_until >= context.today),
            )
    counts = dict(
        Assignment.objects.filter(status=AssignmentStatus.OPEN, user_id__in=context.reps.keys())
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    for rep in context.reps.values():
        rep.open = counts.get(rep.user_id, 0)


def _decide(
    context: RoutingContext, row: dict[str, Any], persona_id: int | None, active_owners: set[int]
) -> tuple[int, str, CompiledRule | None] | None:
    owner = row["company__owner_id"]
    if owner and owner in active_owners and not context.reps[owner].away:
        context.reps[owner].open += 1
        return owner, AssignmentMethod.NAMED_ACCOUNT, None
    for rule in context.rules:
        if rule.matches(row, persona_id):
            rep = context.pick(rule.rule_id, rule.rep_ids or context.sales_ids)
            if rep is not None:
                return rep.user_id, AssignmentMethod.RULE, rule
    rep = context.pick(ALL_REPS, context.sales_ids)
    if rep is not None:
        return rep.user_id, AssignmentMethod.ROUND_ROBIN, None
    return None


def mqls_route(
    contact_ids: Sequence[int], *, actor: Actor = None, context: RoutingContext | None = None
) -> RouteResult:
    """Assign each MQL among ``contact_ids`` that has no open assignment to a rep.

    Safe to run twice and from two workers at once: a contact is assigned once.
    """
    context = context or routing_context()
    result = RouteResult()
    ids = sorted({int(i) for i in contact_ids})
    for start in range(0, len(ids), CHUNK):
        _route_chunk(ids[start : start + CHUNK], context, actor, result)
    return result


@transaction.atomic
def _route_chunk(
    ids: list[int], context: RoutingContext, actor: Actor, result: RouteResult
) -> None:
    # One read: the MQLs among the ids without an open assignment, with what the rules
    # look at (the best persona is one row per contact).
    open_assignment = Assignment.objects.filter(
        contact_id=OuterRef("pk"), status=AssignmentStatus.OPEN
    )
    best_persona = ContactPersona.objects.filter(contact_id=OuterRef("pk")).values(
        "version__persona_id"
    )
    rows: list[dict[str, Any]] = list(
        Contact.objects.filter(  # type: ignore[arg-type]
            id__in=ids, lifecycle_stage=LifecycleStage.MQL
        )
        .exclude(Exists(open_assignment))
        .annotate(persona_id=Subquery(best_persona))
        .values(
            "id",
            "prefecture",
            "company__prefecture",
            "company__industry",
            "company__employee_count",
            "company__owner_id",
            "persona_id",
        )
        .order_by("id")
    )
    result.skipped += len(ids) - len(rows)
    if not rows:
        return
    owners = {r["company__owner_id"] for r in rows if r["company__owner_id"]}
    active_owners = set(
        get_user_model().objects.filter(pk__in=owners, is_active=True).values_list("pk", flat=True)
    )
    _refresh_open_counts(context, active_owners)
    context.tally_added.clear()
    now = timezone.now()
    user = _actor_user(actor)
    picks: list[Pick] = []
    for row in rows:
        row["territory"] = row["prefecture"] or row["company__prefecture"]
        decided = _decide(context, row, row["persona_id"], active_owners)
        if decided is None:
            result.unassigned.append(row["id"])
            continue
        user_id, method, rule = decided
        picks.append(
            Pick(
                row["id"],
                user_id,
                method,
                rule.rule_id if rule else None,
                rule.name if rule else "",
            )
        )
    if not picks:
        return
    by = user.pk if user else None
    # A contact another worker assigned meanwhile is skipped (ON CONFLICT DO NOTHING).
    made = assignments_insert(picks, at=now, by=by)
    result.skipped += len(picks) - len(made)
    _tallies_write(context)
    contacts_assign_owner_bulk(
        owners={m.contact_id: m.user_id for m in made}, actor=actor, reason="handoff"
    )
    assignments_audit(made, at=now, by=by, label=user.get_username() if user else "system")
    result.assigned += len(made)
    result.assignment_ids += [m.id for m in made]
    announce = [(m.id, m.contact_id, m.user_id) for m in made]
    transaction.on_commit(lambda: assignments_announce(announce, now))


def _tallies_write(context: RoutingContext) -> None:
    """Add this chunk's picks to the tallies: one insert of new rows, one UPDATE."""
    added = {k: n for k, n in context.tally_added.items() if n}
    if not added:
        return
    RoutingTally.objects.bulk_create(
        [RoutingTally(rule_key=k, user_id=u, count=0) for (k, u) in added],
        ignore_conflicts=True,
    )
    match = Q()
    whens = []
    for (key, uid), n in added.items():
        match |= Q(rule_key=key, user_id=uid)
        whens.append(When(rule_key=key, user_id=uid, then=Value(n)))
    RoutingTally.objects.filter(match).update(count=F("count") + Case(*whens, default=Value(0)))


def assignments_announce(
    made: list[tuple[int, int, int]], assigned_at: datetime, previous: int | None = None
) -> None:
    """After commit: one ``leads_assigned`` for them all, and one notification task."""
    from renkei.handoff.signals import leads_assigned
    from renkei.handoff.tasks import notify_assignments

    if made:
        leads_assigned.send(
            sender=Assignment,
            assignments=[
                {
                    "contact_id": contact_id,
                    "user_id": user_id,
                    "assignment_id": assignment_id,
                    "assigned_at": assigned_at,
                    "previous_user_id": previous,
                }
                for assignment_id, contact_id, user_id in made
            ],
        )
        notify_assignments.enqueue([a for a, _c, _u in made])


def mqls_unassigned(limit: int = 10000) -> list[int]:
    """MQLs without an open assignment (none was available when they qualified)."""
    open_ids = Assignment.objects.filter(status=AssignmentStatus.OPEN).values("contact_id")
    return list(
        Contact.objects.filter(lifecycle_stage=LifecycleStage.MQL)
        .exclude(id__in=open_ids)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
