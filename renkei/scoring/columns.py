"""Every event as columns on disk, kept current by deltas.

Reading 10,000,000 events through the database driver takes most of a minute; the same
events as a handful of numpy columns take a fraction of a second. The full rescore and the
backtest therefore read these columns:

- ``contact_ids``: every contact id, ascending, when the columns were last refreshed;
- ``ev_contact`` (index into ``contact_ids``), ``ev_at`` (epoch seconds), ``ev_type``
  (index into ``types``), ``ev_id``; events sorted by (contact, time, id);
- for each kept property key, the value of each event, dictionary-coded (-1: absent).

A *cold build* streams every event by contact-id range. A *refresh* reads only what
changed since the last one and merges it in:

- events received since ``MARGIN`` before the last refresh (read again and replaced:
  a transaction can commit a while after it stamped its events; ids would not do, as
  PostgreSQL hands them out before commit and SQLite reuses the highest after a delete);
- every event of the contacts whose events changed owner: merge winners (from the audit
  log) and contacts that anonymous visitors were stitched to;
- contacts deleted since drop out with their events.

A refresh older than ``COLD_EVERY`` turns into a cold build, so whatever a refresh could
miss does not outlive a week. A rule on a property the columns do not keep also forces a
cold build (with that property).

Each version is a directory under ``RENKEI_BACKTEST_DIR/events``, switched to atomically
through the ``current`` file; readers memory-map the version they opened.
"""

import fcntl
import json
import operator
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Contact
from renkei.events.models import Event, Visitor
from renkei.scoring.models import EngagementRule, Operator

DEFAULT_KEYS = ("url", "title", "form", "utm_campaign")
COLD_EVERY = timedelta(days=7)
MARGIN = timedelta(minutes=5)  # owner changes are looked for this far before the last refresh
BUILD_RANGE = 20_000  # contact ids per streamed range of a cold build
DIRTY_CHUNK = 500  # contacts per query when re-reading whole contacts
AT_BITS = 34  # epoch seconds 0 … 2**34 (year 2514) in the merge key; contact index above
EVENT_FILES = ("contact_ids", "ev_contact", "ev_id", "ev_at", "ev_type")


class ColumnsMissing(Exception):
    """No event columns have been built yet."""


