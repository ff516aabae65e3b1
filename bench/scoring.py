"""Full engagement rescore next to a numpy floor over the same event arrays.

    python -m bench.scoring [--contacts 100000] [--events-per-contact 10]
                            [--database sqlite|postgres|both]
                            [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each database, in a fresh one (an SQLite file in a temporary directory; a throwaway
PostgreSQL database, dropped at the end): migrate, seed the demo data set
(``demo_seed(contacts=N, seed=1, events_per_contact=K, force=True)``) with its seven
engagement rules (``renkei.demo.scoring.DEMO_RULES``), then score everyone once with the
event columns built cold (as ``seed_demo`` ends), in one subprocess. Then, in a second,
fresh subprocess:

- the latency from ``POST /api/v1/events`` to the new score and MQL stage being visible
  with a real worker running (``event_to_mql_p50_ms`` / ``event_to_mql_p95_ms``);
- what a full rescore is for: one rule's points change, and 10,000 new events arrive
  through the ingestion service (``new_events_before_rescore``); then
  ``engagement_rescore_all()`` is timed (``full_rescore_s``: the production path, the
  event columns refreshed with the delta, numpy, one swap transaction) with its peak RSS
  (``peak_rss_mb``);
- the backtest preview (``snapshot_build_s``, ``backtest_s`` cold, ``backtest_warm_s``);
- a cold build of the event columns from every event (``columns_cold_build_s``: what the
  first rescore, a weekly rebuild or ``renkei rescore --cold`` costs);
- the floor: (contact id, type code, time) of the same events loaded into numpy
  (``floor_load_s``) and the same weighted, decayed sum timed with ``np.bincount``
  (``numpy_floor_s``). ``ratio`` is full_rescore_s / numpy_floor_s.

Prints one JSON object.
"""

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import run, throwaway_database
from renkei.demo.scoring import DEMO_RULES

RULES = DEMO_RULES  # demo_seed creates them


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.step == "seed":
        _seed(args.contacts, args.events_per_contact)
        return
    if args.step == "measure":
        print(json.dumps(_measure()))
        return
    vendors = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report: dict[str, Any] = {
        "benchmark": "scoring",
        "contacts": args.contacts,
        "events_per_contact": args.events_per_contact,
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
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events-per-contact", type=float, default=10.0)
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
    with throwaway_database(vendor, args.pg_url, name="renkei_bench_scoring") as (url, workdir):
        env = _env(url, workdir)
        run(["-m", "renkei", "migrate", "--no-input", "-v", "0"], env)
        began = time.perf_counter()
        step = ["-m", "bench.scoring", "--contacts", str(args.contacts)]
        run([*step, "--events-per-contact", str(args.events_per_contact), "--step", "seed"], env)
        seed_seconds = time.perf_counter() - began
        out: dict[str, Any] = json.loads(run(["-m", "bench.scoring", "--step", "measure"], env))
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
    }


# ---- steps run in subprocesses with the benchmark's DATABASE_URL -------------------------


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    django.setup()


