"""Starting the SLA clocks of new assignments: the hot path of routing (10,000 MQLs routed
at once start 30,000 clocks), so it is written as a few set-based statements.

Each assignment gets a ``first_touch`` and an ``attempts`` clock, and a ``decision`` clock
while its contact is still MQL. The deadlines depend only on the moment of assignment, and
a routing chunk assigns all its leads at one moment: they are computed once per distinct
moment, never per clock.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from renkei.accounts.services import audit_record
from renkei.contacts.models import Contact, LifecycleStage
from renkei.sla.calendar import business_add, business_day_end
from renkei.sla.models import (
    CALENDAR_ID,
    BusinessCalendar,
    ClockKind,
    CloseReason,
    CompanyHoliday,
    SlaAgreement,
    SlaClock,
    SlaStatus,
)


@dataclass(frozen=True)
class Assignment:
    contact_id: int
    user_id: int
    assignment_id: int
    assigned_at: datetime
    previous_user_id: int | None = None


@dataclass(frozen=True)
class Deadlines:
    """The due times of the three clocks of an assignment made at ``started_at``."""

    started_at: datetime
    first_touch: datetime
    attempts: datetime
    decision: datetime


def sla_clocks_start(assignments: Iterable[Assignment]) -> int:
    """Start the clocks of these assignments under the active agreement (none without
    one). Open clocks of the same contacts from earlier assignments are closed first
    (closed_reason "reassigned": the record of the restart). Set-based: a fixed number of
    queries for any number of assignments; repeating an assignment adds nothing.
    Returns the number of clocks these assignments have (started now or before)."""
    items = list(assignments)
    if not items:
        return 0
    agreement = SlaAgreement.objects.filter(status=SlaStatus.APPROVED).first()
    if agreement is None:
        return 0
    contact_ids = {a.contact_id for a in items}
    in_mql = set(
        Contact.objects.filter(pk__in=contact_ids, lifecycle_stage=LifecycleStage.MQL).values_list(
            "pk", flat=True
        )
    )
    deadlines = _deadlines(agreement, {a.assigned_at for a in items})
    now = timezone.now()
    with transaction.atomic():
        closed = (
            SlaClock.objects.filter(
                contact_id__in=contact_ids, met_at__isnull=True, closed_at__isnull=True
            )
            .exclude(assignment_id__in=[a.assignment_id for a in items])
            .update(closed_at=now, closed_reason=CloseReason.REASSIGNED)
        )
        _clocks_insert(agreement, items, in_mql, deadlines)
        if closed:
            audit_record(
                actor=None,
                action="sla.clocks_restart",
                object_type="contact",
                object_id=items[0].contact_id if len(items) == 1 else None,
                changes={
                    "closed": closed,
                    "assignments": [
                        [a.contact_id, a.previous_user_id, a.user_id] for a in items[:100]
                    ],
                },
            )
    return 2 * len(items) + sum(1 for a in items if a.contact_id in in_mql)


def _deadlines(agreement: SlaAgreement, moments: set[datetime]) -> dict[datetime, Deadlines]:
    calendar = BusinessCalendar.objects.filter(pk=CALENDAR_ID).first() or BusinessCalendar()
    spec = calendar.spec(list(CompanyHoliday.objects.filter(calendar_id=CALENDAR_ID)))
    first_touch, decision = float(agreement.first_touch_hours), float(agreement.decision_hours)
    return {
        at: Deadlines(
            started_at=at,
            first_touch=business_add(spec, at, first_touch),
            attempts=business_day_end(spec, at, agreement.attempts_days),
            decision=business_add(spec, at, decision),
        )
        for at in moments
    }


COLUMNS = (
    "assignment_id, contact_id, user_id, agreement_id, kind, started_at, due_at, "
    "attempts_required, attempts_count, closed_reason"
)
SQLITE_ROWS = 1000  # clocks per statement: 10,000 parameters, under SQLite's limit

# PostgreSQL: one statement whatever the number of clocks. One array per column of the
# assignments and one per column of the distinct moments; the three kinds are a join. The
# driver quotes parameters client-side, so 30,000 clocks as rows of ten values (300,000
# parameters) cost far more than these arrays of plain integers.
PG_INSERT = """
    INSERT INTO {table} ({columns})
    SELECT x.a, x.c, x.u, %s, k.kind, m.started,
           CASE k.kind WHEN %s THEN m.first_touch WHEN %s THEN m.attempts ELSE m.decision END,
           CASE k.kind WHEN %s THEN %s ELSE 1 END, 0, ''
    FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::integer[], %s::boolean[])
         AS x(a, c, u, m, mql)
    JOIN unnest(%s::integer[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[],
                %s::timestamptz[]) AS m(m, started, first_touch, attempts, decision)
         ON m.m = x.m
    CROSS JOIN (VALUES (%s), (%s), (%s)) AS k(kind)
    WHERE x.mql OR k.kind <> %s
    ON CONFLICT (assignment_id, kind) DO NOTHING
"""


def _clocks_insert(
    agreement: SlaAgreement,
    items: list[Assignment],
    in_mql: set[int],
    deadlines: dict[datetime, Deadlines],
) -> None:
    """Insert the new clocks; a clock that exists already (the same assignment and kind)
    is left as it is. Django's bulk_create is avoided: it prepares every value of every
    model instance, seconds for a routing run."""
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            order = {at: n for n, at in enumerate(deadlines)}
            moments = list(deadlines.values())
            kinds = (ClockKind.FIRST_TOUCH, ClockKind.ATTEMPTS, ClockKind.DECISION)
            cursor.execute(
                PG_INSERT.format(table=table, columns=COLUMNS),
                [
                    agreement.pk,
                    ClockKind.FIRST_TOUCH,
                    ClockKind.ATTEMPTS,
                    ClockKind.ATTEMPTS,
                    agreement.attempts_required,
                    [a.assignment_id for a in items],
                    [a.contact_id for a in items],
                    [a.user_id for a in items],
                    [order[a.assigned_at] for a in items],
                    [a.contact_id in in_mql for a in items],
                    list(range(len(moments))),
                    [d.started_at for d in moments],
                    [d.first_touch for d in moments],
                    [d.attempts for d in moments],
                    [d.decision for d in moments],
                    *kinds,
                    ClockKind.DECISION,
                ],
            )
            return
        rows = _clock_rows(agreement, items, in_mql, deadlines)
        for start in range(0, len(rows), SQLITE_ROWS):
            chunk = rows[start : start + SQLITE_ROWS]
            marks = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, 0, '')"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({COLUMNS}) VALUES {marks} "  # noqa: S608
                "ON CONFLICT (assignment_id, kind) DO NOTHING",
                [value for row in chunk for value in row],
            )


def _clock_rows(
    agreement: SlaAgreement,
    items: list[Assignment],
    in_mql: set[int],
    deadlines: dict[datetime, Deadlines],
) -> list[tuple[Any, ...]]:
    """The clocks as rows of plain values, datetimes as the driver stores them."""
    adapt = functools.cache(connection.ops.adapt_datetimefield_value)
    rows: list[tuple[Any, ...]] = []
    for a in items:
        d = deadlines[a.assigned_at]
        common = (a.assignment_id, a.contact_id, a.user_id, agreement.pk)
        started = adapt(d.started_at)
        rows.append((*common, ClockKind.FIRST_TOUCH, started, adapt(d.first_touch), 1))
        required = agreement.attempts_required
        rows.append((*common, ClockKind.ATTEMPTS, started, adapt(d.attempts), required))
        if a.contact_id in in_mql:
            rows.append((*common, ClockKind.DECISION, started, adapt(d.decision), 1))
    return rows
