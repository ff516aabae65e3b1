"""Backtest a change of engagement rules or qualification thresholds before saving it.

A marketer editing a rule sees, on the existing data, how many contacts the change would
make MQL, and how well the new score separates the contacts whose outcome is known
(customers against disqualified) compared with the old: ROC AUC of the engagement score,
and precision / recall of the MQL decision.

Scanning 10,000,000 events through SQL takes most of a minute, so the preview runs on a
*snapshot*: the events as columns (contact index, epoch seconds, type code, and the values
of the properties rules match on, dictionary-coded) and the contacts as columns (stage,
best persona fit, outcome time), saved as ``.npy`` files under ``RENKEI_BACKTEST_DIR`` and
memory-mapped by the web process. The worker rebuilds it after each full rescore
(``renkei rescore``), so it is as fresh as the last rescore; the preview says as of when.

Each score is computed the way the engine computes it (same daily caps, same decay), but
for a contact with a known outcome only from the events *before* that outcome, decayed to
that moment — the score the contact had when the decision mattered, not one inflated by
what it did as a customer.
"""

import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage
from renkei.events.models import Event
from renkei.scoring import engine
from renkei.scoring.models import EngagementRule, Operator

# Properties kept for every event besides those the rules name (a rule added later on one
# of these can be previewed at once; a rule on another property waits for the next build).
DEFAULT_KEYS = ("url", "title", "form", "utm_campaign")
STAGES = tuple(LifecycleStage.values)
PRE_MQL = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.RECYCLED)
POSITIVE = LifecycleStage.CUSTOMER
NEGATIVE = LifecycleStage.DISQUALIFIED
BUILD_RANGE = 20_000  # contact ids per streamed range while building
NO_FIT = -1


class RuleLike(Protocol):
    event_type: str
    property_key: str
    operator: str
    property_value: str
    points: int
    daily_cap: int | None
    half_life_days: float | None

    def events_per_day(self) -> int | None: ...


class PolicyLike(Protocol):
    @property
    def fit_threshold(self) -> int: ...
    @property
    def engagement_threshold(self) -> int: ...
    @property
    def hand_raise_event_types(self) -> Sequence[str]: ...
    @property
    def hand_raise_window_days(self) -> int: ...


class SnapshotMissing(Exception):
    """No snapshot has been built yet."""