class PropertyMissing(Exception):
    """A rule matches on a property the columns do not keep; a build with it is needed."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class RuleLike(Protocol):
    event_type: str
    property_key: str
    operator: str
    property_value: str


@dataclass
class EventColumns:
    id: str
    built_at: datetime  # the last cold build
    refreshed_at: datetime
    contact_ids: np.ndarray
    ev_contact: np.ndarray
    ev_id: np.ndarray
    ev_at: np.ndarray
    ev_type: np.ndarray
    types: list[str]
    keys: list[str]
    directory: Path
    _values: dict[str, list[str]] = field(default_factory=dict)

    @property
    def contacts(self) -> int:
        return len(self.contact_ids)

    @property
    def events(self) -> int:
        return len(self.ev_at)

    def type_code(self, event_type: str) -> int | None:
        try:
            return self.types.index(event_type)
        except ValueError:
            return None

    def property_codes(self, key: str) -> tuple[np.ndarray, list[str]]:
        """(per-event value codes, -1 where absent; the distinct values)."""
        if key not in self.keys:
            raise PropertyMissing(key)
        slot = self.keys.index(key)
        if key not in self._values:
            self._values[key] = json.loads((self.directory / f"values_{slot}.json").read_text())
        codes = np.load(self.directory / f"prop_{slot}.npy", mmap_mode="r")
        return codes, self._values[key]

    def rule_events(self, rule: RuleLike) -> np.ndarray:
        """Positions of the events ``rule`` counts, ascending (so in contact, time order)."""
        code = self.type_code(rule.event_type)
        if code is None:
            return np.zeros(0, dtype=np.int64)
        idx = np.flatnonzero(self.ev_type == code)
        if rule.property_key:
            codes, distinct = self.property_codes(rule.property_key)
            value = rule.property_value
            if rule.operator == Operator.EQUALS:
                hits = np.fromiter((v == value for v in distinct), dtype=bool, count=len(distinct))
            else:
                hits = np.fromiter((value in v for v in distinct), dtype=bool, count=len(distinct))
            chosen = np.asarray(codes[idx])
            # Code -1 (no such property) looks up the appended False.
            idx = idx[np.append(hits, False)[chosen]]
        return idx


def columns_root() -> Path:
    return Path(settings.RENKEI_BACKTEST_DIR) / "events"


_lock = threading.Lock()
_loaded: dict[str, EventColumns] = {}


def event_columns_load(directory: Path | None = None) -> EventColumns:
    """The current columns (or those in ``directory``), memory-mapped; cached per process."""
    if directory is None:
        try:
            current = (columns_root() / "current").read_text().strip()
        except FileNotFoundError:
            raise ColumnsMissing from None
        directory = columns_root() / current
    key = str(directory)
    with _lock:
        cached = _loaded.get(key)
        if cached is not None:
            return cached
        try:
            meta = json.loads((directory / "meta.json").read_text())
        except FileNotFoundError:
            raise ColumnsMissing from None
        columns = EventColumns(
            id=meta["id"],
            built_at=datetime.fromisoformat(meta["built_at"]),
            refreshed_at=datetime.fromisoformat(meta["refreshed_at"]),
            types=meta["types"],
            keys=meta["keys"],
            directory=directory,
            **{name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in EVENT_FILES},
        )
        _loaded.clear()  # one version at a time per process
        _loaded[key] = columns
        return columns


def keys_wanted(extra: Iterable[str] = (), kept: Iterable[str] = ()) -> list[str]:
    """The defaults, every rule's property, whatever earlier builds kept, and ``extra``."""
    used = EngagementRule.objects.exclude(property_key="").values_list("property_key", flat=True)
    return sorted(set(DEFAULT_KEYS) | set(used) | set(kept) | set(extra))


def event_columns_refresh(*, extra_keys: Iterable[str] = (), cold: bool = False) -> EventColumns:
    """Bring the columns up to date (a refresh, or a cold build when there are none, they
    are older than ``COLD_EVERY``, a wanted property is missing, or ``cold``). Times are
    the wall clock's: they are compared with the events' ``received_at``."""
    root = columns_root()
    root.mkdir(parents=True, exist_ok=True)
    # One refresh at a time (a rescore and a snapshot build may overlap): each starts
    # from the version the one before it saved, and none removes another's new version.
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = timezone.now()
        try:
            previous: EventColumns | None = event_columns_load()
        except ColumnsMissing:
            previous = None
        keys = keys_wanted(extra_keys, previous.keys if previous else ())
        if (
            cold
            or previous is None
            or set(keys) - set(previous.keys)
            or now - previous.built_at > COLD_EVERY
        ):
            return _cold_build(now, keys)
        return _refresh(previous, now)


# ---- reading events through SQL -----------------------------------------------------------


