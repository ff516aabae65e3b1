"""The backtest: the snapshot scores exactly as the engine does, known outcomes are scored
as they stood before the outcome, and AUC / precision / recall are what they claim."""

import itertools
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renkei.contacts.models import Contact, ContactScore
from renkei.events.models import Event
from renkei.personas.models import ContactPersona, Persona, PersonaVersion, VersionStatus
from renkei.scoring import backtest
from renkei.scoring.backtest import (
    PropertyMissing,
    SnapshotMissing,
    roc_auc,
    snapshot_build,
    snapshot_load,
)
from renkei.scoring.models import EngagementBucket, EngagementRule
from renkei.scoring.services import engagement_rescore_all
from renkei.scoring.tests.factories import contact, events, rule
from renkei.scoring.tests.test_scoring import _all_scores, events_st, rules_st

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class Policy:
    fit_threshold: int = 0
    engagement_threshold: int = 10
    hand_raise_event_types: list[str] = field(default_factory=lambda: ["demo_request"])
    hand_raise_window_days: int = 90


def _stage(c: Contact, stage: str, at: datetime) -> None:
    Contact.objects.filter(pk=c.pk).update(lifecycle_stage=stage, lifecycle_stage_changed_at=at)


def _rules() -> list[EngagementRule]:
    return list(EngagementRule.objects.filter(active=True).order_by("id"))


def test_without_a_snapshot_the_preview_says_so(db: Any) -> None:
    with pytest.raises(SnapshotMissing):
        snapshot_load()


def test_snapshot_scores_equal_the_full_rescore(db: Any) -> None:
    leads = [contact(n) for n in range(4)]
    rule(name="visits", points=1, daily_cap=2, half_life_days=7.0)
    rule(name="pricing", points=10, property_key="url", operator="contains",
         property_value="/pricing", half_life_days=30.0)  # fmt: skip
    rule(name="webinar", event_type="webinar_attended", points=25, property_key="id",
         operator="equals", property_value="42")  # fmt: skip
    for n, lead in enumerate(leads):
        events(
            lead,
            *[("page_view", NOW - DAY * n - timedelta(minutes=m), {"url": "/"}) for m in range(3)],
            ("page_view", NOW - DAY * (n + 3), {"url": "https://ex.jp/pricing/"}),
            ("webinar_attended", NOW - DAY * 2, {"id": 42 if n % 2 else 41}),
        )
    engagement_rescore_all(now=NOW)
    snapshot = snapshot_build(now=NOW)
    assert (snapshot.contacts, snapshot.events) == (4, 20)
    scored = backtest.scores(snapshot, _rules())
    expected = _all_scores()
    assert dict(zip(snapshot.contact_ids.tolist(), scored.tolist(), strict=True)) == expected


def test_a_known_outcome_is_scored_as_it_stood_before_the_outcome(db: Any) -> None:
    won = contact(1)
    rule(name="visits", points=4, half_life_days=10.0)
    events(won, ("page_view", NOW - DAY * 30, {}), ("page_view", NOW - DAY * 5, {}))
    _stage(won, "customer", NOW - DAY * 20)  # the second visit came after the win
    snapshot = snapshot_build(now=NOW)
    # One event, 10 days old at the outcome: half its points.
    assert backtest.scores(snapshot, _rules()).tolist() == [2.0]


def test_backtest_counts_new_mqls_and_measures_separation(db: Any) -> None:
    hot, warm, cold, won, lost = (contact(n) for n in range(5))
    visits = rule(name="visits", points=5)
    for c, n in ((hot, 3), (warm, 1), (won, 4), (lost, 1)):
        events(c, *[("page_view", NOW - DAY - timedelta(hours=h), {}) for h in range(n)])
    events(cold, ("demo_request", NOW - DAY * 2, {}))
    _stage(won, "customer", NOW)
    _stage(lost, "disqualified", NOW)
    snapshot_build(now=NOW)

    result = backtest.backtest(
        rules_before=[visits],
        rules_after=[visits],
        policy_before=Policy(engagement_threshold=20),
        policy_after=Policy(engagement_threshold=10),
    )
    # Before: only won (20) meets 20 and cold raised a hand; after: hot (15) too.
    assert (result.before.qualifying, result.after.qualifying) == (2, 3)
    assert (result.before.would_become_mql, result.after.would_become_mql) == (1, 2)
    assert result.mql_change == 1
    assert (result.positives, result.negatives) == (1, 1)
    assert result.after.auc == 1.0  # the customer outscores the disqualified contact
    assert (result.after.precision, result.after.recall) == (1.0, 1.0)

    looser = backtest.backtest(
        rules_before=[visits],
        rules_after=[visits],
        policy_before=Policy(engagement_threshold=20),
        policy_after=Policy(engagement_threshold=5),
    )
    assert looser.after.precision == 0.5  # now the disqualified contact qualifies too


