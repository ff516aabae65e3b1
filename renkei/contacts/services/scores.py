"""Writes of ``ContactScore``: the scoring app's results (the only writer besides merges).

A contact without a row has score 0, so zero scores are not stored: a full rescore writes
only the contacts that engaged.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from django.db import connection

from renkei.contacts.models import Contact, ContactScore

CHUNK = 500
SQLITE_SCORE_INDEX = "contactscore_score"


def contact_scores_set(scores: Mapping[int, int]) -> None:
    """Set these contacts' scores (0 removes the row); inside the caller's transaction."""
    zero = [pk for pk, score in scores.items() if not score]
    if zero:
        for start in range(0, len(zero), CHUNK):
            ContactScore.objects.filter(contact_id__in=zero[start : start + CHUNK]).delete()
    rows = [ContactScore(contact_id=pk, score=score) for pk, score in scores.items() if score]
    ContactScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["contact"],
        update_fields=["score"],
        batch_size=CHUNK,
    )


def contact_scores_replace_all(contact_ids: np.ndarray, scores: np.ndarray) -> None:
    """Replace every score (inside the caller's transaction, so readers see the old set
    or the new one). Contacts erased meanwhile get no row.

    PostgreSQL: the new scores are copied into a temporary table, then three set-based
    statements delete, update and insert only what differs — rewriting every row would
    check the foreign key of each at commit. SQLite: delete all rows and load the
    non-zero ones, building the score index once afterwards."""
    table = ContactScore._meta.db_table
    keep = scores != 0
    ids, values = contact_ids[keep].tolist(), scores[keep].tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _replace_all_postgresql(cursor, table, ids, values)
            return
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        # SQLite: the score index (see migration 0008) is built once, sorted, after the
        # rows are in (inside the transaction: readers keep the old rows and index until
        # the commit).
        cursor.execute(f"DROP INDEX IF EXISTS {SQLITE_SCORE_INDEX}")
        sql = f"INSERT INTO {table} (contact_id, score) VALUES (%s, %s)"  # noqa: S608
        cursor.executemany(sql, list(zip(ids, values, strict=True)))
        cursor.execute(f"CREATE INDEX {SQLITE_SCORE_INDEX} ON {table} (score, contact_id)")


def _replace_all_postgresql(cursor: Any, table: str, ids: list[int], values: list[int]) -> None:
    contacts = Contact._meta.db_table
    # Incremental writers wait for the swap instead of interleaving with it.
    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    new = f"scores_new_{uuid.uuid4().hex[:8]}"  # a name of our own: hex digits only
    cursor.execute(
        f"CREATE TEMPORARY TABLE {new} (id BIGINT PRIMARY KEY, score INTEGER) ON COMMIT DROP"
    )
    with cursor.cursor.copy(f"COPY {new} (id, score) FROM STDIN") as copy:
        for row in zip(ids, values, strict=True):
            copy.write_row(row)
    cursor.execute(f"ANALYZE {new}")  # without statistics the join plans are poor
    cursor.execute(
        f"DELETE FROM {table} s WHERE NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {new} n WHERE n.id = s.contact_id)"
    )
    cursor.execute(
        f"UPDATE {table} s SET score = n.score FROM {new} n "  # noqa: S608
        "WHERE s.contact_id = n.id AND s.score <> n.score"
    )
    cursor.execute(
        f"INSERT INTO {table} (contact_id, score) SELECT n.id, n.score FROM {new} n "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.contact_id = n.id) "
        f"AND EXISTS (SELECT 1 FROM {contacts} c WHERE c.id = n.id)"
    )
    cursor.execute(f"DROP TABLE {new}")  # at once: a caller's transaction may go on


def contact_scores_of(contact_ids: Iterable[int]) -> dict[int, int]:
    """The stored scores of these contacts (absent: 0)."""
    ids = list(contact_ids)
    found: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(
            ContactScore.objects.filter(contact_id__in=ids[start : start + CHUNK]).values_list(
                "contact_id", "score"
            )
        )
    return found