@dataclass
class _Rows:
    """Events read through SQL, with types and property values coded."""

    contact_id: np.ndarray
    id: np.ndarray
    at: np.ndarray
    type: np.ndarray
    props: list[np.ndarray]

    @classmethod
    def concat(cls, parts: Sequence["_Rows"], keys: int) -> "_Rows":
        def join(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        return cls(
            join([p.contact_id for p in parts], np.int64),
            join([p.id for p in parts], np.int64),
            join([p.at for p in parts], np.int64),
            join([p.type for p in parts], np.int16),
            [join([p.props[k] for p in parts], np.int32) for k in range(keys)],
        )

    def take(self, positions: np.ndarray) -> "_Rows":
        return _Rows(
            self.contact_id[positions],
            self.id[positions],
            self.at[positions],
            self.type[positions],
            [p[positions] for p in self.props],
        )


class _Reader:
    """One SELECT shape over the events table, coding values into shared dictionaries."""

    def __init__(self, keys: Sequence[str], types: list[str], values: list[list[str]]) -> None:
        self.keys = list(keys)
        self.types = {t: i for i, t in enumerate(types)}
        self.values = [{v: i for i, v in enumerate(distinct)} for distinct in values]
        params: list[Any] = []
        value_sql = [_value_sql(key, params) for key in self.keys]
        if connection.vendor == "postgresql":
            epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM occurred_at)) AS BIGINT)"
        else:
            epoch = "CAST(strftime('%%s', occurred_at) AS INTEGER)"
        self.head = (
            f"SELECT contact_id, id, {epoch}, type{''.join(', ' + v for v in value_sql)} "  # noqa: S608
            f"FROM {Event._meta.db_table} WHERE "
        )
        self.params = params

    def read(self, where: str, params: Sequence[Any]) -> _Rows:
        with connection.cursor() as cursor:
            cursor.execute(self.head + where, [*self.params, *params])
            rows = cursor.fetchall()
        if not rows:
            return _Rows.concat([], len(self.keys))
        columns = list(zip(*rows, strict=True))
        types = self.types
        return _Rows(
            np.array(columns[0], dtype=np.int64),
            np.array(columns[1], dtype=np.int64),
            np.array(columns[2], dtype=np.int64),
            np.array([types.setdefault(t, len(types)) for t in columns[3]], dtype=np.int16),
            [
                np.array(
                    [-1 if v is None else coded.setdefault(v, len(coded)) for v in columns[4 + k]],
                    dtype=np.int32,
                )
                for k, coded in enumerate(self.values)
            ],
        )

    def type_list(self) -> list[str]:
        return list(self.types)

    def value_lists(self) -> list[list[str]]:
        return [list(coded) for coded in self.values]


def _value_sql(key: str, params: list[Any]) -> str:
    """The property as text, the way ``engine`` compares it in SQL."""
    if connection.vendor == "postgresql":
        params.append(key)
        return "(properties ->> %s)"
    params.append(f'$."{key}"')
    return "CAST(json_extract(properties, %s) AS TEXT)"


def _scalar(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        value = cursor.fetchone()[0]
    return int(value or 0)


def contact_ids_now(previous: np.ndarray | None = None) -> np.ndarray:
    """Every contact id, ascending: one text value parsed by numpy, not a million rows
    through the driver.

    On SQLite, with the ids of the last refresh: if none of them has gone (a count of the
    ids up to the highest), only the newer ids are read. (SQLite's ids only grow, and it
    has one writer at a time, so no lower id can appear later. PostgreSQL hands ids out
    before commit: there every id is read.)"""
    table = Contact._meta.db_table
    if connection.vendor == "sqlite" and previous is not None and len(previous):
        top = int(previous[-1])
        sql = f"SELECT COUNT(*) FROM {table} WHERE id <= %s"  # noqa: S608
        if _scalar(sql, [top]) == len(previous):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [top])  # noqa: S608
                newer = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
            return np.concatenate([np.asarray(previous), newer])
    if connection.vendor == "postgresql":
        sql = f"SELECT string_agg(id::text, ',' ORDER BY id) FROM {table}"  # noqa: S608
    else:
        sql = f"SELECT group_concat(id) FROM (SELECT id FROM {table} ORDER BY id)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        text = cursor.fetchone()[0]
    if not text:
        return np.zeros(0, dtype=np.int64)
    ids = np.fromstring(text, dtype=np.int64, sep=",")
    return ids if np.all(ids[1:] > ids[:-1]) else np.unique(ids)


def _owners_changed_since(since: datetime) -> list[int]:
    """Contacts that events were moved to since ``since``: merge winners and contacts that
    anonymous visitors were stitched to."""
    merged = AuditEntry.objects.filter(
        action="contact.merge", object_type="contact", created_at__gte=since
    ).values_list("object_id", flat=True)
    stitched = Visitor.objects.filter(
        identified_at__gte=since, contact_id__isnull=False
    ).values_list("contact_id", flat=True)
    return sorted({int(i) for i in merged if i is not None} | {int(i) for i in stitched})


# ---- building and refreshing --------------------------------------------------------------


