"""The per-rule engagement of every contact, packed by bucket of contact ids.

Each ``EngagementBucket`` row holds the entries of ``BUCKET_CONTACTS`` consecutive contact
ids as one numpy record array: (contact, rule, events counted, points, computed_s). At
1,000,000 contacts that is about 8,000 rows to write after a full rescore, where one row
per (contact, rule) was 3,000,000. Reads take the buckets of the contacts they need.
"""

from collections.abc import Iterable, Sequence

import numpy as np
from django.db import connection

from renkei.scoring.engine import Contributions
from renkei.scoring.models import EngagementBucket

BUCKET_CONTACTS = 128
READ_CHUNK = 500  # buckets per query (well under SQLite's parameter limit)
WRITE_CHUNK = 500
ENTRY = np.dtype(
    [
        ("contact", "<i8"),
        ("rule", "<i4"),
        ("events", "<i4"),
        ("points", "<f8"),
        ("computed_s", "<f8"),
    ]
)


def _unpack(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=ENTRY)


def _entries(result: Contributions, computed_s: float, keep: np.ndarray | None) -> np.ndarray:
    """The result as entries sorted by contact (and by rule within a contact: the result
    comes rule by rule, each sorted by contact, and the sort is stable); only rows where
    ``keep``."""
    entries = np.empty(len(result.contact_ids), dtype=ENTRY)
    entries["contact"] = result.contact_ids
    entries["rule"] = result.rule_ids
    entries["events"] = result.events
    entries["points"] = result.points
    entries["computed_s"] = computed_s
    if keep is not None:
        entries = entries[keep]
    # Stable, on runs already sorted: timsort merges them instead of sorting afresh.
    return entries[np.argsort(entries["contact"], kind="stable")]


def _split(entries: np.ndarray) -> Iterable[tuple[int, bytes]]:
    """(bucket, packed entries) for each bucket the sorted entries touch."""
    if not len(entries):
        return
    buckets = entries["contact"] // BUCKET_CONTACTS
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]]).tolist()
    for start, end in zip(starts, [*starts[1:], len(entries)], strict=True):
        yield int(buckets[start]), entries[start:end].tobytes()


def entries_of(contact_ids: Iterable[int]) -> np.ndarray:
    """The entries of these contacts (one query per ``READ_CHUNK`` buckets)."""
    ids = np.unique(np.fromiter((int(i) for i in contact_ids), dtype=np.int64))
    buckets = np.unique(ids // BUCKET_CONTACTS).tolist()
    parts: list[np.ndarray] = []
    for start in range(0, len(buckets), READ_CHUNK):
        rows = EngagementBucket.objects.filter(
            bucket__in=buckets[start : start + READ_CHUNK]
        ).values_list("data", flat=True)
        parts.extend(_unpack(data) for data in rows)
    if not parts:
        return np.zeros(0, dtype=ENTRY)
    entries = np.concatenate(parts)
    return entries[np.isin(entries["contact"], ids)]


def entries_replace(contact_ids: Sequence[int], result: Contributions, computed_s: float) -> None:
    """Replace the entries of ``contact_ids`` with ``result`` (inside the caller's
    transaction). The buckets are created if missing, then locked in order, so two
    rescores touching one bucket write one after the other."""
    ids = np.unique(np.asarray(contact_ids, dtype=np.int64))
    if not len(ids):
        return
    buckets = np.unique(ids // BUCKET_CONTACTS).tolist()
    EngagementBucket.objects.bulk_create(
        [EngagementBucket(bucket=b) for b in buckets], ignore_conflicts=True, batch_size=WRITE_CHUNK
    )
    fresh = _entries(result, computed_s, np.isin(result.contact_ids, ids))
    by_bucket = dict(_split(fresh))
    changed = []
    for start in range(0, len(buckets), READ_CHUNK):
        rows = (
            EngagementBucket.objects.filter(bucket__in=buckets[start : start + READ_CHUNK])
            .order_by("bucket")
            .select_for_update()
        )
        for row in rows:
            old = _unpack(row.data)
            old = old[~np.isin(old["contact"], ids)]
            new = np.frombuffer(by_bucket.get(row.bucket, b""), dtype=ENTRY)
            merged = np.concatenate([old, new])
            merged = merged[np.lexsort((merged["rule"], merged["contact"]))]
            changed.append(EngagementBucket(bucket=row.bucket, data=merged.tobytes()))
    EngagementBucket.objects.bulk_update(changed, ["data"], batch_size=WRITE_CHUNK)


def entries_swap_all(result: Contributions, computed_s: float) -> None:
    """Replace every entry with ``result``, inside the caller's transaction: readers see
    the old set until it commits. (Entries of a contact erased meanwhile are never read:
    contact ids are not reused.)"""
    table = EngagementBucket._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Incremental writers wait for the swap instead of interleaving with it.
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    entries = _entries(result, computed_s, None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = f"COPY {table} (bucket, data) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(copy_sql) as copy:
                copy.set_types(["int8", "bytea"])
                for row in _split(entries):
                    copy.write_row(row)
        return
    rows = [EngagementBucket(bucket=b, data=data) for b, data in _split(entries)]
    EngagementBucket.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
