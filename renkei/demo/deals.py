"""The demo's deals: one per passage through SQL → opportunity in the seeded history, on
the default pipeline, with amounts in yen from the contact's budget (or the company's
size), expected close dates from the timeline, and the moves between stages.

A passage that ended at customer is a won deal; one sent back to SQL (postponed) a lost
one; one still at opportunity an open deal somewhere on the board (a few lost meanwhile
with a reason). Like the hand-off history, these past deals are derived from the stage
history and bulk-inserted with their own dates. Today's activity goes through the deals
services: the newest SQLs get their deal (``deal_create_for_sql``: they move on to
opportunity), two deals in negotiation are won (their contacts become customers) and one
is lost to a competitor — audited, with the stage changes and signals of real use.

Bounded: at most ``DEALS_MAX`` passages, the most recent of this seed's contacts.
"""

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage, LifecycleTransition
from renkei.deals.models import (
    Deal,
    DealContact,
    DealStageChange,
    DealStatus,
    LostReason,
    PipelineStage,
)
from renkei.deals.services import (
    deal_close,
    deal_create_for_sql,
    deal_update,
    pipeline_default,
)
from renkei.demo import vocabulary as v
from renkei.demo.world import JST
from renkei.demo.writer import BulkWriter

SQL, OPPORTUNITY = LifecycleStage.SQL, LifecycleStage.OPPORTUNITY
DEALS_MAX = 1500
LIVE_SQL_DEALS = 5  # at most, and a third of the SQLs: the others still wait for theirs
LIVE_WON, LIVE_LOST = 2, 1
OPEN_STAGE_WEIGHTS = (35, 30, 20, 15)  # how far open deals got, by open stage in order
OPEN_LOST_SHARE = 0.15
DAY = 86400

# Amount ranges in 万円 (10,000 yen) by the budget heard in the BANT check…
BUDGET_MAN: dict[str, tuple[int, int]] = dict(
    zip(v.BUDGETS[:4], ((30, 100), (100, 500), (500, 1000), (1000, 3000)), strict=True)
)
# …or by the company's size (employees below the bound) when the budget is 未定.
SIZE_MAN: tuple[tuple[int, tuple[int, int]], ...] = (
    (50, (50, 300)), (300, (150, 800)), (1000, (400, 1500)), (10**9, (800, 3000)),
)  # fmt: skip
TIMELINE_DAYS: dict[str, tuple[int, int]] = dict(
    zip(v.TIMELINES[:3], ((30, 90), (90, 180), (180, 365)), strict=True)
)
UNKNOWN_TIMELINE_DAYS = (45, 240)
PRODUCTS: tuple[str, ...] = (
    "連携プラットフォーム導入（スタンダード）",
    "連携プラットフォーム導入（エンタープライズ）",
    "MA・SFA連携オプション",
    "導入支援コンサルティング",
    "インサイドセールス立ち上げ支援",
)
# A deal sent back to SQL was postponed: the seeded reason → the lost reason code.
POSTPONED: dict[str, str] = dict(
    zip(v.REASONS_OPPORTUNITY_BACK, (LostReason.TIMING, LostReason.NO_DECISION), strict=True)
)
LOST: tuple[tuple[str, int, str], ...] = (
    (LostReason.PRICE, 35, "価格面で折り合わず"),
    (LostReason.COMPETITOR, 30, "競合製品を採用"),
    (LostReason.NO_DECISION, 20, "社内稟議が通らず見送り"),
    (LostReason.OTHER, 15, "プロジェクト自体が中止"),
)
DEAL_COLUMNS = (
    "id", "name", "pipeline_id", "stage_id", "status", "amount", "expected_close_date",
    "owner_id", "company_id", "source_campaign_id", "lost_reason", "close_note", "closed_at",
    "created_by_id", "created_at", "updated_at",
)  # fmt: skip
CHANGE_COLUMNS = ("deal_id", "from_stage_id", "to_stage_id", "occurred_at", "actor_id", "note")


