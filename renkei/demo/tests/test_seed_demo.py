"""seed_demo: a plausible, deterministic Japanese B2B data set that the services can use."""

import itertools
import random
import re
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from renkei.accounts.roles import user_role
from renkei.campaigns.models import Campaign, Channel
from renkei.contacts.models import (
    Company,
    Contact,
    LifecycleStage,
    LifecycleTransition,
    stage_is_backward,
)
from renkei.contacts.selectors import ContactFilters, contacts_filtered
from renkei.contacts.services import _search_text, contact_upsert
from renkei.demo import vocabulary, world
from renkei.demo.services import (
    DEMO_PASSWORD,
    DEMO_USERS,
    INDEXED,
    DemoDataExists,
    demo_seed,
)
from renkei.demo.writer import BulkWriter
from renkei.events.models import Event, EventType, Visitor
from renkei.lib import japanese as ja

UNTIL = date(2026, 3, 31)
KATAKANA = re.compile(r"^[ァ-ヶー]+$")


def seed(contacts: int = 200, seed: int = 7, **kwargs: Any) -> Any:
    return demo_seed(contacts=contacts, seed=seed, until=UNTIL, **kwargs)


@pytest.mark.django_db
def test_seed_creates_companies_contacts_campaigns_and_a_year_of_events() -> None:
    summary = seed()
    assert Contact.objects.count() == summary.contacts == 200
    assert Company.objects.count() == summary.companies == 25
    assert Event.objects.count() == summary.events
    assert 1000 <= summary.events <= 4000  # about ten per contact, skewed
    assert set(Campaign.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Event.objects.values_list("type", flat=True)) == set(EventType.values)
    stages = set(Contact.objects.values_list("lifecycle_stage", flat=True))
    assert stages == set(LifecycleStage.values)
    assert Visitor.objects.filter(contact=None).exists()  # anonymous browsers too


@pytest.mark.django_db
def test_every_contact_is_normalised_like_the_services_would_store_it() -> None:
    seed()
    for contact in Contact.objects.select_related("company"):
        assert contact.email_normalized == ja.normalize_email(contact.email)
        assert contact.company is not None
        assert contact.email.endswith("@" + contact.company.domain)
        assert KATAKANA.match(contact.family_name_kana), contact.family_name_kana
        assert KATAKANA.match(contact.given_name_kana), contact.given_name_kana
        assert contact.search_text == _search_text(contact)
        assert contact.prefecture in ja.PREFECTURES
        if contact.phone:
            assert ja.parse_phone(contact.phone) == contact.phone
    for company in Company.objects.all():
        assert company.name_normalized == ja.normalize_company_name(company.name)
        assert ja.parse_phone(company.phone) == company.phone
        assert company.employee_count and company.employee_count > 0


def test_generated_phone_numbers_are_valid_in_every_prefecture() -> None:
    rng = random.Random(1)
    for _, _, area_code in vocabulary.PREFECTURE_INFO.values():
        for _ in range(30):
            number = world.landline(rng, area_code)
            assert ja.parse_phone(number) == number
            assert number.startswith("+81" + area_code)
    for _ in range(100):
        number = world.mobile(rng)
        assert ja.parse_phone(number) == number


@pytest.mark.django_db
def test_seeded_contacts_are_found_by_filters_and_deduplicated_by_email() -> None:
    seed(contacts=50)
    contact = Contact.objects.order_by("id").first()
    assert contact is not None
    by_kana = contacts_filtered(ContactFilters(q=contact.family_name_kana))
    assert contact in by_kana
    same, created = contact_upsert(email=contact.email.upper(), actor=None)
    assert (same.pk, created) == (contact.pk, False)


@pytest.mark.django_db
def test_stage_history_leads_to_the_current_stage_with_reasons_for_backward_moves() -> None:
    seed()
    history: dict[int, list[LifecycleTransition]] = {}
    for t in LifecycleTransition.objects.order_by("occurred_at", "id"):
        history.setdefault(t.contact_id, []).append(t)
    backward = 0
    for contact in Contact.objects.all():
        path = history[contact.pk]
        assert path[0].from_stage == ""
        for before, after in itertools.pairwise(path):
            assert after.from_stage == before.to_stage
            assert after.occurred_at > before.occurred_at
            if stage_is_backward(after.from_stage, after.to_stage):
                assert after.reason
                backward += 1
        assert path[-1].to_stage == contact.lifecycle_stage
        assert path[-1].occurred_at == contact.lifecycle_stage_changed_at
    assert backward > 0


