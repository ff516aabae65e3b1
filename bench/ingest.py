"""HTTP bulk event ingestion against the production web server, next to a raw-insert floor.

    python -m bench.ingest [--events 200000] [--batch 1000] [--database sqlite|postgres|both]
                           [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each database: a fresh database (SQLite file in a temporary directory; a throwaway
PostgreSQL database, dropped at the end), migrated, a few thousand demo contacts and a
token; gunicorn serving ``renkei.wsgi`` on a free loopback port; N events in batches sent
from client threads over keep-alive connections (bodies serialised before timing); then
the floor: the same rows inserted with a raw ``executemany`` into a fresh copy of the
events table with the same indexes (SQLite: synchronous=OFF, a large cache, one
transaction per batch; PostgreSQL: ``CREATE TABLE … (LIKE events_event INCLUDING ALL)``,
``executemany`` per batch, and COPY as a second figure). Prints one JSON object.
"""

import argparse
import json
import os
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench._common import (
    Population,
    batch_bodies,
    floor_rows,
    make_events,
    percentile,
    run,
    send_batches,
    server,
    throwaway_database,
)

FLOOR_TABLE = "events_event_floor"
COLUMNS = (
    "client_event_id, type, occurred_at, received_at, contact_id, visitor_id, campaign_id, "
    "properties"
)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    vendors = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report: dict[str, Any] = {
        "benchmark": "ingest",
        "events": args.events,
        "batch": args.batch,
        "clients": args.clients,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "settings": args.settings,
        "app": args.app,
        "cpus": os.cpu_count(),
    }
    for vendor in vendors:
        print(f"… {vendor}", file=sys.stderr)
        report[vendor] = bench_database(vendor, args)
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "postgresql", "both"], default="sqlite"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where a throwaway database may be created",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", help="sync (measured fastest) or gthread")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    parser.add_argument("--contacts", type=int, default=3000, help="contacts seeded first")
    parser.add_argument("--seed", type=int, default=1)
    # To measure a candidate change before making it (e.g. a settings module that imports
    # renkei.settings and adds a PRAGMA); the defaults are what production runs.
    parser.add_argument("--settings", default="renkei.settings", help="DJANGO_SETTINGS_MODULE")
    parser.add_argument("--app", default="renkei.wsgi", help="the WSGI module gunicorn serves")
    return parser


def bench_database(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    vendor = "postgresql" if vendor == "postgres" else vendor
    with throwaway_database(vendor, args.pg_url, name="renkei_bench") as (url, workdir):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": args.settings,
            "SECRET_KEY": "bench-only-not-secret",
            "RENKEI_VAR_DIR": str(workdir),
            "DEBUG": "false",
        }
        run(["-m", "renkei", "migrate", "--no-input", "-v", "0"], env)
        setup = json.loads(run(["-m", "bench._setup", "--contacts", str(args.contacts)], env))
        population = Population(
            contacts=[(cid, email) for cid, email in setup["contacts"]],
            campaign_ids=setup["campaign_ids"],
            visitor_keys=[str(uuid.UUID(int=i + 1)) for i in range(max(args.events // 40, 10))],
        )
        events = make_events(args.events, population, seed=args.seed, end=datetime.now(UTC))
        bodies = batch_bodies(events, args.batch)
        log = workdir / "server.log"
        with server(
            env,
            app=args.app,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            log=log,
        ) as running:
            cpu_before, client_before = running.cpu_seconds(), time.process_time()
            sent = send_batches(running.port, setup["token"], bodies, clients=args.clients)
            server_cpu = running.cpu_seconds() - cpu_before
            client_cpu = time.process_time() - client_before
        stored = _count_events(vendor, url, workdir)
        rows = floor_rows(events, population, vendor=vendor, received=datetime.now(UTC))
        floor = _floor(vendor, url, workdir, rows, args.batch)
    http_rate = args.events / sent.seconds
    out: dict[str, Any] = {
        "http_events_per_s": round(http_rate),
        "raw_rows_per_s": round(floor["executemany"]),
        "ratio": round(http_rate / floor["executemany"], 3),
        "stored_events": stored,
        "stored_exactly_n": stored == args.events,
        "accepted": sent.accepted,
        "duplicate": sent.duplicate,
        "rejected": sent.rejected,
        "http_errors": len(sent.errors),
        "first_error": sent.errors[0] if sent.errors else None,
        "http_seconds": round(sent.seconds, 2),
        "requests": len(bodies),
        "request_ms_p50": round(percentile(sent.latencies_ms, 0.5), 1),
        "request_ms_p95": round(percentile(sent.latencies_ms, 0.95), 1),
        # CPU per event: the cost the server pays, whatever else the machine is doing.
        "server_cpu_us_per_event": round(server_cpu / args.events * 1e6, 1),
        "client_cpu_us_per_event": round(client_cpu / args.events * 1e6, 1),
    }
    if "copy" in floor:
        out["copy_rows_per_s"] = round(floor["copy"])
        out["ratio_vs_copy"] = round(http_rate / floor["copy"], 3)
    return out


def _count_events(vendor: str, url: str, workdir: Path) -> int:
    if vendor == "sqlite":
        with sqlite3.connect(workdir / "bench.sqlite3") as conn:
            return int(conn.execute("SELECT count(*) FROM events_event").fetchone()[0])
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM events_event").fetchone()
        return int(row[0]) if row else 0


def _floor(
    vendor: str, url: str, workdir: Path, rows: list[tuple[Any, ...]], batch: int
) -> dict[str, float]:
    """Rows per second of the raw insert(s), same rows, same table shape."""
    if vendor == "sqlite":
        return {"executemany": _sqlite_floor(workdir / "bench.sqlite3", rows, batch)}
    return _postgres_floor(url, rows, batch)


def _sqlite_floor(path: Path, rows: list[tuple[Any, ...]], batch: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MB
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'events_event' AND sql IS NOT NULL"
    ).fetchall()
    for (sql,) in ddl:  # the table, then its indexes under new names
        copy = sql.replace('"events_event"', f'"{FLOOR_TABLE}"')
        conn.execute(copy.replace('INDEX "', 'INDEX "floor_'))
    insert = f"INSERT INTO {FLOOR_TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    began = time.perf_counter()
    for start in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(insert, rows[start : start + batch])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - began
    conn.close()
    return len(rows) / seconds


def _postgres_floor(url: str, rows: list[tuple[Any, ...]], batch: int) -> dict[str, float]:
    rates = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for method, table in (("executemany", FLOOR_TABLE), ("copy", FLOOR_TABLE + "_copy")):
            conn.execute(f"CREATE TABLE {table} (LIKE events_event INCLUDING ALL)")
            began = time.perf_counter()
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                with conn.transaction(), conn.cursor() as cursor:
                    if method == "copy":
                        with cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
                            for row in chunk:
                                copy.write_row(row)
                    else:
                        cursor.executemany(
                            f"INSERT INTO {table} ({COLUMNS}) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
                            chunk,
                        )
            rates[method] = len(rows) / (time.perf_counter() - began)
    return rates


if __name__ == "__main__":
    main()