def demo_deals_ensure(*, seed: int, first_contact_id: int, until_at: datetime) -> int:
    """The deals of the contacts from ``first_contact_id`` on; nothing when any of them
    takes part in a deal already (safe to run twice). Returns the number of deals."""
    if DealContact.objects.filter(contact_id__gte=first_contact_id).exists():
        return 0
    rng = random.Random(f"renkei-demo:{seed}:{first_contact_id}:deals")
    writer = BulkWriter()
    with transaction.atomic():
        made = _History(rng, writer, int(until_at.timestamp())).write(first_contact_id)
    writer.reset_sequences(Deal)
    return made + _today(rng, first_contact_id)


class _History:
    def __init__(self, rng: random.Random, writer: BulkWriter, anchor: int) -> None:
        self.rng, self.writer, self.anchor = rng, writer, anchor
        self.pipeline = pipeline_default()
        stages = list(PipelineStage.objects.filter(pipeline=self.pipeline).order_by("order", "id"))
        self.open_stages = [s for s in stages if not s.is_closed]
        self.won = next(s for s in stages if s.is_won)
        self.lost = next(s for s in stages if s.is_lost)
        self.deals: list[tuple[Any, ...]] = []
        self.links: list[tuple[Any, ...]] = []
        self.changes: list[tuple[Any, ...]] = []

    def write(self, first_contact_id: int) -> int:
        opened = list(
            LifecycleTransition.objects.filter(
                contact_id__gte=first_contact_id, from_stage=SQL, to_stage=OPPORTUNITY
            )
            .order_by("-occurred_at", "-id")
            .values_list("contact_id", "occurred_at")[:DEALS_MAX]
        )
        ids = {c for c, _ in opened}
        endings: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for contact_id, to_stage, at, reason in (
            LifecycleTransition.objects.filter(contact_id__in=ids, from_stage=OPPORTUNITY)
            .order_by("occurred_at")
            .values_list("contact_id", "to_stage", "occurred_at", "reason")
        ):
            endings[contact_id].append((int(at.timestamp()), to_stage, reason))
        contacts = {
            row["id"]: dict(row)
            for row in Contact.objects.filter(id__in=ids).values(
                "id", "family_name", "given_name", "owner_id", "company_id", "company__name",
                "company__employee_count", "first_campaign_id", "properties",
            )
        }  # fmt: skip
        next_id = self.writer.max_id(Deal) + 1
        for contact_id, at in reversed(opened):
            start = int(at.timestamp())
            end = next((e for e in endings[contact_id] if e[0] > start), None)
            self._deal(next_id, contacts[contact_id], start, end)
            next_id += 1
        self.writer.insert(Deal, DEAL_COLUMNS, self.deals)
        self.writer.insert(DealContact, ("deal_id", "contact_id"), self.links)
        self.writer.insert(DealStageChange, CHANGE_COLUMNS, self.changes)
        return len(self.deals)

    def _deal(
        self, deal_id: int, contact: dict[str, Any], start: int, end: tuple[int, str, str] | None
    ) -> None:
        rng = self.rng
        if end is not None and end[1] == LifecycleStage.CUSTOMER:
            closed, final, reason, note = end[0], self.won, "", ""
            reached = rng.choice((2, 3, 4, 4, 4))
        elif end is not None:  # back to SQL: postponed
            closed, final, note = end[0], self.lost, end[2]
            reason = POSTPONED.get(end[2], LostReason.TIMING)
            reached = rng.randint(1, 4)
        else:
            reached = rng.choices(range(1, 5), weights=OPEN_STAGE_WEIGHTS)[0]
            closed, final, reason, note = None, None, "", ""
            if rng.random() < OPEN_LOST_SHARE and self.anchor - start > 2 * DAY:
                closed, final = rng.randint(start + DAY, self.anchor - 1), self.lost
                reason, _, note = rng.choices(LOST, weights=[w for _, w, _ in LOST])[0]
        reached = min(reached, len(self.open_stages))
        last = closed if closed is not None else self.anchor
        times = [start, *sorted(rng.randint(start + 60, max(last - 60, start + 60))
                                for _ in range(reached - 1))]  # fmt: skip
        path = self.open_stages[:reached]
        owner = contact["owner_id"]
        fmt = self.writer.fmt
        previous = None
        for i, (stage, ts) in enumerate(zip(path, times, strict=True)):
            # The first stage is the system's (SQL → deal); the rep moves it on.
            self.changes.append((deal_id, previous, stage.pk, fmt(ts), owner if i else None, ""))
            previous = stage.pk
        if final is not None and closed is not None:
            self.changes.append((deal_id, previous, final.pk, fmt(closed), owner, note))
        properties = contact["properties"] or {}
        amount = _amount(rng, properties.get("budget"), contact["company__employee_count"])
        expected = self._expected(properties.get("timeline"), start, closed)
        status = (
            DealStatus.OPEN if final is None else
            DealStatus.WON if final.is_won else DealStatus.LOST
        )  # fmt: skip
        who = contact["company__name"] or f"{contact['family_name']} {contact['given_name']}"
        self.deals.append(
            (
                deal_id, f"{who} {rng.choice(PRODUCTS)}", self.pipeline.pk,
                (final or path[-1]).pk, status, amount, expected.isoformat(), owner,
                contact["company_id"], contact["first_campaign_id"], reason, note,
                fmt(closed) if closed is not None else None, None, fmt(start),
                fmt(closed if closed is not None else times[-1]),
            )
        )  # fmt: skip
        self.links.append((deal_id, contact["id"]))

    def _expected(self, timeline: str | None, start: int, closed: int | None) -> date:
        if closed is not None:  # what the rep expected, near the day it closed
            return _day(closed + self.rng.randint(-10, 20) * DAY)
        low, high = TIMELINE_DAYS.get(timeline or "", UNKNOWN_TIMELINE_DAYS)
        return _day(start + self.rng.randint(low, high) * DAY)


