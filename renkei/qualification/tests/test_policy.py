"""The qualification policy: one row, every bad value refused naming its field, changes
audited with old and new values, and a full evaluation queued after a change."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from renkei.accounts.models import AuditEntry
from renkei.qualification.models import QualificationPolicy, QualificationRun
from renkei.qualification.selectors import qualification_policy
from renkei.qualification.services import qualification_policy_update
from renkei.scoring.services import engagement_rule_create


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English; the Japanese wording is checked on the pages."""
    with translation.override("en"):
        yield


def test_the_migration_creates_the_one_policy(db: Any) -> None:
    policy = qualification_policy()
    assert QualificationPolicy.objects.count() == 1
    assert (policy.fit_threshold, policy.engagement_threshold, policy.active) == (60, 40, True)
    assert policy.hand_raise_event_types == ["demo_request", "contact_request"]
    assert policy.hand_raise_window_days == 90


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("fit_threshold", "60点", "whole number from 0 to 100"),
        ("fit_threshold", 60.5, "whole number from 0 to 100"),
        ("fit_threshold", True, "whole number from 0 to 100"),
        ("fit_threshold", -1, "whole number from 0 to 100"),
        ("fit_threshold", 101, "whole number from 0 to 100"),
        ("fit_threshold", None, "whole number from 0 to 100"),
        ("engagement_threshold", -5, "whole number from 0 to 1000000"),
        ("engagement_threshold", "forty", "whole number from 0 to 1000000"),
        ("engagement_threshold", 10**7, "whole number from 0 to 1000000"),
        ("hand_raise_event_types", "demo_request", "list of event types"),
        ("hand_raise_event_types", ["demo_request", 3], "list of event types"),
        ("hand_raise_event_types", ["Demo Request"], "Use lower-case letters"),
        ("hand_raise_event_types", ["demo-request"], "did you mean demo_request?"),
        ("hand_raise_event_types", ["pageview"], "did you mean page_view?"),
        ("hand_raise_event_types", [f"t{i}" for i in range(21)], "At most 20"),
        ("hand_raise_window_days", 0, "from 1 to 3650"),
        ("hand_raise_window_days", 3651, "from 1 to 3650"),
        ("hand_raise_window_days", "90日", "from 1 to 3650"),
        ("active", "yes", "on or off"),
        ("colour", "red", "unknown field"),
    ],
)
def test_each_bad_value_is_refused_naming_its_field(
    db: Any, field: str, value: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        qualification_policy_update(actor=None, **{field: value})
    assert list(exc.value.message_dict) == [field]
    assert fragment in " ".join(exc.value.message_dict[field])
    assert qualification_policy().fit_threshold == 60  # nothing saved


def test_a_near_miss_of_a_rule_event_type_is_caught(db: Any) -> None:
    engagement_rule_create(actor=None, name="資料請求", event_type="whitepaper_download", points=5)
    with pytest.raises(ValidationError) as exc:
        qualification_policy_update(actor=None, hand_raise_event_types=["whitepaper-download"])
    assert (
        "did you mean whitepaper_download?" in exc.value.message_dict["hand_raise_event_types"][0]
    )


def test_several_bad_fields_are_all_named(db: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        qualification_policy_update(actor=None, fit_threshold=200, hand_raise_window_days=0)
    assert set(exc.value.message_dict) == {"fit_threshold", "hand_raise_window_days"}


def test_a_change_is_audited_with_old_and_new_values(
    marketer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        policy = qualification_policy_update(
            actor=marketer,
            fit_threshold=70,
            hand_raise_event_types=["demo_request", "meeting", "demo_request"],
        )
    assert policy.hand_raise_event_types == ["demo_request", "meeting"]  # duplicates dropped
    assert policy.updated_by == marketer
    entry = AuditEntry.objects.get(action="qualification_policy.update")
    assert entry.actor == marketer
    assert entry.changes == {
        "fit_threshold": [60, 70],
        "hand_raise_event_types": [
            ["demo_request", "contact_request"],
            ["demo_request", "meeting"],
        ],
    }
    run = QualificationRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == ("queued", "policy", marketer)
    assert DBTaskResult.objects.filter(task_path="renkei.qualification.tasks.qualify_all").exists()


def test_saving_the_same_values_changes_nothing(marketer: Any) -> None:
    qualification_policy_update(actor=marketer, fit_threshold=60, active=True)
    assert not AuditEntry.objects.filter(action="qualification_policy.update").exists()
    assert not QualificationRun.objects.exists()


def test_switching_the_policy_off_queues_no_evaluation(marketer: Any) -> None:
    qualification_policy_update(actor=marketer, active=False)
    assert AuditEntry.objects.get(action="qualification_policy.update").changes == {
        "active": [True, False]
    }
    assert not QualificationRun.objects.exists()
