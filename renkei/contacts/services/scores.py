"""Writes of ``ContactScore``: the scoring app's results (the only writer besides merges).

A contact without a row has score 0, so zero scores are not stored: a full rescore writes
only the contacts that engaged.
"""

from collections.abc import Iterable, Mapping

import numpy as np
from django.db import connection, models

from renkei.contacts.models import ContactScore

CHUNK = 500


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
    or the new one): delete all rows, load the non-zero ones (COPY on PostgreSQL)."""
    table = ContactScore._meta.db_table
    keep = scores != 0
    ids, values = contact_ids[keep].tolist(), scores[keep].tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Incremental writers wait for the swap instead of interleaving with it.
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} (contact_id, score) FROM STDIN") as copy:
                for row in zip(ids, values, strict=True):
                    copy.write_row(row)
            return
        # SQLite: the score index is built once, sorted, after the rows are in (inside
        # the transaction: readers keep the old rows and index until the commit).
        # (Plain statements: a schema editor cannot be entered inside a transaction.)
        quote = connection.ops.quote_name
        for index in ContactScore._meta.indexes:
            cursor.execute(f"DROP INDEX {quote(str(index.name))}")
        sql = f"INSERT INTO {table} (contact_id, score) VALUES (%s, %s)"  # noqa: S608
        cursor.executemany(sql, list(zip(ids, values, strict=True)))
        for index in ContactScore._meta.indexes:
            fields = [ContactScore._meta.get_field(name) for name in index.fields]
            columns = ", ".join(quote(f.column) for f in fields if isinstance(f, models.Field))
            cursor.execute(f"CREATE INDEX {quote(str(index.name))} ON {quote(table)} ({columns})")


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
