"""A real task worker process runs the work that recording events enqueues."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from renkei.contacts.services import contact_upsert
from renkei.events.services import EventInput, events_record

WORKER_TIMEOUT_S = 120


def database_url_of_test_db() -> str:
    """A DATABASE_URL for the database this test runs in (the test database, not the real one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def run_worker(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "RENKEI_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "DJANGO_SETTINGS_MODULE": "renkei.settings",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    return subprocess.run(
        [sys.executable, "-m", "renkei", "db_worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )


def event(index: int, email: str, occurred_at: datetime) -> EventInput:
    return EventInput(
        index=index,
        client_event_id=f"worker-test-{index}",
        type="page_view",
        occurred_at=occurred_at,
        properties={"url": f"https://example.co.jp/p/{index}"},
        email=email,
    )


@pytest.mark.django_db(transaction=True)
def test_worker_process_sets_last_activity_from_recorded_events(transactional_db: Any) -> None:
    if not isinstance(task_backends["default"], DatabaseBackend):
        pytest.skip("TASKS_BACKEND is not django_tasks_db: there is no queue for a worker")
    taro, _ = contact_upsert(email="taro@example.co.jp", actor=None, family_name="山田")
    hanako, _ = contact_upsert(email="hanako@example.co.jp", actor=None, family_name="佐藤")
    base = datetime(2025, 4, 1, 9, 30, 15, 123456, tzinfo=UTC)
    newest_taro = base + timedelta(days=3, hours=2)
    newest_hanako = base + timedelta(minutes=5)
    result = events_record(
        items=[
            event(0, "taro@example.co.jp", base),
            event(1, "taro@example.co.jp", newest_taro),
            event(2, "taro@example.co.jp", base + timedelta(days=1)),
            event(3, "hanako@example.co.jp", newest_hanako),
            event(4, "hanako@example.co.jp", base - timedelta(days=30)),
        ],
        actor=None,
    )
    assert result.accepted == 5

    # Enqueued on commit, not done inline: nothing has run yet.
    # (Creating the contacts queued their own derived data, trigger "properties".)
    queued = DBTaskResult.objects.get(
        task_path="renkei.contacts.tasks.derive_contacts", args_kwargs__args__1="events"
    )
    assert queued.status == "READY"
    taro.refresh_from_db()
    assert taro.last_activity_at is None

    worker = run_worker("--batch", "--no-startup-delay", "--interval", "0", "--no-reload")
    assert worker.returncode == 0, worker.stdout + worker.stderr

    taro.refresh_from_db()
    hanako.refresh_from_db()
    assert taro.last_activity_at == newest_taro
    assert hanako.last_activity_at == newest_hanako
    done = DBTaskResult.objects.get(pk=queued.pk)
    assert done.status == "SUCCESSFUL", done.traceback
    steps = done.return_value
    assert steps is not None and steps["last_activity"] == 2  # contacts updated
    assert done.finished_at is not None
    assert len(done.worker_ids) == 1


@pytest.mark.django_db(transaction=True)
def test_worker_with_nothing_queued_exits_cleanly_in_batch_mode(transactional_db: Any) -> None:
    worker = run_worker("--batch", "--no-startup-delay", "--interval", "0")
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert not DBTaskResult.objects.exists()