class PropertyMissing(Exception):
    """A rule matches on a property the snapshot did not keep; it is kept from the next build."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# ---- the snapshot -------------------------------------------------------------------------


@dataclass
class Snapshot:
    """Columns of contacts and events; events sorted by (contact, time, id)."""

    id: str
    built_at: datetime
    contact_ids: np.ndarray  # int64, ascending
    stage: np.ndarray  # int8 index into STAGES
    fit: np.ndarray  # int16 best persona fit, NO_FIT without one
    cutoff_s: np.ndarray  # int64: outcome time for known outcomes, else built_at
    ev_contact: np.ndarray  # int32 index into contact_ids
    ev_at: np.ndarray  # int64 epoch seconds
    ev_type: np.ndarray  # int16 index into types
    types: list[str]
    keys: list[str]
    _values: dict[str, list[str]] = field(default_factory=dict)
    _dir: Path | None = None

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
        if key not in self._values:
            assert self._dir is not None
            self._values[key] = json.loads(
                (self._dir / f"values_{_slot(self, key)}.json").read_text()
            )
        return _mapped(self._dir, f"prop_{_slot(self, key)}.npy"), self._values[key]


def _slot(snapshot: Snapshot, key: str) -> int:
    return snapshot.keys.index(key)


def _mapped(directory: Path | None, name: str) -> np.ndarray:
    assert directory is not None
    return np.load(directory / name, mmap_mode="r")


def snapshot_root() -> Path:
    return Path(settings.RENKEI_BACKTEST_DIR)


def _keys_wanted(extra: Iterable[str] = ()) -> list[str]:
    """The defaults, every rule's property, and whatever earlier builds kept (a preview may
    have asked for a property no saved rule uses yet)."""
    used = EngagementRule.objects.exclude(property_key="").values_list("property_key", flat=True)
    try:
        kept = snapshot_load().keys
    except SnapshotMissing:
        kept = []
    return sorted(set(DEFAULT_KEYS) | set(used) | set(kept) | set(extra))


def _value_sql(key: str, params: list[Any]) -> str:
    if connection.vendor == "postgresql":
        params.append(key)
        return "(properties ->> %s)"
    params.append(f'$."{key}"')
    return "CAST(json_extract(properties, %s) AS TEXT)"


def snapshot_build(*, now: datetime | None = None, extra_keys: Iterable[str] = ()) -> Snapshot:
    """Read every contact and event once (streamed by contact-id range) and save the
    columns; the previous snapshot is removed once the new one is in place."""
    now = now or timezone.now()
    now_s = int(now.timestamp())
    keys = _keys_wanted(extra_keys)
    contacts = _contact_columns(now_s)
    index_of = contacts["contact_ids"]
    last_id = int(index_of[-1]) if len(index_of) else 0

    params: list[Any] = []
    values_sql = [_value_sql(key, params) for key in keys]
    if connection.vendor == "postgresql":
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM occurred_at)) AS BIGINT)"
    else:
        epoch = "CAST(strftime('%%s', occurred_at) AS INTEGER)"
    sql = (
        f"SELECT contact_id, {epoch}, type, {', '.join(values_sql)} "  # noqa: S608
        f"FROM {Event._meta.db_table} WHERE contact_id > %s AND contact_id <= %s "
        "ORDER BY contact_id, occurred_at, id"
    )
    types: dict[str, int] = {}
    dictionaries: list[dict[str, int]] = [{} for _ in keys]
    parts: dict[str, list[np.ndarray]] = {"contact": [], "at": [], "type": []}
    prop_parts: list[list[np.ndarray]] = [[] for _ in keys]
    with connection.cursor() as cursor:
        for low in range(0, last_id, BUILD_RANGE):
            cursor.execute(sql, [*params, low, low + BUILD_RANGE])
            rows = cursor.fetchall()
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            parts["contact"].append(np.array(columns[0], dtype=np.int64))
            parts["at"].append(np.array(columns[1], dtype=np.int64))
            parts["type"].append(
                np.array([types.setdefault(t, len(types)) for t in columns[2]], dtype=np.int16)
            )
            for slot, dictionary in enumerate(dictionaries):
                prop_parts[slot].append(
                    np.array(
                        [
                            -1 if v is None else dictionary.setdefault(v, len(dictionary))
                            for v in columns[3 + slot]
                        ],
                        dtype=np.int32,
                    )
                )
    ev_contact_ids = _concat(parts["contact"], np.int64)
    # Events of contacts created after the contacts were read are left out (no row).
    ev_contact = np.searchsorted(index_of, ev_contact_ids)
    known = np.zeros(len(ev_contact_ids), dtype=bool)
    inside = ev_contact < len(index_of)
    known[inside] = index_of[ev_contact[inside]] == ev_contact_ids[inside]
    columns_out = {
        **contacts,
        "ev_contact": ev_contact[known].astype(np.int32),
        "ev_at": _concat(parts["at"], np.int64)[known],
        "ev_type": _concat(parts["type"], np.int16)[known],
    }
    props = [_concat(p, np.int32)[known] for p in prop_parts]
    meta = {
        "id": f"{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}",
        "built_at": now.isoformat(),
        "types": list(types),
        "keys": keys,
    }
    return _save(meta, columns_out, props, [list(d) for d in dictionaries])


def _concat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _contact_columns(now_s: int) -> dict[str, np.ndarray]:
    """Every contact's id, stage, best fit and cutoff, in id order (one query)."""
    from renkei.personas.models import ContactPersona

    fit = ContactPersona.objects.filter(contact_id=OuterRef("pk")).values("fit")[:1]
    rows = (
        Contact.objects.order_by("id")
        .annotate(best_fit=fit)
        .values_list("id", "lifecycle_stage", "best_fit", "lifecycle_stage_changed_at")
    )
    stage_code = {stage: i for i, stage in enumerate(STAGES)}
    ids, stages, fits, cutoffs = [], [], [], []
    for cid, stage, best_fit, changed_at in rows.iterator(chunk_size=20_000):
        ids.append(cid)
        stages.append(stage_code.get(stage, 0))
        fits.append(NO_FIT if best_fit is None else best_fit)
        outcome = stage in (POSITIVE, NEGATIVE)
        cutoffs.append(int(changed_at.timestamp()) if outcome and changed_at else now_s)
    return {
        "contact_ids": np.array(ids, dtype=np.int64),
        "stage": np.array(stages, dtype=np.int8),
        "fit": np.array(fits, dtype=np.int16),
        "cutoff_s": np.array(cutoffs, dtype=np.int64),
    }