def test_a_proposed_rule_is_scored_without_saving_it(db: Any) -> None:
    lead = contact(1)
    events(lead, ("page_view", NOW - DAY, {"url": "https://ex.jp/pricing/"}))
    snapshot_build(now=NOW)
    proposed = EngagementRule(
        name="pricing",
        event_type="page_view",
        points=30,
        property_key="url",
        operator="contains",
        property_value="pricing",
    )
    result = backtest.backtest(
        rules_before=[],
        rules_after=[proposed],
        policy_before=Policy(engagement_threshold=25),
        policy_after=Policy(engagement_threshold=25),
    )
    assert (result.before.would_become_mql, result.after.would_become_mql) == (0, 1)
    assert not EngagementRule.objects.exists()


def test_a_property_the_snapshot_did_not_keep_is_named(db: Any) -> None:
    events(contact(1), ("page_view", NOW, {"campaign_code": "x"}))
    snapshot_build(now=NOW)
    proposed = EngagementRule(event_type="page_view", points=3, property_key="campaign_code",
                              operator="equals", property_value="x")  # fmt: skip
    with pytest.raises(PropertyMissing) as raised:
        backtest.backtest(
            rules_before=[], rules_after=[proposed], policy_before=Policy(), policy_after=Policy()
        )
    assert raised.value.key == "campaign_code"
    # A rule that uses it makes the next build keep it.
    rule(event_type="page_view", points=3, property_key="campaign_code", operator="equals",
         property_value="x")  # fmt: skip
    assert "campaign_code" in snapshot_build(now=NOW).keys


def test_fit_threshold_uses_the_best_persona_fit(db: Any, marketer: Any) -> None:
    fits, unfit = contact(1), contact(2)
    visits = rule(name="visits", points=50)
    events(fits, ("page_view", NOW, {}))
    events(unfit, ("page_view", NOW, {}))
    persona = Persona.objects.create(name="情シス部長")
    version = PersonaVersion.objects.create(
        persona=persona, number=1, status=VersionStatus.APPROVED, criteria=[]
    )
    ContactPersona.objects.create(contact=fits, version=version, fit=80)
    snapshot_build(now=NOW)
    result = backtest.backtest(
        rules_before=[visits],
        rules_after=[visits],
        policy_before=Policy(fit_threshold=0, engagement_threshold=10),
        policy_after=Policy(fit_threshold=60, engagement_threshold=10),
    )
    assert (result.before.would_become_mql, result.after.would_become_mql) == (2, 1)


def test_a_new_build_replaces_the_old_one_whole(db: Any, _own_backtest_dir: Path) -> None:
    snapshot_dir = _own_backtest_dir
    events(contact(1), ("page_view", NOW, {}))
    first = snapshot_build(now=NOW)
    events(contact(2), ("page_view", NOW, {}))
    second = snapshot_build(now=NOW + DAY)
    assert snapshot_load().id == second.id != first.id
    kept = sorted(p.name for p in snapshot_dir.iterdir() if p.is_dir())
    assert kept == sorted(["events", second.id])
    assert snapshot_load().events == 2
    # The event columns keep the version in use and the one it replaced, no more.
    events(contact(3), ("page_view", NOW, {}))
    assert snapshot_build(now=NOW + 2 * DAY).events == 3
    assert len([p for p in (snapshot_dir / "events").iterdir() if p.is_dir()]) == 2


@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=30))
def test_roc_auc_is_the_share_of_correctly_ordered_pairs(pairs: list[tuple[int, bool]]) -> None:
    score = np.array([p[0] for p in pairs], dtype=float)
    truth = np.array([p[1] for p in pairs])
    positives, negatives = score[truth], score[~truth]
    if not len(positives) or not len(negatives):
        assert roc_auc(score, truth) is None
        return
    wins = sum(
        1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives)
    )
    assert roc_auc(score, truth) == pytest.approx(wins / (len(positives) * len(negatives)))


