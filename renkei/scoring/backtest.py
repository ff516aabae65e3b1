"""Backtest a change of engagement rules or qualification thresholds before saving it.

A marketer editing a rule sees, on the existing data, how many contacts the change would
make MQL, and how well the new score separates the contacts whose outcome is known
(customers against disqualified) compared with the old: ROC AUC of the engagement score,
and precision / recall of the MQL decision.

Scanning 10,000,000 events through SQL takes most of a minute, so the preview runs on a
*snapshot*: the event columns of ``renkei.scoring.columns`` (contact index, epoch seconds,
type code, and the values of the properties rules match on, dictionary-coded) and the
contacts as columns (stage, best persona fit, outcome time), saved as ``.npy`` files under
``RENKEI_BACKTEST_DIR`` and memory-mapped by the web process. The worker rebuilds it after
each full rescore (``renkei rescore``), so it is as fresh as the last rescore; the preview
says as of when.

Each score is computed the way the engine computes it (same daily caps, same decay), but
for a contact with a known outcome only from the events *before* that outcome, decayed to
that moment — the score the contact had when the decision mattered, not one inflated by
what it did as a customer.
"""

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db.models import OuterRef
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage
from renkei.scoring import engine
from renkei.scoring.columns import (
    ColumnsMissing,
    EventColumns,
    PropertyMissing,
    event_columns_load,
    event_columns_refresh,
    event_files,
)

__all__ = ["PropertyMissing", "SnapshotMissing", "backtest", "snapshot_build", "snapshot_load"]

STAGES = tuple(LifecycleStage.values)
PRE_MQL = (LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.RECYCLED)
POSITIVE = LifecycleStage.CUSTOMER
NEGATIVE = LifecycleStage.DISQUALIFIED
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


# ---- the snapshot -------------------------------------------------------------------------


@dataclass
class Snapshot:
    """The event columns (``renkei.scoring.columns``) with, for each of their contacts,
    the stage, the best persona fit and the cutoff of the scores."""

    id: str
    built_at: datetime
    events_columns: EventColumns
    stage: np.ndarray  # int8 index into STAGES
    fit: np.ndarray  # int16 best persona fit, NO_FIT without one
    cutoff_s: np.ndarray  # int64: outcome time for known outcomes, else built_at

    @property
    def contacts(self) -> int:
        return self.events_columns.contacts

    @property
    def events(self) -> int:
        return self.events_columns.events

    @property
    def ev_contact(self) -> np.ndarray:
        return self.events_columns.ev_contact

    @property
    def ev_at(self) -> np.ndarray:
        return self.events_columns.ev_at

    @property
    def contact_ids(self) -> np.ndarray:
        return self.events_columns.contact_ids

    @property
    def keys(self) -> list[str]:
        return self.events_columns.keys

    def type_code(self, event_type: str) -> int | None:
        return self.events_columns.type_code(event_type)


def snapshot_root() -> Path:
    return Path(settings.RENKEI_BACKTEST_DIR)


CONTACT_FILES = ("stage", "fit", "cutoff_s")


def snapshot_build(*, now: datetime | None = None, extra_keys: Iterable[str] = ()) -> Snapshot:
    """Bring the event columns up to date, read every contact's stage and fit, and save
    them together (the event files are linked, not copied); the previous snapshot is
    removed once the new one is in place."""
    now = now or timezone.now()
    events_columns = event_columns_refresh(extra_keys=extra_keys)
    contacts = _contact_columns(int(now.timestamp()), np.asarray(events_columns.contact_ids))
    root = snapshot_root()
    root.mkdir(parents=True, exist_ok=True)
    snapshot_id = f"{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    building = root / f".building-{snapshot_id}"
    (building / "events").mkdir(parents=True)
    for path in [*event_files(events_columns), events_columns.directory / "meta.json"]:
        try:
            os.link(path, building / "events" / path.name)
        except OSError:  # another file system: copy
            shutil.copyfile(path, building / "events" / path.name)
    for name, array in contacts.items():
        np.save(building / f"{name}.npy", array)
    meta = {"id": snapshot_id, "built_at": now.isoformat()}
    (building / "meta.json").write_text(json.dumps(meta))
    building.rename(root / snapshot_id)
    pointer = root / ".current.tmp"
    pointer.write_text(snapshot_id)
    pointer.replace(root / "current")  # atomic: readers see the old or the new snapshot
    for old in root.iterdir():
        if old.is_dir() and old.name not in (snapshot_id, "events") and old.name[0] != ".":
            shutil.rmtree(old, ignore_errors=True)  # open memory maps stay valid on POSIX
    return snapshot_load()


def _contact_columns(now_s: int, contact_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Stage, best fit and cutoff of each of ``contact_ids`` (one query; a contact erased
    since the event columns were read gets the defaults)."""
    from renkei.personas.models import ContactPersona

    fit = ContactPersona.objects.filter(contact_id=OuterRef("pk")).values("fit")[:1]
    rows = (
        Contact.objects.order_by("id")
        .annotate(best_fit=fit)
        .values_list("id", "lifecycle_stage", "best_fit", "lifecycle_stage_changed_at")
    )
    stage_code = {stage: i for i, stage in enumerate(STAGES)}
    n = len(contact_ids)
    stages = np.zeros(n, dtype=np.int8)
    fits = np.full(n, NO_FIT, dtype=np.int16)
    cutoffs = np.full(n, now_s, dtype=np.int64)
    position = 0
    for cid, stage, best_fit, changed_at in rows.iterator(chunk_size=20_000):
        # Both in id order: walk them together.
        while position < n and contact_ids[position] < cid:
            position += 1
        if position == n:
            break
        if contact_ids[position] != cid:
            continue  # created after the event columns were read
        stages[position] = stage_code.get(stage, 0)
        if best_fit is not None:
            fits[position] = best_fit
        if stage in (POSITIVE, NEGATIVE) and changed_at:
            cutoffs[position] = int(changed_at.timestamp())
    return {"stage": stages, "fit": fits, "cutoff_s": cutoffs}


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
        if cached is not None and cached.id == current:
            return cached
        directory = root / current
        try:
            meta = json.loads((directory / "meta.json").read_text())
            events_columns = event_columns_load(directory / "events")
        except (FileNotFoundError, ColumnsMissing):
            raise SnapshotMissing from None
        snapshot = Snapshot(
            id=meta["id"],
            built_at=datetime.fromisoformat(meta["built_at"]),
            events_columns=events_columns,
            **{name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in CONTACT_FILES},
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
    idx = snapshot.events_columns.rule_events(rule)
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
    idx = np.flatnonzero(np.isin(snapshot.events_columns.ev_type, codes))
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
