"""SQLite batch writers take turns on a lock file, so the next one starts at once."""

import os
from typing import Any

import pytest
from django.db import connection

from renkei.events import services


def _other_can_lock(path: str) -> bool:
    fcntl = pytest.importorskip("fcntl")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.mark.django_db(transaction=True)
def test_a_writer_holds_the_turn_until_it_is_done(transactional_db: Any) -> None:
    path = f"{connection.settings_dict['NAME']}-writers"
    if connection.vendor != "sqlite":
        # PostgreSQL lets writers in concurrently: no turn, no lock file.
        with services._writer_turn():
            assert not os.path.exists(path)
        return
    with services._writer_turn():
        assert not _other_can_lock(path)
    assert _other_can_lock(path)


@pytest.mark.django_db
def test_no_turn_is_taken_inside_an_outer_transaction(db: Any) -> None:
    # The outer transaction may hold SQLite's write lock already: waiting for a turn then
    # could keep the holder of the turn waiting for that lock.
    path = f"{connection.settings_dict['NAME']}-writers"
    with services._writer_turn():
        assert connection.vendor != "sqlite" or _other_can_lock(path)


@pytest.mark.django_db(transaction=True)
def test_a_committed_batch_tells_every_app_once_without_waiting_on_its_own_turn(
    transactional_db: Any,
) -> None:
    """The receivers (last activity, scoring, journey) enqueue their tasks from the
    batch's on-commit callback, which runs while the batch still holds the writers' turn:
    taking the turn again there would wait forever."""
    import threading
    from datetime import UTC, datetime

    from django_tasks_db.models import DBTaskResult

    from renkei.contacts.models import Contact

    contact = Contact.objects.create(email="turn@example.jp", email_normalized="turn@example.jp")
    item = services.EventInput(
        index=0,
        client_event_id="turn-1",
        type="page_view",
        occurred_at=datetime.now(UTC),
        properties={},
        contact_id=contact.pk,
    )
    done: list[services.IngestResult] = []

    def record() -> None:
        try:
            done.append(services.events_record(items=[item], actor=None))
        finally:
            connection.close()

    worker = threading.Thread(target=record, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "events_record did not return: the turn was taken twice"
    assert done[0].accepted == 1
    enqueued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert enqueued == ["renkei.contacts.tasks.derive_contacts"]
