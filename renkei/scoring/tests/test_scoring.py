"""The engagement score: caps per JST day, decay, negative points, explanations, and the
incremental path giving exactly what the full rescore gives."""

import itertools
import math
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renkei.contacts.models import Contact, ContactScore
from renkei.contacts.services import contact_scores_set
from renkei.events.models import Event
from renkei.events.signals import events_recorded
from renkei.scoring import store
from renkei.scoring.models import EngagementBucket, EngagementRule
from renkei.scoring.selectors import contact_engagement_explain, contact_engagement_score
from renkei.scoring.services import contacts_rescore, engagement_rescore_all
from renkei.scoring.tests.factories import contact, events, rule

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
DAY = timedelta(days=1)


def _score(c: Contact) -> int:
    c.refresh_from_db()
    return c.score


def _all_scores() -> dict[int, int]:
    """Every contact's stored score (0 without a score row)."""
    stored = dict(ContactScore.objects.values_list("contact_id", "score"))
    return {pk: stored.get(pk, 0) for pk in Contact.objects.values_list("id", flat=True)}


def test_each_matching_event_adds_the_rule_points(db: Any) -> None:
    lead = contact()
    rule(
        name="pricing",
        points=10,
        property_key="url",
        operator="contains",
        property_value="/pricing",
    )
    rule(name="visits", points=1)
    events(
        lead,
        ("page_view", NOW - DAY, {"url": "https://ex.jp/pricing/"}),
        ("page_view", NOW - DAY, {"url": "https://ex.jp/blog/"}),
        ("email_open", NOW - DAY, {}),
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert _score(lead) == 10 + 2
    explained = contact_engagement_explain(lead, now=NOW)
    assert [(x.rule_name, x.events, x.points) for x in explained] == [
        ("pricing", 1, 10.0),
        ("visits", 2, 2.0),
    ]


def test_equals_compares_the_property_text_exactly(db: Any) -> None:
    lead = contact()
    rule(name="webinar 42", event_type="webinar_attended", points=30,
         property_key="webinar_id", operator="equals", property_value="42")  # fmt: skip
    events(
        lead,
        ("webinar_attended", NOW, {"webinar_id": 42}),  # a JSON number counts as "42"
        ("webinar_attended", NOW, {"webinar_id": "420"}),
        ("webinar_attended", NOW, {}),
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert _score(lead) == 30


def test_daily_cap_follows_jst_day_boundaries(db: Any) -> None:
    lead = contact()
    rule(points=2, daily_cap=5)  # 5 // 2 = two events a day count
    jst_midnight = datetime(2026, 5, 30, 15, 0, tzinfo=UTC)  # 2026-05-31 00:00 JST
    before = jst_midnight - timedelta(seconds=1)  # still 2026-05-30 in Japan
    events(
        lead,
        *[("page_view", before - timedelta(minutes=m), {}) for m in range(4)],
        *[("page_view", jst_midnight + timedelta(hours=h), {}) for h in range(4)],
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert _score(lead) == 2 * 2 + 2 * 2
    [line] = contact_engagement_explain(lead, now=NOW)
    assert line.events == 4


def test_negative_points_lower_the_score(db: Any) -> None:
    lead = contact()
    rule(points=3)
    rule(name="unsubscribed", event_type="unsubscribe", points=-10)
    events(lead, ("page_view", NOW, {}), ("unsubscribe", NOW, {}))
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert _score(lead) == -7
    assert contact_engagement_explain(lead, now=NOW)[0].rule_name == "unsubscribed"


def test_points_halve_every_half_life(db: Any) -> None:
    lead = contact()
    rule(points=40, half_life_days=7.0)
    events(lead, ("page_view", NOW - 14 * DAY, {}), ("page_view", NOW - 7 * DAY, {}))
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert _score(lead) == 10 + 20
    # Later reads decay the stored contribution without reading events again.
    assert contact_engagement_score(lead, now=NOW + 7 * DAY) == pytest.approx(15.0)


def test_decay_never_raises_a_positive_score(db: Any) -> None:
    lead = contact()
    rule(points=5, half_life_days=3.0)
    rule(name="forms", event_type="form_submit", points=20, half_life_days=30.0, daily_cap=20)
    events(
        lead, ("page_view", NOW - 2 * DAY, {}), ("form_submit", NOW, {}), ("form_submit", NOW, {})
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    seen = [contact_engagement_score(lead, now=NOW + k * DAY) for k in range(0, 120, 5)]
    assert all(a >= b for a, b in itertools.pairwise(seen))
    assert seen[-1] < seen[0]


def test_inactive_rules_and_unknown_contacts_score_nothing(db: Any) -> None:
    lead = contact()
    off = rule(points=9)
    EngagementRule.objects.filter(pk=off.pk).update(active=False)
    events(lead, ("page_view", NOW, {}))
    contact_scores_set({lead.pk: 50})
    summary = contacts_rescore(contact_ids=[lead.pk, 999_999], now=NOW)
    assert summary.contacts == 1
    assert _score(lead) == 0
    assert not len(store.entries_of([lead.pk]))


def test_full_rescore_resets_contacts_without_events(db: Any) -> None:
    quiet, busy = contact(1), contact(2)
    rule(points=4)
    events(busy, ("page_view", NOW, {}))
    contact_scores_set({quiet.pk: 33})
    summary = engagement_rescore_all(now=NOW)
    assert (summary.contacts, summary.events) == (2, 1)
    assert (_score(quiet), _score(busy)) == (0, 4)


def test_recorded_events_enqueue_one_pipeline_task_that_rescores(db: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from renkei.contacts.tasks import derive_contacts

    lead = contact()
    rule(points=6)
    events(lead, ("page_view", NOW, {}))
    events_recorded.send(sender=None, contact_ids={lead.pk})
    task = DBTaskResult.objects.get(task_path="renkei.contacts.tasks.derive_contacts")
    assert task.args_kwargs["args"] == [[lead.pk], "events"]
    assert derive_contacts.call(*task.args_kwargs["args"])["engagement"] == 1
    assert _score(lead) == 6


def test_the_task_rescores_the_contacts(db: Any) -> None:
    from renkei.scoring.tasks import rescore_contacts

    lead = contact()
    rule(points=6)
    events(lead, ("page_view", NOW, {}))
    assert rescore_contacts.call([lead.pk]) == 1
    assert rescore_contacts.call([lead.pk]) == 1  # safe to run twice
    assert _score(lead) == 6


# ---- incremental == full == a plain reference, on random data ----------------------------

TYPES = ("page_view", "email_open", "form_submit")
URLS = ("/", "/pricing/", "/blog/")
rules_st = st.lists(
    st.fixed_dictionaries(
        {
            "event_type": st.sampled_from(TYPES),
            "points": st.integers(-20, 20).filter(bool),
            "cap_events": st.none() | st.integers(1, 3),
            "half_life_days": st.none() | st.floats(0.5, 60),
            "url": st.none() | st.sampled_from(URLS),
            "operator": st.sampled_from(["contains", "equals"]),
        }
    ),
    min_size=1,
    max_size=4,
)
events_st = st.lists(
    st.tuples(
        st.integers(0, 2),  # contact
        st.sampled_from(TYPES),
        st.integers(0, 20 * 24 * 60),  # minutes before NOW
        st.sampled_from(URLS),
    ),
    max_size=40,
)


def _reference(
    rules: list[EngagementRule], rows: list[tuple[int, str, datetime, str]]
) -> dict[int, float]:
    totals: dict[int, float] = {}
    for r in rules:
        used: dict[tuple[int, Any], int] = {}
        for cid, kind, at, url in sorted(rows, key=lambda row: (row[0], row[2])):
            value = "https://ex.jp" + url
            if kind != r.event_type or (
                r.property_key
                and not (
                    r.property_value in value
                    if r.operator == "contains"
                    else r.property_value == value
                )
            ):
                continue
            day = (at + timedelta(hours=9)).date()
            used[cid, day] = used.get((cid, day), 0) + 1
            if r.events_per_day() is not None and used[cid, day] > r.events_per_day():  # type: ignore[operator]
                continue
            age = (NOW - at).total_seconds() / 86400
            decay = 2 ** (-age / r.half_life_days) if r.half_life_days else 1.0
            totals[cid] = totals.get(cid, 0.0) + r.points * decay
    return totals


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rules=rules_st, rows=events_st, batches=st.integers(1, 4))
def test_incremental_batches_equal_the_full_rescore(
    db: Any, rules: list[dict[str, Any]], rows: list[tuple[int, str, int, str]], batches: int
) -> None:
    for model in (Event, EngagementBucket, EngagementRule):
        model.objects.all().delete()
    # Events are never deleted but with their contact: the columns are built afresh here.
    shutil.rmtree(django_settings.RENKEI_BACKTEST_DIR, ignore_errors=True)
    ContactScore.objects.all().delete()  # hypothesis reuses the test's database between examples
    leads = [contact(n) for n in range(3)]
    made = [
        rule(
            name=f"r{i}",
            event_type=spec["event_type"],
            points=spec["points"],
            daily_cap=None
            if spec["cap_events"] is None
            else spec["cap_events"] * abs(spec["points"]),
            half_life_days=spec["half_life_days"],
            **(
                {
                    "property_key": "url",
                    "operator": spec["operator"],
                    "property_value": spec["url"]
                    if spec["operator"] == "contains"
                    else "https://ex.jp" + spec["url"],
                }
                if spec["url"]
                else {}
            ),
        )
        for i, spec in enumerate(rules)
    ]
    timed = [
        (cid, kind, (NOW - timedelta(minutes=m)).replace(microsecond=0), url)
        for cid, kind, m, url in rows
    ]
    for b in range(batches):  # events arrive batch by batch, each followed by its task
        batch = timed[b::batches]
        for cid, kind, at, url in batch:
            events(leads[cid], (kind, at, {"url": "https://ex.jp" + url}))
        contacts_rescore(contact_ids=[leads[cid].pk for cid, *_ in batch], now=NOW)
    incremental = _state()
    engagement_rescore_all(now=NOW)
    assert _state() == incremental
    expected = _reference(made, timed)
    for n, lead in enumerate(leads):
        assert contact_engagement_score(lead, now=NOW) == pytest.approx(
            expected.get(n, 0.0), abs=1e-6
        )
        want = expected.get(n, 0.0)
        assert _score(lead) == math.copysign(math.floor(abs(want) + 0.5), want)


def _state() -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    entries = store.entries_of(Contact.objects.values_list("id", flat=True))
    return (
        [
            (int(e["contact"]), int(e["rule"]), int(e["events"]), float(e["points"]))
            for e in entries
        ],
        sorted(_all_scores().items()),
    )


# ---- decay is monotone ----------------------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rules=rules_st,
    rows=events_st,
    later_days=st.lists(st.floats(0, 400), min_size=2, max_size=5),
)
def test_without_new_events_decay_only_shrinks_a_score_toward_zero(
    db: Any, rules: list[dict[str, Any]], rows: list[tuple[int, str, int, str]],
    later_days: list[float],
) -> None:  # fmt: skip
    """Per rule, a contribution keeps its sign and never grows in size as time passes, so a
    contact with only positive (negative) rules never gains (loses) without new events; the
    full rescore at a later time agrees with the stored contributions decayed to it."""
    for model in (Event, EngagementBucket, EngagementRule):
        model.objects.all().delete()
    # Events are never deleted but with their contact: the columns are built afresh here.
    shutil.rmtree(django_settings.RENKEI_BACKTEST_DIR, ignore_errors=True)
    ContactScore.objects.all().delete()
    lead = contact(0)
    for i, spec in enumerate(rules):
        rule(name=f"r{i}", event_type=spec["event_type"], points=spec["points"],
             half_life_days=spec["half_life_days"])  # fmt: skip
    for _cid, kind, minutes, url in rows:
        events(lead, (kind, NOW - timedelta(minutes=minutes), {"url": url}))
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    moments = [NOW + timedelta(days=d) for d in sorted(later_days)]
    for earlier, later in itertools.pairwise(moments):
        before = {x.rule_id: x.points for x in contact_engagement_explain(lead, now=earlier)}
        after = {x.rule_id: x.points for x in contact_engagement_explain(lead, now=later)}
        for rule_id, points in before.items():
            assert abs(after[rule_id]) <= abs(points) + 1e-9
            assert after[rule_id] * points >= 0
    last = moments[-1]
    engagement_rescore_all(now=last)
    assert _score(lead) == round_half_away(contact_engagement_score(lead, now=last))


def round_half_away(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))
