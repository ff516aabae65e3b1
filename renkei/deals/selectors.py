"""Reads of the deals app: the board, the list, one deal with its history.

The board stays fast with 100,000 deals: it reads open deals only, at most
``per_column`` cards a stage (one indexed query per stage, on the partial index
``deal_open_stage_close``), and the counts and totals of every column in one GROUP BY.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, F, QuerySet, Sum

from renkei.deals.models import Deal, DealStageChange, DealStatus, Pipeline, PipelineStage

BOARD_PER_COLUMN = 50
LIST_PAGE_SIZE = 50


@dataclass
class BoardColumn:
    stage: PipelineStage
    cards: list[Deal] = field(default_factory=list)
    count: int = 0
    total: int = 0

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def pipelines_with_stages() -> list[Pipeline]:
    return list(Pipeline.objects.prefetch_related("stages"))


def _card_query() -> QuerySet[Deal]:
    return Deal.objects.select_related("company", "owner").only(
        "id",
        "name",
        "amount",
        "expected_close_date",
        "stage_id",
        "owner_id",
        "company_id",
        "status",
        "company__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )


def deal_board(
    *, pipeline: Pipeline, owner_id: int | None = None, per_column: int = BOARD_PER_COLUMN
) -> list[BoardColumn]:
    """One column per stage. Open stages carry their open deals, soonest close first
    (no date last); won and lost columns are drop targets and carry no cards."""
    stages = list(PipelineStage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    open_deals = Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN)
    if owner_id is not None:
        open_deals = open_deals.filter(owner_id=owner_id)
    totals = {
        row["stage_id"]: row
        for row in open_deals.values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }
    columns = []
    for stage in stages:
        column = BoardColumn(stage=stage)
        row = totals.get(stage.pk)
        if row:
            column.count, column.total = row["n"], row["total"] or 0
        if not stage.is_closed and column.count:
            cards = _card_query().filter(stage=stage, status=DealStatus.OPEN)
            if owner_id is not None:
                cards = cards.filter(owner_id=owner_id)
            column.cards = list(
                cards.order_by(F("expected_close_date").asc(nulls_last=True), "id")[:per_column]
            )
        columns.append(column)
    return columns


@dataclass(frozen=True)
class DealFilters:
    owner_id: int | None = None
    stage_id: int | None = None
    status: str = ""
    close_month: date | None = None  # the first day of the month


def deals_page(
    *, filters: DealFilters, before: int | None = None, limit: int = LIST_PAGE_SIZE
) -> tuple[list[Deal], int | None]:
    """A page of deals, newest first, and the cursor of the next page (keyset on id)."""
    query = Deal.objects.select_related("company", "owner", "stage", "pipeline")
    if filters.owner_id is not None:
        query = query.filter(owner_id=filters.owner_id)
    if filters.stage_id is not None:
        query = query.filter(stage_id=filters.stage_id)
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.close_month is not None:
        start = filters.close_month
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        query = query.filter(expected_close_date__gte=start, expected_close_date__lt=end)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = list(query.order_by("-id")[: limit + 1])
    next_cursor = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_cursor


def deal_detail(pk: int) -> Deal:
    return Deal.objects.select_related(
        "pipeline", "stage", "owner", "company", "source_campaign", "created_by"
    ).get(pk=pk)


def deal_contacts(deal: Deal) -> list[Any]:
    from renkei.contacts.models import Contact

    return list(
        Contact.objects.filter(deal_links__deal=deal).select_related("company").order_by("id")
    )


def deal_history(deal: Deal) -> list[DealStageChange]:
    return list(
        DealStageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage", "actor")
    )