def _cold_build(now: datetime, keys: list[str]) -> EventColumns:
    """Every event, streamed by contact-id range."""
    last_contact = _scalar(f"SELECT MAX(id) FROM {Contact._meta.db_table}")  # noqa: S608
    reader = _Reader(keys, [], [[] for _ in keys])
    parts = [
        reader.read(
            "contact_id > %s AND contact_id <= %s ORDER BY contact_id, occurred_at, id",
            [low, low + BUILD_RANGE],
        )
        for low in range(0, last_contact, BUILD_RANGE)
    ] or [_Rows.concat([], len(keys))]
    contact_ids = contact_ids_now()  # after the events: every contact they name is in it
    index, known = _index_of(contact_ids, np.concatenate([p.contact_id for p in parts]))
    keep = np.flatnonzero(known)
    whole = len(keep) == len(known)

    def joined(get: Callable[[Any], np.ndarray], props: bool = False) -> Callable[[], np.ndarray]:
        def build() -> np.ndarray:  # one column at a time: the memory of one, not all
            column = np.concatenate([get(p.props if props else p) for p in parts])
            return column if whole else column[keep]

        return build

    files: dict[str, Column] = {
        "contact_ids": contact_ids,
        "ev_contact": (index if whole else index[keep]).astype(np.int32),
        "ev_id": joined(lambda p: p.id),
        "ev_at": joined(lambda p: p.at),
        "ev_type": joined(lambda p: p.type),
        **{f"prop_{k}": joined(operator.itemgetter(k), props=True) for k in range(len(keys))},
    }
    meta = {"built_at": now.isoformat(), "refreshed_at": now.isoformat()}
    return _save(meta, files, reader.type_list(), keys, reader.value_lists())