def _save(
    meta: dict[str, Any],
    columns: dict[str, np.ndarray],
    props: list[np.ndarray],
    values: list[list[str]],
) -> Snapshot:
    root = snapshot_root()
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".building-{meta['id']}"
    building.mkdir()
    for name, array in columns.items():
        np.save(building / f"{name}.npy", array)
    for slot, (codes, distinct) in enumerate(zip(props, values, strict=True)):
        np.save(building / f"prop_{slot}.npy", codes)
        (building / f"values_{slot}.json").write_text(json.dumps(distinct, ensure_ascii=False))
    (building / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    final = root / meta["id"]
    building.rename(final)
    pointer = root / ".current.tmp"
    pointer.write_text(meta["id"])
    pointer.replace(root / "current")  # atomic: readers see the old or the new snapshot
    for old in root.iterdir():
        if old.is_dir() and old.name not in (meta["id"],) and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)  # open memory maps stay valid on POSIX
    return snapshot_load()


_cache_lock = threading.Lock()
_cache: dict[Any, Any] = {}


def snapshot_load() -> Snapshot:
    """The current snapshot, memory-mapped (kept per process until a newer one exists)."""
    root = snapshot_root()
    try:
        current = (root / "current").read_text().strip()
    except FileNotFoundError:
        raise SnapshotMissing from None
    with _cache_lock:
        cached = _cache.get("snapshot")
        if cached is not None and cached.id == current and cached._dir is not None:
            return cached
        directory = root / current
        try:
            meta = json.loads((directory / "meta.json").read_text())
        except FileNotFoundError:
            raise SnapshotMissing from None
        snapshot = Snapshot(
            id=meta["id"],
            built_at=datetime.fromisoformat(meta["built_at"]),
            types=meta["types"],
            keys=meta["keys"],
            _dir=directory,
            **{
                name: np.load(directory / f"{name}.npy", mmap_mode="r")
                for name in (
                    "contact_ids",
                    "stage",
                    "fit",
                    "cutoff_s",
                    "ev_contact",
                    "ev_at",
                    "ev_type",
                )
            },
        )
        _cache.clear()  # rule vectors of an older snapshot are stale
        _cache["snapshot"] = snapshot
        return snapshot


# ---- scores on the snapshot ---------------------------------------------------------------


def _signature(rule: RuleLike) -> tuple[Any, ...]:
    return (
        rule.event_type,
        rule.property_key,
        rule.operator,
        rule.property_value,
        rule.points,
        rule.events_per_day(),
        rule.half_life_days,
    )


def rule_vector(snapshot: Snapshot, rule: RuleLike) -> np.ndarray:
    """Each contact's points from ``rule`` at its cutoff (float64, one per contact)."""
    key = ("rule", snapshot.id, _signature(rule))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    vector = _rule_vector(snapshot, rule)
    with _cache_lock:
        if len(_cache) > 64:  # bounded: each vector is 8 bytes a contact
            for stale in [k for k in _cache if k != "snapshot"][:32]:
                del _cache[stale]
        _cache[key] = vector
    return vector


def _rule_vector(snapshot: Snapshot, rule: RuleLike) -> np.ndarray:
    n = snapshot.contacts
    code = snapshot.type_code(rule.event_type)
    if code is None:
        return np.zeros(n)
    idx = np.flatnonzero(snapshot.ev_type == code)
    if rule.property_key:
        codes, distinct = snapshot.property_codes(rule.property_key)
        value = rule.property_value
        if rule.operator == Operator.EQUALS:
            matches = np.fromiter((v == value for v in distinct), dtype=bool, count=len(distinct))
        else:
            matches = np.fromiter((value in v for v in distinct), dtype=bool, count=len(distinct))
        chosen = np.asarray(codes[idx])
        idx = idx[(chosen >= 0) & np.append(matches, False)[chosen]]
    contact = np.asarray(snapshot.ev_contact[idx], dtype=np.int64)
    at = np.asarray(snapshot.ev_at[idx])
    per_day = rule.events_per_day()
    if per_day is not None:
        keep = engine._within_daily_cap(contact, at, per_day)
        contact, at = contact[keep], at[keep]
    cutoff = np.asarray(snapshot.cutoff_s)[contact]
    before = at <= cutoff
    contact, at, cutoff = contact[before], at[before], cutoff[before]
    weights = np.full(len(at), float(rule.points))
    if rule.half_life_days:
        weights *= np.exp2(-np.maximum(cutoff - at, 0) / engine.DAY_S / rule.half_life_days)
    return np.bincount(contact, weights=weights, minlength=n)


