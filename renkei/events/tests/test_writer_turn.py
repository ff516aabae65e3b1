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
