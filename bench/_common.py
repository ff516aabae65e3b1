"""Helpers shared by the benchmarks: throwaway databases, a server process, HTTP clients.

The functions that build request bodies and floor rows are pure, so they are tested
without a database (``bench/tests``).
"""

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
JST = timezone(timedelta(hours=9))
EVENT_TYPES = ("page_view", "page_view", "page_view", "email_open", "email_click", "form_submit")
PAGES = ("/", "/product/", "/pricing/", "/case/manufacturing/", "/blog/mql/", "/contact/")


# ---- request bodies ---------------------------------------------------------------------


@dataclass
class Population:
    """Who the generated events are about: contacts (id, email) and visitor cookie ids."""

    contacts: list[tuple[int, str]]
    campaign_ids: list[int]
    visitor_keys: list[str] = field(default_factory=list)


def make_events(count: int, population: Population, *, seed: int, end: datetime) -> list[dict]:  # type: ignore[type-arg]
    """``count`` events as a tracking client would send them: UUID ids, JST times over the
    last hour in arrival order, and identities mixing emails (40 %), contact ids (30 %),
    anonymous visitors (25 %) and visitors that identify with an email (5 %)."""
    rng = random.Random(seed)
    start = end - timedelta(hours=1)
    step = 3600 / max(count, 1)
    events = []
    for i in range(count):
        at = start + timedelta(seconds=i * step + rng.uniform(-30, 30))
        kind = rng.choice(EVENT_TYPES)
        event: dict[str, Any] = {
            "client_event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": kind,
            "occurred_at": at.astimezone(JST).isoformat(timespec="seconds"),
            "properties": {
                "url": "https://www.example.jp" + rng.choice(PAGES),
                "title": "製品紹介",
            },
            "identity": _identity(rng, population),
        }
        if population.campaign_ids and rng.random() < 0.1:
            event["campaign_id"] = rng.choice(population.campaign_ids)
        events.append(event)
    return events


def _identity(rng: random.Random, population: Population) -> dict[str, Any]:
    roll = rng.random()
    contact_id, email = rng.choice(population.contacts)
    if roll < 0.40:
        return {"email": email}
    if roll < 0.70:
        return {"contact_id": contact_id}
    visitor = rng.choice(population.visitor_keys) if population.visitor_keys else "v-0"
    if roll < 0.95:
        return {"visitor_id": visitor}
    return {"visitor_id": visitor, "email": email}


def batch_bodies(events: Sequence[dict], size: int) -> list[bytes]:  # type: ignore[type-arg]
    """The JSON request bodies, serialised before timing starts."""
    return [
        orjson.dumps({"events": list(events[i : i + size])}) for i in range(0, len(events), size)
    ]


def floor_rows(
    events: Sequence[dict],  # type: ignore[type-arg]
    population: Population,
    *,
    vendor: str,
    received: datetime,
) -> list[tuple[Any, ...]]:
    """The rows the server stores for ``events``, for the raw-insert floor.

    Visitors get ids in order of first appearance; times are in the form each database
    stores (SQLite: naive UTC text as Django writes it; PostgreSQL: aware datetimes).
    """
    by_email = {email: cid for cid, email in population.contacts}
    visitor_ids: dict[str, int] = {}
    rows = []
    received_value: Any = _db_time(received, vendor)
    for event in events:
        identity = event["identity"]
        contact_id = identity.get("contact_id") or by_email.get(identity.get("email", ""))
        visitor_id = None
        if "visitor_id" in identity:
            visitor_id = visitor_ids.setdefault(identity["visitor_id"], len(visitor_ids) + 1)
        occurred = datetime.fromisoformat(event["occurred_at"])
        rows.append(
            (
                event["client_event_id"],
                event["type"],
                _db_time(occurred, vendor),
                received_value,
                contact_id,
                visitor_id,
                event.get("campaign_id"),
                orjson.dumps(event["properties"]).decode(),
            )
        )
    return rows


def _db_time(value: datetime, vendor: str) -> Any:
    if vendor == "postgresql":
        return value
    return str(value.astimezone(UTC).replace(tzinfo=None))


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---- processes and the network ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(args: Sequence[str], env: dict[str, str]) -> str:
    """Run a command of this project (``python -m …``) and return its stdout."""
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's worker processes (Linux);
        a measure that other load on the machine barely disturbs."""
        total = 0.0
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            for child in children:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")
        return total


@contextmanager
def server(
    env: dict[str, str], *, app: str, workers: int, worker_class: str, threads: int, log: Path
) -> Iterator[Server]:
    """The production web server (gunicorn serving ``app``) on a free loopback port."""
    port = free_port()
    args = [
        "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
        "--error-logfile", str(log), "--log-level", "warning", "--keep-alive", "30",
    ]  # fmt: skip
    with log.open("ab") as errors:
        process = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stderr=errors)
    try:
        _wait_for(port, process, log)
        yield Server(port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


@dataclass
class SendResult:
    seconds: float
    accepted: int
    duplicate: int
    rejected: int
    latencies_ms: list[float]
    errors: list[str]


def send_batches(port: int, token: str, bodies: list[bytes], *, clients: int) -> SendResult:
    """POST every body to /api/v1/events from ``clients`` threads, each on a keep-alive
    connection (reopened if the server closes it); timed from the first request to the
    last answer."""
    result = SendResult(0.0, 0, 0, 0, [], [])
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        for body in share:
            sent = time.perf_counter()
            status, payload = _post(conn, body, headers)
            elapsed = (time.perf_counter() - sent) * 1000
            with lock:
                result.latencies_ms.append(elapsed)
                if status != 200:
                    result.errors.append(f"{status}: {payload[:300]!r}")
                    continue
                answer = json.loads(payload)
                result.accepted += answer["accepted"]
                result.duplicate += answer["duplicate"]
                result.rejected += len(answer["rejected"])
        conn.close()

    threads = [threading.Thread(target=client, args=(bodies[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def _post(
    conn: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    for attempt in range(2):
        try:
            conn.request("POST", "/api/v1/events", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.will_close:
                conn.close()  # a sync worker answers Connection: close; reconnect next time
            return response.status, payload
        except (ConnectionError, http.client.RemoteDisconnected):
            conn.close()
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


@contextmanager
def throwaway_database(vendor: str, pg_url: str, *, name: str) -> Iterator[tuple[str, Path]]:
    """A fresh database for one benchmark case and a temporary work directory: an SQLite
    file in that directory, or PostgreSQL database ``<name>_<pid>`` on the server of
    ``pg_url``, dropped at the end (also after an error). Yields (DATABASE_URL, workdir)."""
    with tempfile.TemporaryDirectory(prefix="renkei-bench-") as tmp:
        workdir = Path(tmp)
        if vendor == "sqlite":
            yield f"sqlite:///{workdir / 'bench.sqlite3'}", workdir
            return
        database = f"{name}_{os.getpid()}"
        url = urlunsplit(urlsplit(pg_url)._replace(path=f"/{database}"))
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
            admin.execute(f'CREATE DATABASE "{database}"')
        try:
            yield url, workdir
        finally:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
