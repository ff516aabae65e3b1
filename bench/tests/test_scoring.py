"""The scoring benchmark's rules are valid rules, and its defaults are the issue's."""

from typing import Any

from bench.scoring import RULES, _parser
from renkei.scoring.services import engagement_rule_create


def test_benchmark_rules_pass_the_service_checks(db: Any) -> None:
    made = [engagement_rule_create(actor=None, **rule) for rule in RULES]
    assert {r.event_type for r in made} >= {"page_view", "email_open", "form_submit"}


def test_defaults() -> None:
    args = _parser().parse_args([])
    assert (args.contacts, args.events_per_contact, args.database) == (100_000, 10.0, "sqlite")
