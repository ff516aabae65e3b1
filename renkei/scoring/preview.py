"""The backtest preview shown above the save button of the rule and policy forms."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from renkei.scoring.backtest import (
    Backtest,
    PolicyLike,
    PropertyMissing,
    RuleLike,
    SnapshotMissing,
    backtest,
)
from renkei.scoring.engine import active_rules
from renkei.scoring.models import EngagementRule

BUILD_QUEUED_KEY = "renkei:backtest:build-queued"
BUILD_QUEUED_FOR_S = 300  # one queued build at a time is enough


@dataclass(frozen=True)
class Preview:
    """A backtest result, or why there is none yet (``problem``)."""

    result: Backtest | None
    problem: str = ""


def _queue_build(extra_keys: Sequence[str] = ()) -> None:
    from renkei.scoring.tasks import backtest_snapshot_refresh

    if cache.add(BUILD_QUEUED_KEY + ",".join(extra_keys), 1, BUILD_QUEUED_FOR_S):
        backtest_snapshot_refresh.enqueue(list(extra_keys))


def preview_run(
    *,
    rules_before: Sequence[RuleLike],
    rules_after: Sequence[RuleLike],
    policy_before: PolicyLike,
    policy_after: PolicyLike,
) -> Preview:
    try:
        return Preview(
            backtest(
                rules_before=rules_before,
                rules_after=rules_after,
                policy_before=policy_before,
                policy_after=policy_after,
            )
        )
    except SnapshotMissing:
        _queue_build()
        return Preview(
            None,
            _(
                "There is no backtest data yet. It is being built from all contacts and "
                "events now (about a minute per million contacts); preview again shortly."
            ),
        )
    except PropertyMissing as missing:
        _queue_build([missing.key])
        return Preview(
            None,
            _(
                "The backtest data does not hold the event property “%(key)s” yet. It is "
                "being added now (about a minute per million contacts); preview again shortly."
            )
            % {"key": missing.key},
        )


def rule_change_preview(
    *, rule: EngagementRule | None, values: dict[str, Any], policy: PolicyLike
) -> Preview:
    """What saving ``values`` into ``rule`` (None: a new rule) would do, under ``policy``."""
    before = active_rules()
    proposed = EngagementRule(**values)
    after = [r for r in before if rule is None or r.pk != rule.pk]
    if proposed.active:
        after.append(proposed)
    return preview_run(
        rules_before=before, rules_after=after, policy_before=policy, policy_after=policy
    )


def rule_delete_preview(*, rule: EngagementRule, policy: PolicyLike) -> Preview:
    before = active_rules()
    after = [r for r in before if r.pk != rule.pk]
    return preview_run(
        rules_before=before, rules_after=after, policy_before=policy, policy_after=policy
    )


def policy_change_preview(*, policy_before: PolicyLike, policy_after: PolicyLike) -> Preview:
    rules = active_rules()
    return preview_run(
        rules_before=rules,
        rules_after=rules,
        policy_before=policy_before,
        policy_after=policy_after,
    )