def test_the_nightly_rescore_command_rebuilds_the_snapshot(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    events(contact(1), ("page_view", NOW, {}))
    out = StringIO()
    call_command("rescore", stdout=out)
    assert "backtest snapshot" in out.getvalue()
    assert snapshot_load().events == 1
    call_command("rescore", "--no-snapshot", stdout=StringIO())


def test_a_queued_full_rescore_queues_the_snapshot_after_it(db: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from renkei.scoring.services import rescore_run_enqueue
    from renkei.scoring.tasks import backtest_snapshot_refresh, rescore_all

    events(contact(1), ("page_view", NOW, {}))
    run = rescore_run_enqueue(actor=None)
    assert rescore_all.call(run.pk) == "done"
    queued = DBTaskResult.objects.filter(task_path__endswith="backtest_snapshot_refresh")
    assert queued.count() == 1
    assert backtest_snapshot_refresh.call() == 1
    assert snapshot_load().contacts == 1


# ---- the preview on the rule pages --------------------------------------------------------

PRICING_FORM = {
    "name": "料金ページ閲覧",
    "event_type": "page_view",
    "property_key": "url",
    "operator": "contains",
    "property_value": "/pricing",
    "points": "50",
    "half_life_days": "30",
    "active": "on",
}


def _logged_in(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_previewing_a_new_rule_shows_its_effect_and_saves_nothing(marketer: Any) -> None:
    from django.urls import reverse

    from renkei.qualification.models import QualificationPolicy

    QualificationPolicy.objects.update(fit_threshold=0, engagement_threshold=40)
    lead = contact(1)
    events(lead, ("page_view", timezone_now() - DAY, {"url": "https://ex.jp/pricing/"}))
    snapshot_build()
    response = _logged_in(marketer).post(
        reverse("scoring:rule_create"), {**PRICING_FORM, "action": "preview"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="backtest-new-mql">1 <span' in html
    assert "バックテスト" in html
    assert not EngagementRule.objects.exists()


def test_a_preview_with_a_bad_field_names_it_and_computes_nothing(marketer: Any) -> None:
    from django.urls import reverse

    snapshot_build()
    response = _logged_in(marketer).post(
        reverse("scoring:rule_create"), {**PRICING_FORM, "points": "0", "action": "preview"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["points"]
    assert response.context["preview"] is None


def test_without_a_snapshot_the_preview_queues_one_and_says_so(marketer: Any) -> None:
    from django.urls import reverse
    from django_tasks_db.models import DBTaskResult

    client = _logged_in(marketer)
    for _ in range(2):
        response = client.post(
            reverse("scoring:rule_create"), {**PRICING_FORM, "action": "preview"}
        )
        assert "バックテスト用のデータがまだありません" in response.content.decode()
    queued = DBTaskResult.objects.filter(task_path__endswith="backtest_snapshot_refresh")
    assert queued.count() == 1  # asked twice, built once


def test_editing_and_deleting_previews_against_the_saved_rule(marketer: Any) -> None:
    from django.urls import reverse

    from renkei.qualification.models import QualificationPolicy

    QualificationPolicy.objects.update(fit_threshold=0, engagement_threshold=40)
    lead = contact(1)
    events(lead, *[("page_view", timezone_now() - DAY, {"url": "/"}) for _ in range(5)])
    visits = rule(name="visits", points=10)
    snapshot_build()
    client = _logged_in(marketer)
    edit = client.post(
        reverse("scoring:rule_edit", args=[visits.pk]),
        {"name": "visits", "event_type": "page_view", "points": "5", "active": "on",
         "action": "preview"},
    )  # fmt: skip
    result = edit.context["preview"].result
    assert (result.before.would_become_mql, result.after.would_become_mql) == (1, 0)
    delete = client.post(reverse("scoring:rule_delete", args=[visits.pk]), {"action": "preview"})
    assert delete.context["preview"].result.after.would_become_mql == 0
    assert EngagementRule.objects.get(pk=visits.pk).points == 10  # nothing saved


def test_only_those_who_may_change_rules_may_preview(sales_rep: Any) -> None:
    from django.urls import reverse

    response = _logged_in(sales_rep).post(
        reverse("scoring:rule_create"), {**PRICING_FORM, "action": "preview"}
    )
    assert response.status_code == 403


def timezone_now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rules=rules_st, rows=events_st)
def test_on_random_data_the_snapshot_scores_as_the_full_rescore(
    db: Any, rules: list[dict[str, Any]], rows: list[tuple[int, str, int, str]]
) -> None:
    for model in (Event, EngagementBucket, EngagementRule):
        model.objects.all().delete()
    # Events are never deleted but with their contact: the columns are built afresh here.
    shutil.rmtree(django_settings.RENKEI_BACKTEST_DIR, ignore_errors=True)
    ContactScore.objects.all().delete()
    backtest._cache.clear()
    leads = [contact(n) for n in range(3)]
    for i, spec in enumerate(rules):
        extra = (
            {"property_key": "url", "operator": spec["operator"], "property_value": spec["url"]}
            if spec["url"]
            else {}
        )
        cap = None if spec["cap_events"] is None else spec["cap_events"] * abs(spec["points"])
        rule(name=f"r{i}", event_type=spec["event_type"], points=spec["points"],
             daily_cap=cap, half_life_days=spec["half_life_days"], **extra)  # fmt: skip
    for cid, kind, minutes, url in rows:
        at = (NOW - timedelta(minutes=minutes)).replace(microsecond=0)
        events(leads[cid], (kind, at, {"url": url}))
    engagement_rescore_all(now=NOW)
    snapshot = snapshot_build(now=NOW)
    scored = dict(
        zip(
            snapshot.contact_ids.tolist(), backtest.scores(snapshot, _rules()).tolist(), strict=True
        )
    )
    assert scored == _all_scores()
