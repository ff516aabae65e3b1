"""contacts_bulk_upsert: set-based create-or-update with rules, dedupe and audit."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign, Channel
from renkei.contacts.models import Company, Contact, LifecycleTransition
from renkei.contacts.services import company_upsert, contact_upsert
from renkei.contacts.services.bulk_upsert import (
    CHUNK_MAX,
    ContactRow,
    contacts_bulk_upsert,
)

pytestmark = pytest.mark.django_db


def row(email: str, **contact: str) -> ContactRow:
    company = {
        k.removeprefix("company_"): contact.pop(k)
        for k in list(contact)
        if k.startswith("company_")
    }
    return ContactRow(email=email, contact=contact, company=company)


def test_new_rows_create_normalised_contacts_with_company_transition_and_audit(
    marketer: Any,
) -> None:
    rows = [
        row(
            "Ｔａｒｏ@Example.co.jp",
            family_name="山田",
            given_name="太郎",
            family_name_kana="やまだ",
            phone="03-1234-5678",
            prefecture="東京",
            company_name="株式会社　ＡＢＣ",
        ),
        row("hanako@example.co.jp", family_name="佐藤", company_name="ABC㈱"),
    ]
    result = contacts_bulk_upsert(rows=rows, actor=marketer)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.outcomes == ["created", "created"]
    taro = Contact.objects.get(email_normalized="taro@example.co.jp")
    assert taro.family_name_kana == "ヤマダ"
    assert taro.phone == "+81312345678"
    assert taro.prefecture == "東京都"
    assert taro.source == "import"
    assert taro.lifecycle_stage == "lead"
    assert "山田太郎" in taro.search_text and "abc" in taro.search_text
    assert Company.objects.count() == 1  # both spellings of 株式会社ABC are one company
    assert (
        taro.company_id == Contact.objects.get(email_normalized="hanako@example.co.jp").company_id
    )
    assert LifecycleTransition.objects.filter(
        contact=taro, to_stage="lead", source="import"
    ).exists()
    entry = AuditEntry.objects.get(action="contact.create", object_id=taro.pk)
    assert entry.actor == marketer
    assert entry.changes["family_name"] == [None, "山田"]
    assert AuditEntry.objects.filter(action="company.create").count() == 1
    assert result.contact_ids == [taro.pk, taro.pk + 1]


def test_existing_company_is_found_by_name_variant_and_by_domain() -> None:
    abc, _ = company_upsert(actor=None, name="株式会社ABC")
    xyz, _ = company_upsert(actor=None, name="XYZ", domain="xyz.co.jp")
    result = contacts_bulk_upsert(
        rows=[
            row("a@example.jp", company_name="(株)ＡＢＣ"),
            row("b@example.jp", company_name="Other name", company_domain="https://www.xyz.co.jp/"),
        ],
        actor=None,
    )
    assert result.created == 2
    assert Company.objects.count() == 2
    ids = dict(Contact.objects.values_list("email_normalized", "company_id"))
    assert ids == {"a@example.jp": abc.pk, "b@example.jp": xyz.pk}


def test_rules_fill_overwrite_keep_on_an_existing_contact() -> None:
    contact, _ = contact_upsert(
        email="taro@example.jp", actor=None, family_name="山田", title="課長", department=""
    )
    result = contacts_bulk_upsert(
        rows=[
            row(
                "TARO@example.jp",
                family_name="山本",
                title="部長",
                department="営業部",
                given_name="太郎",
            )
        ],
        actor=None,
        rules={"family_name": "overwrite", "title": "keep"},
    )
    assert result.outcomes == ["updated"]
    contact.refresh_from_db()
    assert contact.family_name == "山本"  # overwrite
    assert contact.title == "課長"  # keep
    assert contact.department == "営業部"  # fill (default): was empty
    assert contact.given_name == "太郎"
    entry = AuditEntry.objects.get(action="contact.update", object_id=contact.pk)
    assert entry.changes["family_name"] == ["山田", "山本"]
    assert "title" not in entry.changes


def test_fill_rule_never_replaces_a_value_and_empty_cells_never_erase() -> None:
    contact, _ = contact_upsert(email="taro@example.jp", actor=None, family_name="山田")
    result = contacts_bulk_upsert(
        rows=[row("taro@example.jp", family_name="山本", title="")], actor=None
    )
    assert result.outcomes == ["unchanged"]
    contact.refresh_from_db()
    assert contact.family_name == "山田"


def test_same_rows_again_write_nothing() -> None:
    rows = [
        row(f"p{i}@example.jp", family_name="田中", company_name=f"会社{i % 3}") for i in range(20)
    ]
    first = contacts_bulk_upsert(rows=rows, actor=None)
    assert first.created == 20
    audits = AuditEntry.objects.count()
    updated_at = list(Contact.objects.order_by("pk").values_list("updated_at", flat=True))
    with CaptureQueriesContext(connection) as queries:
        again = contacts_bulk_upsert(rows=rows, actor=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)
    assert AuditEntry.objects.count() == audits
    assert list(Contact.objects.order_by("pk").values_list("updated_at", flat=True)) == updated_at
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []


def test_duplicate_emails_in_one_chunk_merge_in_file_order() -> None:
    result = contacts_bulk_upsert(
        rows=[
            row("dup@example.jp", family_name="山田"),
            row("DUP@example.jp", family_name="山本", title="部長"),
        ],
        actor=None,
    )
    assert result.outcomes == ["created", "updated"]
    assert result.contact_ids[0] == result.contact_ids[1]
    contact = Contact.objects.get()
    assert (contact.family_name, contact.title) == ("山田", "部長")  # first value kept (fill)
    assert AuditEntry.objects.filter(action="contact.create").count() == 1


def test_bad_values_are_reported_by_field_and_good_rows_still_written() -> None:
    result = contacts_bulk_upsert(
        rows=[
            row("not-an-email", family_name="山田"),
            row("ok@example.jp", family_name="佐藤"),
            row("bad-phone@example.jp", phone="12"),
            row("long@example.jp", title="x" * 201),
            ContactRow(email="stage@example.jp", lifecycle_stage="hot"),
            ContactRow(email=""),
        ],
        actor=None,
    )
    assert result.created == 1
    fields = [(e.index, e.field) for e in result.errors]
    assert fields == [
        (0, "email"),
        (2, "phone"),
        (3, "title"),
        (4, "lifecycle_stage"),
        (5, "email"),
    ]
    assert result.outcomes == ["error", "created", "error", "error", "error", "error"]
    assert Contact.objects.get().email_normalized == "ok@example.jp"


def test_stage_and_first_touch_apply_to_new_contacts_only() -> None:
    campaign = Campaign.objects.create(name="展示会2025", channel=Channel.TRADE_SHOW)
    old, _ = contact_upsert(email="old@example.jp", actor=None, lifecycle_stage="sql")
    at = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
    contacts_bulk_upsert(
        rows=[
            ContactRow(email="old@example.jp", lifecycle_stage="subscriber", touched_at=at),
            ContactRow(email="new@example.jp", lifecycle_stage="mql", touched_at=at),
        ],
        actor=None,
        campaign_id=campaign.pk,
    )
    old.refresh_from_db()
    assert old.lifecycle_stage == "sql"
    assert old.first_campaign_id is None
    new = Contact.objects.get(email_normalized="new@example.jp")
    assert new.lifecycle_stage == "mql"
    assert new.first_campaign_id == campaign.pk
    assert new.first_touch_at == at


def test_properties_merge_per_key_with_rules() -> None:
    contact, _ = contact_upsert(email="p@example.jp", actor=None, properties={"booth": "A1"})
    contacts_bulk_upsert(
        rows=[ContactRow(email="p@example.jp", properties={"booth": "B2", "interest": "MA"})],
        actor=None,
    )
    contact.refresh_from_db()
    assert contact.properties == {"booth": "A1", "interest": "MA"}
    contacts_bulk_upsert(
        rows=[ContactRow(email="p@example.jp", properties={"booth": "B2"})],
        actor=None,
        rules={"property:booth": "overwrite"},
    )
    contact.refresh_from_db()
    assert contact.properties["booth"] == "B2"


def test_query_count_does_not_grow_with_rows() -> None:
    def run(count: int, offset: int) -> int:
        rows = [
            row(f"q{offset + i}@example.jp", family_name="鈴木", company_name=f"社{offset + i}")
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            contacts_bulk_upsert(rows=rows, actor=None)
        return len(queries)

    # Fixed per chunk; bulk inserts split only by the database's parameter limit.
    assert run(5, 0) == run(30, 100)
    assert run(300, 1000) < 30


def test_more_rows_than_a_chunk_are_refused() -> None:
    with pytest.raises(ValueError):
        contacts_bulk_upsert(rows=[ContactRow(email="a@b.jp")] * (CHUNK_MAX + 1), actor=None)