def _seed(contacts: int, events_per_contact: float) -> None:
    _django()
    from django.db import connection

    from renkei.demo.services import demo_seed
    from renkei.scoring.services import engagement_rescore_all

    demo_seed(contacts=contacts, seed=1, events_per_contact=events_per_contact, force=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # As ``seed_demo`` ends: the event columns built from every event, every contact scored.
    engagement_rescore_all(cold=True)


def _measure() -> dict[str, Any]:
    _django()
    from django.utils import timezone

    from renkei.scoring.columns import event_columns_refresh
    from renkei.scoring.services import engagement_rescore_all

    latency = _event_to_mql()
    # What a full rescore is run for: a marketer changed a rule. And a day's traffic
    # arrived since the last one, so the event columns take in a delta first.
    new_events = _rule_changed_and_new_events()
    now = timezone.now()
    summary = engagement_rescore_all(now=now)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    backtest = _backtest(now)
    began = time.perf_counter()
    event_columns_refresh(cold=True)
    cold_s = time.perf_counter() - began
    load_s, floor_s, floor_events = _numpy_floor(int(now.timestamp()))
    return {
        **latency,
        **backtest,
        "columns_cold_build_s": round(cold_s, 1),
        "new_events_before_rescore": new_events,
        "full_rescore_s": round(summary.seconds, 3),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "numpy_floor_s": round(floor_s, 4),
        "floor_load_s": round(load_s, 3),
        "ratio": round(summary.seconds / floor_s, 1),
        "events": summary.events,
        "floor_events": floor_events,
        "contacts_scored": summary.contacts,
    }


def _rule_changed_and_new_events(count: int = 10_000) -> int:
    """One point more for a page view, and ``count`` new events for as many contacts,
    recorded through the ingestion service in batches of 1,000 (as the API does)."""
    import uuid

    from django.utils import timezone

    from renkei.contacts.models import Contact
    from renkei.events.services import EventInput, events_record
    from renkei.scoring.models import EngagementRule
    from renkei.scoring.services import engagement_rule_update

    rule = EngagementRule.objects.filter(event_type="page_view", property_key="").first()
    if rule is not None:
        engagement_rule_update(rule=rule, actor=None, points=rule.points + 1)
    ids = list(Contact.objects.order_by("?").values_list("id", flat=True)[:count])
    now = timezone.now()
    for start in range(0, len(ids), 1000):
        items = [
            EventInput(
                index=i,
                client_event_id=f"bench-{uuid.uuid4().hex}",
                type="page_view",
                occurred_at=now,
                properties={"url": "https://example.co.jp/pricing"},
                contact_id=contact_id,
            )
            for i, contact_id in enumerate(ids[start : start + 1000])
        ]
        events_record(items=items, actor=None)
    return len(ids)


def _event_to_mql(samples: int = 40) -> dict[str, Any]:
    """With a real worker process polling every 0.1 s (as ``scripts/demo`` runs it), POST a
    demo request for a lead through ``/api/v1/events`` (the whole Django stack through the
    test client, bearer token) and poll until its new score and its MQL stage are both
    visible; repeat for ``samples`` different leads. The policy is set directly (a policy
    change through the service would queue a full evaluation ahead of these tasks)."""
    import subprocess
    import uuid

    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from renkei.accounts.roles import MARKETING
    from renkei.accounts.services import api_token_create, user_set_role
    from renkei.contacts.models import Contact
    from renkei.qualification.models import QualificationPolicy
    from renkei.scoring.services import engagement_rule_create

    engagement_rule_create(actor=None, name="デモ申込", event_type="demo_request", points=50)
    QualificationPolicy.objects.update(hand_raise_event_types=["demo_request"], active=True)
    user = User.objects.create_user("bench-latency")
    user_set_role(user=user, role=MARKETING, actor=None)
    _token, secret = api_token_create(user=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    leads = list(
        (c.pk, c.score)
        for c in Contact.objects.with_score()
        .filter(lifecycle_stage="lead")
        .order_by("id")[:samples]
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "renkei", "db_worker", "--interval", "0.1",
         "--no-startup-delay", "--no-reload"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    latencies: list[float] = []
    try:
        time.sleep(2)  # the worker process starts (imports Django) before the clock runs
        for contact_id, old_score in leads:
            body = {"events": [{
                "client_event_id": f"bench-{uuid.uuid4().hex}",
                "type": "demo_request",
                "occurred_at": timezone.now().isoformat(),
                "properties": {"form": "デモ申込"},
                "identity": {"contact_id": contact_id},
            }]}  # fmt: skip
            began = time.perf_counter()
            response = client.post("/api/v1/events", body, content_type="application/json")
            assert response.status_code == 200 and response.json()["accepted"] == 1, response
            while time.perf_counter() - began < 30:
                found = Contact.objects.with_score().get(pk=contact_id)
                stage, score = found.lifecycle_stage, found.score
                if stage == "mql" and score != old_score:
                    latencies.append((time.perf_counter() - began) * 1000)
                    break
                time.sleep(0.005)
            else:
                raise RuntimeError(f"contact {contact_id} did not become MQL within 30 s")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    ordered = sorted(latencies)
    return {
        "event_to_mql_p50_ms": round(ordered[len(ordered) // 2], 1),
        "event_to_mql_p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "event_to_mql_samples": len(ordered),
    }


def _backtest(now: Any) -> dict[str, Any]:
    """Build the snapshot (as the nightly rescore does), then time two previews the way the
    rule form runs them: the first in a process that has not read the snapshot yet (it is
    memory-mapped from the page cache), the second with the current rules' vectors cached."""
    from dataclasses import replace

    from renkei.scoring import backtest
    from renkei.scoring.engine import active_rules

    began = time.perf_counter()
    snapshot = backtest.snapshot_build(now=now)
    build_s = time.perf_counter() - began
    backtest._cache.clear()
    rules = active_rules()
    policy = _Policy()

    def preview(index: int, points: int, threshold: int) -> float:
        changed = list(rules)
        changed[index] = _copy_rule(rules[index], points=points)
        result = backtest.backtest(
            rules_before=rules,
            rules_after=changed,
            policy_before=policy,
            policy_after=replace(policy, engagement_threshold=threshold),
        )
        return result.seconds

    cold = preview(1, 15, 40)
    warm = preview(3, 8, 45)
    return {
        "backtest_s": round(cold, 3),
        "backtest_warm_s": round(warm, 3),
        "snapshot_build_s": round(build_s, 1),
        "snapshot_events": snapshot.events,
    }


def _copy_rule(rule: Any, **changes: Any) -> Any:
    from renkei.scoring.models import EngagementRule
    from renkei.scoring.services import RULE_FIELDS

    return EngagementRule(**({f: getattr(rule, f) for f in RULE_FIELDS} | changes))


@dataclass(frozen=True)
class _Policy:
    fit_threshold: int = 40
    engagement_threshold: int = 50
    hand_raise_event_types: tuple[str, ...] = ("form_submit",)
    hand_raise_window_days: int = 90


def _numpy_floor(now_s: int) -> tuple[float, float, int]:
    """Load (contact, type code, time) of the scored events; time the weighted decayed sum."""
    import numpy as np
    from django.db import connection

    types = sorted({rule["event_type"] for rule in RULES})
    code = " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(types))
    epoch = (
        "CAST(FLOOR(EXTRACT(EPOCH FROM occurred_at)) AS BIGINT)"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%s', occurred_at) AS INTEGER)"
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT contact_id, CASE type {code} END, {epoch} FROM events_event "
            f"WHERE contact_id IS NOT NULL AND type IN ({', '.join(['%s'] * len(types))})",
            types,
        )
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    load_s = time.perf_counter() - began
    contact, kind, at = rows[:, 0], rows[:, 1], rows[:, 2]
    began = time.perf_counter()
    total = np.zeros(int(contact.max(initial=0)) + 1)
    for rule in RULES:
        selected = kind == types.index(rule["event_type"])
        age_days = np.maximum(now_s - at[selected], 0) / 86_400
        weights = rule["points"] * np.exp2(-age_days / rule["half_life_days"])
        total += np.bincount(contact[selected], weights=weights, minlength=len(total))
    return load_s, time.perf_counter() - began, len(rows)


if __name__ == "__main__":
    main()
