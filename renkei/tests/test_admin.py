"""The admin is a read-mostly window: every page renders, facts and the audit trail are
read-only, and no page counts a whole table."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.accounts.models import ApiToken, AuditEntry
from renkei.accounts.services import api_token_authenticate, api_token_create
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Company, Contact, LifecycleTransition
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event, Visitor
from renkei.events.services import EventInput, events_record
from renkei.lib.admin import CappedCountPaginator

pytestmark = pytest.mark.django_db

MODELS: list[type[Model]] = [
    Company,
    Contact,
    LifecycleTransition,
    Event,
    Visitor,
    Campaign,
    ApiToken,
    AuditEntry,
]
READ_ONLY: list[type[Model]] = [
    Company,
    Contact,
    LifecycleTransition,
    Event,
    Visitor,
    AuditEntry,
    ApiToken,
]


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser(db: object) -> User:
    # No password: hashing one costs half a second and force_login needs none.
    return User.objects.create_superuser(username="admin", email="admin@example.jp")


@pytest.fixture
def data(superuser: User) -> Contact:
    contact, _ = contact_upsert(
        email="taro@example.co.jp",
        actor=superuser,
        family_name="山田",
        company_name="株式会社ABC",
        lifecycle_stage="mql",
    )
    events_record(
        items=[
            EventInput(
                index=0,
                client_event_id="admin-1",
                type="page_view",
                occurred_at=datetime(2025, 4, 1, tzinfo=UTC),
                properties={},
                email="taro@example.co.jp",
                visitor_key="v-1",
            )
        ],
        actor=superuser,
    )
    Campaign.objects.create(name="展示会 2025", channel="trade_show")
    api_token_create(user=superuser, name="admin test")
    return contact


@pytest.fixture
def superuser_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_is_registered(model: type[Model]) -> None:
    assert site.is_registered(model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_list_and_detail_render(
    superuser_client: Client, data: Contact, model: type[Model]
) -> None:
    assert superuser_client.get(url(model, "changelist")).status_code == 200
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    assert superuser_client.get(url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_facts_and_audited_rows_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    superuser_client: Client, data: Contact, model: type[Model]
) -> None:
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    assert superuser_client.get(url(model, "add")).status_code == 403
    assert superuser_client.post(url(model, "change", row.pk), {}).status_code == 403
    assert superuser_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=row.pk).exists()


def test_audit_entry_cannot_be_edited(superuser_client: Client, data: Contact) -> None:
    entry = AuditEntry.objects.order_by("pk").first()
    assert entry is not None
    superuser_client.post(url(AuditEntry, "change", entry.pk), {"action": "forged"})
    entry.refresh_from_db()
    assert entry.action != "forged"


def test_change_lists_never_count_the_whole_table(superuser_client: Client, data: Contact) -> None:
    for model in MODELS:
        with CaptureQueriesContext(connection) as queries:
            superuser_client.get(url(model, "changelist"))
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert counts, model
        # Every count is over a LIMITed subquery, never the bare table.
        assert all("LIMIT" in sql.upper() for sql in counts), (model, counts)


def test_capped_paginator_stops_counting_at_the_cap(data: Contact) -> None:
    for i in range(5):
        AuditEntry.objects.create(action="x", object_type="t", object_id=i)
    paginator = CappedCountPaginator(AuditEntry.objects.order_by("-id"), per_page=2)
    paginator.cap = 3
    assert paginator.count == 4
    assert paginator.num_pages == 2


def test_contact_search_finds_by_email_and_by_kana_insensitive_name(
    superuser_client: Client, data: Contact
) -> None:
    page = superuser_client.get(url(Contact, "changelist"), {"q": "ＴＡＲＯ＠example.co.jp"})
    assert data in page.context["cl"].result_list
    page = superuser_client.get(url(Contact, "changelist"), {"q": "nobody@example.co.jp"})
    assert list(page.context["cl"].result_list) == []
    page = superuser_client.get(url(Contact, "changelist"), {"q": "山田"})
    assert data in page.context["cl"].result_list


def test_company_search_ignores_legal_form_and_width(
    superuser_client: Client, data: Contact
) -> None:
    page = superuser_client.get(url(Company, "changelist"), {"q": "ＡＢＣ㈱"})
    assert data.company in page.context["cl"].result_list


def test_audit_search_finds_an_objects_history(superuser_client: Client, data: Contact) -> None:
    page = superuser_client.get(url(AuditEntry, "changelist"), {"q": f"contact {data.pk}"})
    entries = list(page.context["cl"].result_list)
    assert entries
    assert all((e.object_type, e.object_id) == ("contact", data.pk) for e in entries)


def test_admin_revokes_tokens_through_the_audited_service(
    superuser_client: Client, superuser: User
) -> None:
    token, secret = api_token_create(user=superuser, name="leaked")
    response = superuser_client.post(
        url(ApiToken, "changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert api_token_authenticate(secret) is None
    assert AuditEntry.objects.filter(
        action="api_token.revoke", object_id=token.pk, actor_label="admin"
    ).exists()


def test_token_hash_is_not_shown(superuser_client: Client, superuser: User) -> None:
    token, _ = api_token_create(user=superuser, name="private")
    page = superuser_client.get(url(ApiToken, "change", token.pk))
    assert token.token_hash not in page.content.decode()


def test_campaign_saved_in_admin_is_audited(superuser_client: Client) -> None:
    form = {"name": "秋のウェビナー", "channel": "webinar", "cost": "120000"}
    for field in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"):
        form[field] = ""
    form.update(starts_on="", ends_on="")
    assert superuser_client.post(url(Campaign, "add"), form).status_code == 302
    campaign = Campaign.objects.get(name="秋のウェビナー")
    form["cost"] = "150000"
    assert superuser_client.post(url(Campaign, "change", campaign.pk), form).status_code == 302
    campaign.refresh_from_db()
    assert campaign.cost == 150000
    actions = list(
        AuditEntry.objects.filter(object_type="campaign", object_id=campaign.pk)
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [("campaign.create", "admin"), ("campaign.update", "admin")]


def test_campaign_cannot_be_deleted_in_admin(superuser_client: Client) -> None:
    campaign = Campaign.objects.create(name="x", channel="web")
    superuser_client.post(url(Campaign, "delete", campaign.pk), {"post": "yes"})
    assert Campaign.objects.filter(pk=campaign.pk).exists()