def _amount(rng: random.Random, budget: str | None, employees: int | None) -> int:
    low, high = BUDGET_MAN.get(budget or "") or next(
        r for bound, r in SIZE_MAN if (employees or 0) < bound
    )
    return rng.randint(low, high) * 10_000


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, JST).date()


def _today(rng: random.Random, first_contact_id: int) -> int:
    """Today's work through the services: deals for the newest SQLs (the rep fills in
    amount and expected close), two deals won, one lost."""
    sql = list(
        Contact.objects.filter(id__gte=first_contact_id, lifecycle_stage=SQL)
        .order_by("-lifecycle_stage_changed_at", "-id")
        .values("id", "properties", "company__employee_count")[: LIVE_SQL_DEALS * 3]
    )
    made = 0
    for contact in sql[: len(sql) // 3]:
        deal = deal_create_for_sql(contact_id=contact["id"])
        if deal is None:
            continue
        properties = contact["properties"] or {}
        low, high = TIMELINE_DAYS.get(properties.get("timeline") or "", UNKNOWN_TIMELINE_DAYS)
        deal_update(
            deal=deal,
            actor=deal.owner,
            amount=_amount(rng, properties.get("budget"), contact["company__employee_count"]),
            expected_close_date=timezone.localdate() + timedelta(days=rng.randint(low, high)),
        )
        made += 1
    open_deals = (
        Deal.objects.filter(status=DealStatus.OPEN, deal_contacts__contact_id__gte=first_contact_id)
        .select_related("owner")
        .order_by("expected_close_date", "id")
    )
    stages = [s.pk for s in pipeline_default().stages.filter(is_won=False, is_lost=False)]
    if len(stages) >= 2:
        for deal in open_deals.filter(stage_id=stages[-1])[:LIVE_WON]:
            deal_close(deal=deal, won=True, actor=deal.owner, note="本日受注（デモ）")
        for deal in open_deals.filter(stage_id=stages[-2])[:LIVE_LOST]:
            deal_close(
                deal=deal,
                won=False,
                actor=deal.owner,
                lost_reason=LostReason.COMPETITOR,
                note="競合製品に決定（価格差）",
            )
    return made
