"""The breach scan: one indexed statement over open clocks, breaches recorded once,
``sla_breached`` after commit, the looping command, and the benchmark's bulk set-up."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renkei.sla.bench_support import open_clocks_bulk_create
from renkei.sla.models import ClockKind, SlaBreach, SlaClock
from renkei.sla.services import sla_breaches_scan
from renkei.sla.signals import sla_breached
from renkei.sla.tests.conftest import active_sla, assign, contact, jst

pytestmark = pytest.mark.django_db


@pytest.fixture
def received() -> Any:
    got: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        got.append(kwargs)

    sla_breached.connect(listener, dispatch_uid="test-sla-breached")
    yield got
    sla_breached.disconnect(dispatch_uid="test-sla-breached")


def test_past_due_clocks_are_breached_once_and_announced_after_commit(
    marketer: User, manager: User, sales_rep: User, received: Any, on_commit: Any
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    # Monday 10:30: only first touch (due 10:00) is past due.
    with on_commit() as callbacks:
        assert sla_breaches_scan(jst(2026, 3, 9, 10, 30)) == 1
        assert received == []  # nothing before commit
    assert len(callbacks) == 1
    breach = SlaBreach.objects.get()
    clock = SlaClock.objects.get(kind=ClockKind.FIRST_TOUCH)
    assert clock.breached_at == jst(2026, 3, 9, 10, 30) and breach.clock_id == clock.pk
    assert received == [
        {
            "signal": sla_breached,
            "breach_id": breach.pk,
            "clock_id": clock.pk,
            "contact_id": lead.pk,
            "user_id": sales_rep.pk,
            "kind": "first_touch",
            "due_at": jst(2026, 3, 9, 10, 0),
        }
    ]
    with on_commit():
        assert sla_breaches_scan(jst(2026, 3, 9, 10, 31)) == 0
    assert len(received) == 1
    with on_commit():  # Monday evening: the decision (17:00) too
        assert sla_breaches_scan(jst(2026, 3, 9, 17, 1)) == 1
    assert received[-1]["kind"] == "decision"


def test_met_and_closed_clocks_are_not_breached(
    marketer: User, manager: User, sales_rep: User, sales_rep2: User
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, jst(2026, 3, 6, 17, 0))
    SlaClock.objects.filter(kind=ClockKind.FIRST_TOUCH).update(met_at=jst(2026, 3, 9, 9))
    assign(lead, sales_rep2, 2, jst(2026, 3, 16, 9, 0), previous=sales_rep)
    assert sla_breaches_scan(jst(2026, 3, 13, 0, 0)) == 0
    assert sla_breaches_scan(jst(2026, 3, 16, 11, 1)) == 1
    assert SlaBreach.objects.get().user_id == sales_rep2.pk


def test_the_scan_reads_and_writes_only_newly_breached_clocks(
    sales_rep: User, on_commit: Any
) -> None:
    leads = [contact(n) for n in range(10)]
    now = timezone.now()
    assert (
        open_clocks_bulk_create(
            count=5000, due_now=7, contact_ids=[c.pk for c in leads], user_id=sales_rep.pk, now=now
        )
        == 5000
    )
    assert SlaClock.objects.filter(due_at__lte=now).count() == 7
    assert {c.contact_id for c in SlaClock.objects.all()} == {c.pk for c in leads}
    with CaptureQueriesContext(connection) as queries:
        assert sla_breaches_scan(now, batch=5) == 7  # two batches
    statements = [q["sql"] for q in queries.captured_queries if "sla_" in q["sql"]]
    assert sum(s.startswith("UPDATE") for s in statements) == 2
    assert SlaBreach.objects.count() == 7
    # A second set-up continues the assignment ids.
    open_clocks_bulk_create(count=10, due_now=0, contact_ids=[leads[0].pk], user_id=sales_rep.pk)
    assert SlaClock.objects.count() == 5010


def test_the_scan_uses_the_partial_index(sales_rep: User) -> None:
    lead = contact(1)
    open_clocks_bulk_create(count=100, due_now=1, contact_ids=[lead.pk], user_id=sales_rep.pk)
    table = SlaClock._meta.db_table
    sql = (
        f"SELECT id FROM {table} WHERE due_at <= %s AND met_at IS NULL AND breached_at IS NULL"  # noqa: S608
        " AND closed_at IS NULL ORDER BY due_at LIMIT 10"
    )
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, [at])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, [at])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "sla_clock_open_due" in plan


def test_the_command_scans_once_or_in_a_loop(
    marketer: User, manager: User, sales_rep: User, capsys: Any
) -> None:
    active_sla(marketer, manager)
    lead = contact(1)
    assign(lead, sales_rep, 1, timezone.now() - timedelta(days=30))
    call_command("sla_scan")
    assert "3 breaches recorded" in capsys.readouterr().out
    call_command("sla_scan", every=1, times=2)
    assert SlaBreach.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_record_each_breach_once(sales_rep: User) -> None:
    import threading

    from django.db import connections

    lead = contact(1)
    now = timezone.now()
    open_clocks_bulk_create(
        count=3000, due_now=2000, contact_ids=[lead.pk], user_id=sales_rep.pk, now=now
    )
    found: list[int] = []
    barrier = threading.Barrier(2)

    def scan() -> None:
        try:
            barrier.wait()
            found.append(sla_breaches_scan(now, batch=100))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(found) == 2000
    assert SlaBreach.objects.count() == 2000
    assert SlaClock.objects.filter(breached_at__isnull=False).count() == 2000
