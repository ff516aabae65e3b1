"""Engagement rules: every bad input is refused with a message naming the field."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from renkei.accounts.models import AuditEntry
from renkei.scoring.models import EngagementRule
from renkei.scoring.services import (
    engagement_rule_create,
    engagement_rule_delete,
    engagement_rule_update,
)

GOOD = {"name": "料金ページ", "event_type": "page_view", "points": 5}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"event_type": "Page View"}, "event_type"),
        ({"event_type": "1st_visit"}, "event_type"),
        ({"event_type": "pageview"}, "event_type"),  # a near miss of page_view
        ({"points": 0}, "points"),
        ({"points": 10_001}, "points"),
        ({"property_key": "url"}, "operator"),
        ({"property_key": "url", "operator": "contains"}, "property_value"),
        ({"property_key": "a b", "operator": "equals", "property_value": "x"}, "property_key"),
        ({"property_key": "url", "operator": "like", "property_value": "x"}, "operator"),
        ({"property_value": "/pricing"}, "property_key"),
        ({"points": 5, "daily_cap": 4}, "daily_cap"),
        ({"half_life_days": 0.0}, "half_life_days"),
        ({"half_life_days": -3.0}, "half_life_days"),
        ({"half_life_days": float("nan")}, "half_life_days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    db: Any, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        engagement_rule_create(actor=None, **(GOOD | change))
    assert field in caught.value.message_dict
    assert caught.value.message_dict[field][0]
    assert not EngagementRule.objects.exists()


def test_custom_event_types_and_negative_points_are_accepted(db: Any) -> None:
    rule = engagement_rule_create(
        actor=None, name="unsubscribe", event_type="mail:unsubscribe", points=-20
    )
    assert (rule.event_type, rule.points, rule.active) == ("mail:unsubscribe", -20, True)


def test_rule_changes_are_audited(marketer: User) -> None:
    rule = engagement_rule_create(actor=marketer, **GOOD)
    engagement_rule_update(rule=rule, actor=marketer, points=8, half_life_days=30.0)
    engagement_rule_update(rule=rule, actor=marketer, points=8)  # no change, no entry
    engagement_rule_delete(rule=rule, actor=marketer)
    actions = list(
        AuditEntry.objects.filter(actor=marketer, object_type="engagement_rule")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert [a for a, _ in actions] == [
        "engagement_rule.create",
        "engagement_rule.update",
        "engagement_rule.delete",
    ]
    assert actions[1][1]["points"] == ["5", "8"]


def test_clearing_the_property_key_clears_the_whole_match(db: Any) -> None:
    rule = engagement_rule_create(
        actor=None, **GOOD, property_key="url", operator="contains", property_value="/pricing"
    )
    engagement_rule_update(rule=rule, actor=None, property_key="", operator="", property_value="")
    rule.refresh_from_db()
    assert (rule.property_key, rule.operator, rule.property_value) == ("", "", "")
