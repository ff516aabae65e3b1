"""Bulk set-up for the SLA benchmark: many open clocks, fast, without business-hour
arithmetic per row (``bench/sla.py`` calls this, then ``sla_breaches_scan``)."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from renkei.sla.models import ClockKind, SlaClock


@transaction.atomic
def open_clocks_bulk_create(
    *,
    count: int,
    due_now: int,
    contact_ids: list[int],
    user_id: int,
    now: datetime | None = None,
) -> int:
    """Insert ``count`` open first-touch clocks on ``contact_ids`` (cycled) for one rep:
    ``due_now`` of them are past due at ``now``, the rest due in 30 days. One INSERT …
    SELECT over a generated series per database; returns the number inserted."""
    if not contact_ids or count < due_now:
        raise ValueError("need contacts, and count >= due_now")
    now = now or timezone.now()
    table = SlaClock._meta.db_table
    base = (
        SlaClock.objects.order_by("-assignment_id").values_list("assignment_id", flat=True).first()
        or 0
    )
    ops = connection.ops
    started = ops.adapt_datetimefield_value(now - timedelta(days=1))
    past = ops.adapt_datetimefield_value(now - timedelta(minutes=1))
    future = ops.adapt_datetimefield_value(now + timedelta(days=30))
    values = ", ".join(f"({r}, {int(pk)})" for r, pk in enumerate(contact_ids))
    n = len(contact_ids)
    with connection.cursor() as cursor:
        # Series i → contact number i mod n of the VALUES list.
        cursor.execute(
            f"""
            WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s),
            c(r, id) AS (VALUES {values})
            INSERT INTO {table} (assignment_id, contact_id, user_id, kind, started_at, due_at,
                                 attempts_required, attempts_count, closed_reason)
            SELECT %s + s.i, c.id, %s, %s, %s, CASE WHEN s.i <= %s THEN %s ELSE %s END,
                   1, 0, ''
            FROM s JOIN c ON c.r = s.i %% {n}
            """,  # noqa: S608
            [count, base, user_id, ClockKind.FIRST_TOUCH, started, due_now, past, future],
        )
    return count  # every i joins exactly one contact (SQLite reports no rowcount here)
