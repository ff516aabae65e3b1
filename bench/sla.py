"""The SLA breach scan over many open clocks, and the routing of many simultaneous MQLs.

    python -m bench.sla [--clocks 1000000] [--due 1000] [--mqls 10000] [--reps 30]
                        [--database sqlite|postgres|both]
                        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each database, in a fresh one (an SQLite file in a temporary directory; a throwaway
PostgreSQL database, dropped at the end): migrate, seed the demo data set with ``--mqls``
contacts (companies with prefectures, industries and sizes), ``--reps`` sales reps with
capacities and weights, and four routing rules (a region, an industry, a company size, then
round robin); put every contact at MQL with no owner and no assignment (then VACUUM
ANALYZE on PostgreSQL, ANALYZE on SQLite). Then, in a fresh process:

- ``route_10k_s``: ``mqls_route()`` of all those MQLs at once (assignments, owners, the
  records of which rule chose whom, and the three SLA clocks of each under an approved
  agreement);
  ``route_floor_s`` is a raw ``executemany`` of as many rows into a copy of the
  assignments table (the floor);
- ``breach_scan_s``: with ``--clocks`` open clocks of which ``--due`` are past due,
  ``sla_breaches_scan()`` (mark, record, signal); ``scan_floor_s`` is the bare indexed
  SELECT of the due ids (the floor); ``idle_scan_s`` is a second scan that finds nothing.

Prints one JSON object.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import run, throwaway_database


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.step == "seed":
        _seed(args.mqls, args.reps)
        return
    if args.step == "measure":
        print(json.dumps(_measure(args.clocks, args.due)))
        return
    vendors = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report: dict[str, Any] = {
        "benchmark": "sla",
        "clocks": args.clocks,
        "due": args.due,
        "mqls": args.mqls,
        "reps": args.reps,
        "cpus": os.cpu_count(),
    }
    for vendor in vendors:
        print(f"… {vendor}", file=sys.stderr)
        report[vendor] = bench_database(vendor, args)
    if len(vendors) == 1:
        report.update(report[vendors[0]])
        report["database"] = vendors[0]
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.sla", description=__doc__)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--mqls", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "postgresql", "both"], default="sqlite"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--step", choices=["seed", "measure"], help=argparse.SUPPRESS)
    return parser


def bench_database(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    vendor = "postgresql" if vendor == "postgres" else vendor
    with throwaway_database(vendor, args.pg_url, name="renkei_bench_sla") as (url, workdir):
        env = _env(url, workdir)
        run(["-m", "renkei", "migrate", "--no-input", "-v", "0"], env)
        began = time.perf_counter()
        sizes = ["--mqls", str(args.mqls), "--reps", str(args.reps)]
        run(["-m", "bench.sla", *sizes, "--step", "seed"], env)
        seed_seconds = time.perf_counter() - began
        measure = ["--clocks", str(args.clocks), "--due", str(args.due), "--step", "measure"]
        out: dict[str, Any] = json.loads(run(["-m", "bench.sla", *measure], env))
    out["seed_s"] = round(seed_seconds, 1)
    return out


def _env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "renkei.settings",
        "SECRET_KEY": "bench-only-not-secret",
        "RENKEI_VAR_DIR": str(workdir),
        "DEBUG": "false",
        # Notifications would go to an SMTP server that is not there: keep them in memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


# ---- steps run in subprocesses with the benchmark's DATABASE_URL -------------------------


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    django.setup()


def _seed(mqls: int, reps: int) -> None:
    _django()
    from django.contrib.auth.models import User
    from django.db import connection

    from renkei.accounts.roles import SALES
    from renkei.accounts.services import user_set_role
    from renkei.contacts.models import Contact
    from renkei.demo.services import demo_seed
    from renkei.handoff.models import Assignment, RepSettings, RoutingRule
    from renkei.sla.models import SlaClock
    from renkei.sla.services import agreement_approve, agreement_create

    demo_seed(contacts=mqls, seed=1, events_per_contact=0.5, force=True)
    users = []
    for n in range(reps):
        user = User.objects.create_user(f"bench-rep-{n}", email=f"rep{n}@example.jp")
        user_set_role(user=user, role=SALES, actor=None)
        RepSettings.objects.update_or_create(
            user=user, defaults={"capacity": mqls, "weight": 1 + n % 3}
        )
        users.append(user)
    rules: list[tuple[str, dict[str, Any], list[User]]] = [
        ("関東", {"regions": ["関東"]}, users[: reps // 3]),
        ("製造業", {"industries": ["manufacturing"]}, users[reps // 3 : reps // 2]),
        ("大企業", {"employees_min": 1000}, users[reps // 2 : 2 * reps // 3]),
    ]
    for position, (name, conditions, members) in enumerate(rules):
        rule = RoutingRule.objects.create(name=name, position=position, **conditions)
        rule.reps.set(members)
    # An approved agreement, so each assignment starts its three SLA clocks.
    marketer = User.objects.get(username="marketing")
    manager = User.objects.get(username="manager")
    agreement = agreement_create(
        terms={"period": "month", "mql_commitment": mqls, "min_acceptance_rate": 50,
               "first_touch_hours": 4, "decision_hours": 8, "attempts_required": 3,
               "attempts_days": 5},
        actor=marketer,
    )  # fmt: skip
    agreement_approve(agreement=agreement, side="marketing", actor=marketer)
    agreement_approve(agreement=agreement, side="sales", actor=manager)
    # Every contact becomes an MQL at the same moment, none assigned yet (the demo data set
    # assigned owners and handed some leads over; named accounts keep their owners, the
    # rest go through the rules).
    SlaClock.objects.all().delete()
    Assignment.objects.all().delete()
    Contact.objects.update(lifecycle_stage="mql", owner=None)
    with connection.cursor() as cursor:
        # The mass UPDATE above left a dead copy of every contact row: on PostgreSQL,
        # vacuum now rather than let autovacuum start in the middle of the measurement.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _measure(clocks: int, due: int) -> dict[str, Any]:
    _django()
    from django.contrib.auth.models import User
    from django.db import connection

    from renkei.contacts.models import Contact
    from renkei.handoff.models import Assignment
    from renkei.handoff.routing import mqls_route
    from renkei.sla.bench_support import open_clocks_bulk_create
    from renkei.sla.models import SlaClock
    from renkei.sla.services import sla_breaches_scan

    ids = list(Contact.objects.filter(lifecycle_stage="mql").values_list("id", flat=True))
    began = time.perf_counter()
    routed = mqls_route(ids)
    route_s = time.perf_counter() - began
    assigned = Assignment.objects.count()
    clocks_started = SlaClock.objects.count()
    route_floor_s = _route_floor(len(ids))

    rep = User.objects.filter(username__startswith="bench-rep-").order_by("id").first()
    assert rep is not None
    began = time.perf_counter()
    open_clocks_bulk_create(count=clocks, due_now=due, contact_ids=ids[:10_000], user_id=rep.pk)
    clocks_s = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    scan_floor_s = _scan_floor()
    began = time.perf_counter()
    breaches = sla_breaches_scan()
    scan_s = time.perf_counter() - began
    began = time.perf_counter()
    again = sla_breaches_scan()
    idle_s = time.perf_counter() - began
    return {
        "route_10k_s": round(route_s, 3),
        "route_floor_s": round(route_floor_s, 3),
        "route_ratio": round(route_s / route_floor_s, 1),
        "mqls_routed": getattr(routed, "assigned", assigned),
        "assignments": assigned,
        "clocks_started": clocks_started,
        "breach_scan_s": round(scan_s, 3),
        "scan_floor_s": round(scan_floor_s, 4),
        "idle_scan_s": round(idle_s, 4),
        "breaches": breaches,
        "breaches_second_scan": again,
        "open_clocks": clocks,
        "clocks_insert_s": round(clocks_s, 1),
    }


def _route_floor(n: int) -> float:
    """A raw executemany of ``n`` assignment-shaped rows into an indexed copy of the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE floor_assign (contact_id BIGINT, user_id BIGINT, "
            "rule_name VARCHAR(100), status VARCHAR(16), assigned_at TIMESTAMP)"
        )
        cursor.execute("CREATE INDEX floor_assign_c ON floor_assign (contact_id)")
        rows = [(i, 1 + i % 30, "関東", "open", "2026-11-24 00:00:00") for i in range(n)]
        began = time.perf_counter()
        cursor.executemany(
            "INSERT INTO floor_assign VALUES (%s, %s, %s, %s, %s)",
            rows,
        )
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE floor_assign")
    return seconds


def _scan_floor() -> float:
    """The bare indexed read of the due open clocks' ids (what any scan must at least do)."""
    from django.db import connection
    from django.utils import timezone

    from renkei.sla.models import SlaClock

    table = SlaClock._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE due_at <= %s AND met_at IS NULL "
            "AND breached_at IS NULL AND closed_at IS NULL",
            [now],
        )
        cursor.fetchall()
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