def scores(snapshot: Snapshot, rules: Iterable[RuleLike]) -> np.ndarray:
    """Rounded engagement scores (as ``Contributions.scores`` rounds) for every contact."""
    total = np.zeros(snapshot.contacts)
    for rule in rules:
        total += rule_vector(snapshot, rule)
    return np.sign(total) * np.floor(np.abs(total) + 0.5)


def hand_raised(snapshot: Snapshot, policy: PolicyLike) -> np.ndarray:
    """True for contacts with a hand-raise event within the window before their cutoff."""
    codes = [c for c in map(snapshot.type_code, policy.hand_raise_event_types) if c is not None]
    raised = np.zeros(snapshot.contacts, dtype=bool)
    if not codes:
        return raised
    idx = np.flatnonzero(np.isin(snapshot.ev_type, codes))
    contact = np.asarray(snapshot.ev_contact[idx], dtype=np.int64)
    at = np.asarray(snapshot.ev_at[idx])
    age = np.asarray(snapshot.cutoff_s)[contact] - at
    recent = (age >= 0) & (age <= policy.hand_raise_window_days * engine.DAY_S)
    raised[contact[recent]] = True
    return raised


# ---- the comparison -----------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """What one set of rules and thresholds does on the snapshot."""

    would_become_mql: int  # contacts now at subscriber / lead / recycled that qualify
    qualifying: int  # every contact that meets the policy
    auc: float | None  # engagement score, customers against disqualified
    precision: float | None  # of the MQL decision on known outcomes
    recall: float | None


@dataclass(frozen=True)
class Backtest:
    before: Side
    after: Side
    positives: int
    negatives: int
    contacts: int
    events: int
    built_at: datetime
    seconds: float

    @property
    def mql_change(self) -> int:
        return self.after.would_become_mql - self.before.would_become_mql


def backtest(
    *,
    rules_before: Sequence[RuleLike],
    rules_after: Sequence[RuleLike],
    policy_before: PolicyLike,
    policy_after: PolicyLike,
) -> Backtest:
    """Compare two configurations on the snapshot. Raises SnapshotMissing, PropertyMissing."""
    began = time.perf_counter()
    snapshot = snapshot_load()
    stage = np.asarray(snapshot.stage)
    outcome = np.full(snapshot.contacts, -1, dtype=np.int8)
    outcome[stage == STAGES.index(POSITIVE)] = 1
    outcome[stage == STAGES.index(NEGATIVE)] = 0
    pre_mql = np.isin(stage, [STAGES.index(s) for s in PRE_MQL])
    fit = np.maximum(np.asarray(snapshot.fit), 0)  # no persona: fit 0
    sides = []
    for rules, policy in ((rules_before, policy_before), (rules_after, policy_after)):
        score = scores(snapshot, rules)
        qualifies = (fit >= policy.fit_threshold) & (score >= policy.engagement_threshold)
        qualifies |= hand_raised(snapshot, policy)
        if not getattr(policy, "active", True):  # a policy switched off qualifies no one
            qualifies[:] = False
        sides.append(_side(score, qualifies, outcome, pre_mql))
    return Backtest(
        before=sides[0],
        after=sides[1],
        positives=int((outcome == 1).sum()),
        negatives=int((outcome == 0).sum()),
        contacts=snapshot.contacts,
        events=snapshot.events,
        built_at=snapshot.built_at,
        seconds=time.perf_counter() - began,
    )


def _side(
    score: np.ndarray, qualifies: np.ndarray, outcome: np.ndarray, pre_mql: np.ndarray
) -> Side:
    known = outcome >= 0
    truth = outcome[known] == 1
    predicted = qualifies[known]
    true_positive = int((predicted & truth).sum())
    return Side(
        would_become_mql=int((qualifies & pre_mql).sum()),
        qualifying=int(qualifies.sum()),
        auc=roc_auc(score[known], truth),
        precision=_ratio(true_positive, int(predicted.sum())),
        recall=_ratio(true_positive, int(truth.sum())),
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def roc_auc(score: np.ndarray, truth: np.ndarray) -> float | None:
    """The probability that a random positive outscores a random negative (ties count
    half) — the Mann–Whitney statistic; None without both classes."""
    positives = int(truth.sum())
    negatives = len(truth) - positives
    if not positives or not negatives:
        return None
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    # Average rank of each distinct value: ties share the mean of their positions.
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0
    rank_sum = float(average_rank[inverse][truth].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def built_at_or_none() -> datetime | None:
    try:
        return snapshot_load().built_at
    except SnapshotMissing:
        return None