@pytest.mark.django_db
def test_contacts_past_mql_are_owned_by_the_sales_reps() -> None:
    seed()
    reps = set(User.objects.filter(groups__name="sales").values_list("id", flat=True))
    worked = Contact.objects.filter(lifecycle_stage__in=["sal", "sql", "opportunity", "customer"])
    assert worked.exists()
    assert set(worked.values_list("owner_id", flat=True)) <= reps
    assert not Contact.objects.filter(lifecycle_stage="subscriber").exclude(owner=None).exists()


def _snapshot() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    return (
        list(Company.objects.order_by("id").values_list("name", "domain", "employee_count")),
        [
            (c.email, c.lifecycle_stage, c.score)
            for c in Contact.objects.with_score().order_by("id")
        ],
        list(
            Event.objects.order_by("client_event_id").values_list(
                "client_event_id", "type", "occurred_at", "properties"
            )
        ),
        list(
            # Today's deal work goes through the deals services: stamped now, not seeded.
            LifecycleTransition.objects.exclude(source="deal")
            .order_by("contact_id", "occurred_at")
            .values_list("contact_id", "to_stage", "occurred_at", "reason")
        ),
    )


def _erase_demo_data() -> None:
    for model in (Event, Visitor, LifecycleTransition, Contact, Company, Campaign):
        model.objects.all().delete()


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    seed(contacts=120, seed=3)
    first = _snapshot()
    _erase_demo_data()
    seed(contacts=120, seed=3)
    assert _snapshot() == first
    _erase_demo_data()
    seed(contacts=120, seed=4)
    assert _snapshot()[1] != first[1]


@pytest.mark.django_db
def test_demo_users_have_their_roles_and_can_log_in() -> None:
    seed(contacts=20)
    for username, role, _, _ in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user_role(user) == role
        assert Client().login(username=username, password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_refuses_a_database_with_contacts_unless_forced_then_adds() -> None:
    contact_upsert(email="existing@example.jp", actor=None)
    with pytest.raises(DemoDataExists):
        seed(contacts=30)
    summary = seed(contacts=30, force=True)
    assert Contact.objects.count() == 1 + summary.contacts
    seed(contacts=30, force=True)  # a second additive run finds free domains and ids
    assert Contact.objects.count() == 61


@pytest.mark.django_db
def test_command_skips_a_loaded_database_with_if_empty_and_prints_logins() -> None:
    out = StringIO()
    call_command(
        "seed_demo", "--contacts", "25", "--no-progress", "--until", "2026-03-31", stdout=out
    )
    assert "25 contacts" in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue() and "sales2" in out.getvalue()
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", "--contacts", "25", "--no-progress", stdout=StringIO())
    skipped = StringIO()
    call_command("seed_demo", "--if-empty", "--no-progress", stdout=skipped)
    assert "already exist" in skipped.getvalue()
    assert Contact.objects.count() == 25


@pytest.mark.django_db
def test_the_demo_comes_scored_with_its_rules_and_backtest_data() -> None:
    from renkei.demo.scoring import DEMO_RULES
    from renkei.scoring.backtest import snapshot_load
    from renkei.scoring.models import EngagementRule

    out = StringIO()
    call_command("seed_demo", "--contacts", "40", "--no-progress", stdout=out)
    assert EngagementRule.objects.count() == len(DEMO_RULES)
    assert Contact.objects.filter(score_row__score__gt=0).exists()
    assert "rescored 40 contacts" in out.getvalue()
    assert snapshot_load().contacts == 40
    # New MQLs get SLA clocks: the demo agreement is approved by both sides.
    from renkei.sla.selectors import agreement_active

    agreement = agreement_active()
    assert agreement is not None
    approvers = (agreement.approved_by_marketing, agreement.approved_by_sales)
    assert [u.username if u else None for u in approvers] == ["marketing", "manager"]
    # A second data set added with --force keeps the rules the site has.
    call_command("seed_demo", "--contacts", "5", "--force", "--no-progress", "--no-rescore",
                 stdout=StringIO())  # fmt: skip
    assert EngagementRule.objects.count() == len(DEMO_RULES)


@pytest.mark.django_db(transaction=True)
def test_bulk_load_builds_indexes_at_the_end_and_repairs_missing_ones() -> None:
    summary = seed(contacts=60, bulk_load=True)  # generated in a child process
    assert Contact.objects.count() == summary.contacts == 60
    writer = BulkWriter()
    assert writer.indexes_repair(*INDEXED) == []  # all built again
    with connection.schema_editor() as editor:
        editor.remove_index(Event, Event._meta.indexes[0])
    assert writer.indexes_repair(*INDEXED) == [Event._meta.indexes[0].name]