def _index_of(contact_ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of each wanted id in ``contact_ids``, whether it is there)."""
    index = np.searchsorted(contact_ids, wanted)
    inside = index < len(contact_ids)
    known = np.zeros(len(wanted), dtype=bool)
    known[inside] = contact_ids[index[inside]] == wanted[inside]
    return index, known


def _refresh(previous: EventColumns, now: datetime) -> EventColumns:
    keys = previous.keys
    values = [previous.property_codes(key)[1] for key in keys]
    reader = _Reader(keys, list(previous.types), values)
    since = previous.refreshed_at - MARGIN
    dirty = np.array(_owners_changed_since(since), dtype=np.int64)
    stamp = connection.ops.adapt_datetimefield_value(since)
    new = reader.read("received_at >= %s AND contact_id IS NOT NULL", [stamp])
    new = new.take(np.flatnonzero(~np.isin(new.contact_id, dirty)))
    reread = [
        reader.read(f"contact_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
        for chunk in (
            dirty[i : i + DIRTY_CHUNK].tolist() for i in range(0, len(dirty), DIRTY_CHUNK)
        )
    ]
    delta = _Rows.concat([new, *reread], len(keys))
    # After the events: every contact they name is in it.
    contact_ids = contact_ids_now(np.asarray(previous.contact_ids))

    # The previous rows that stay: contact still there, not re-read, not read again.
    old_index = np.asarray(previous.ev_contact)
    moved, still_there = _index_of(contact_ids, np.asarray(previous.contact_ids))
    remap = np.where(still_there, moved, -1)
    base_contact = remap[old_index]
    keep = base_contact >= 0
    if len(dirty):
        keep &= ~np.isin(np.asarray(previous.contact_ids)[old_index], dirty)
    ev_id = np.asarray(previous.ev_id)
    if len(delta.id):
        # Rows received within the margin of the last refresh are read again: the new read
        # replaces them.
        recent = np.flatnonzero(ev_id >= delta.id.min())
        keep[recent[np.isin(ev_id[recent], delta.id)]] = False

    index, known = _index_of(contact_ids, delta.contact_id)
    delta = delta.take(np.flatnonzero(known))
    delta_contact = index[known]
    order = np.lexsort((delta.id, delta.at, delta_contact))
    delta, delta_contact = delta.take(order), delta_contact[order]

    meta = {"built_at": previous.built_at.isoformat(), "refreshed_at": now.isoformat()}
    directory = previous.directory
    if not len(delta.id) and bool(keep.all()):
        # Nothing new, nothing gone: the event files stay as they are (linked); only the
        # contact list and the positions in it may have changed.
        same_positions = np.array_equal(base_contact, old_index)
        files: dict[str, Column] = {
            "contact_ids": contact_ids,
            "ev_contact": directory / "ev_contact.npy"
            if same_positions
            else base_contact.astype(np.int32),
            **{name: directory / f"{name}.npy" for name in ("ev_id", "ev_at", "ev_type")},
            **{f"prop_{k}": directory / f"prop_{k}.npy" for k in range(len(keys))},
        }
        return _save(meta, files, reader.type_list(), keys, reader.value_lists())

    kept = np.flatnonzero(keep)
    base_key = _merge_key(base_contact[kept], np.asarray(previous.ev_at)[kept])
    # After the previous rows of the same (contact, second): new events have higher ids.
    at = np.searchsorted(base_key, _merge_key(delta_contact, delta.at), side="right")
    del base_key
    slots = at + np.arange(len(at))
    total = len(kept) + len(at)
    from_base = np.ones(total, dtype=bool)
    from_base[slots] = False
    whole = len(kept) == len(keep)

    def merged(base: Any, extra: np.ndarray, dtype: Any) -> Callable[[], np.ndarray]:
        def build() -> np.ndarray:  # one column at a time: the memory of one, not all
            out = np.empty(total, dtype=dtype)
            out[from_base] = np.asarray(base) if whole else np.asarray(base)[kept]
            out[slots] = extra
            return out

        return build

    files = {
        "contact_ids": contact_ids,
        "ev_contact": merged(base_contact, delta_contact, np.int32),
        "ev_id": merged(previous.ev_id, delta.id, np.int64),
        "ev_at": merged(previous.ev_at, delta.at, np.int64),
        "ev_type": merged(previous.ev_type, delta.type, np.int16),
        **{
            f"prop_{k}": merged(previous.property_codes(key)[0], delta.props[k], np.int32)
            for k, key in enumerate(keys)
        },
    }
    return _save(meta, files, reader.type_list(), keys, reader.value_lists())


def _merge_key(contact: np.ndarray, at: np.ndarray) -> np.ndarray:
    """One sortable int64 for (contact index, epoch second)."""
    seconds = np.clip(np.asarray(at, dtype=np.int64), 0, (1 << AT_BITS) - 1)
    return (np.asarray(contact, dtype=np.int64) << AT_BITS) | seconds


# A column to save: an array, a function that makes it (called when it is saved), or the
# file of an earlier version to link.
Column = np.ndarray | Callable[[], np.ndarray] | Path


def _save(
    meta: dict[str, Any],
    files: dict[str, Column],
    types: list[str],
    keys: list[str],
    values: list[list[str]],
) -> EventColumns:
    root = columns_root()
    root.mkdir(parents=True, exist_ok=True)
    version = f"{timezone.now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    building = root / f".building-{version}"
    building.mkdir()
    for name, column in files.items():
        target = building / f"{name}.npy"
        if isinstance(column, Path):
            try:
                os.link(column, target)
            except OSError:  # another file system
                shutil.copyfile(column, target)
        else:
            np.save(target, column() if callable(column) else column)
    for slot, distinct in enumerate(values):
        (building / f"values_{slot}.json").write_text(json.dumps(distinct, ensure_ascii=False))
    meta = {**meta, "id": version, "types": types, "keys": keys}
    (building / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    building.rename(root / version)
    try:
        replaced = (root / "current").read_text().strip()
    except FileNotFoundError:
        replaced = ""
    pointer = root / ".current.tmp"
    pointer.write_text(version)
    pointer.replace(root / "current")  # atomic: readers see the old or the new version
    for old in root.iterdir():
        # The version just replaced stays for readers that are still opening it.
        if old.is_dir() and old.name not in (version, replaced) and old.name[0] != ".":
            shutil.rmtree(old, ignore_errors=True)  # open memory maps stay valid
    return event_columns_load(root / version)


def event_files(columns: EventColumns) -> list[Path]:
    """The files of a version, for a snapshot that links them instead of copying."""
    return sorted(p for p in columns.directory.iterdir() if p.name != "meta.json")
