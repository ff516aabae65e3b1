"""Contacts selectors: the filters the API list and the HTML list share, and keyset pages."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renkei.campaigns.models import Campaign
from renkei.contacts import selectors
from renkei.contacts.models import Contact
from renkei.contacts.selectors import (
    CompanyFilters,
    ContactFilters,
    companies_filtered,
    contact_get,
    contact_transitions,
    contacts_filtered,
    keyset_page,
)
from renkei.contacts.services import (
    _search_text,
    company_delete,
    company_update,
    company_upsert,
    contact_change_stage,
    contact_delete,
    contact_merge,
    contact_scores_set,
    contact_update,
    contact_upsert,
    contacts_ensure_for_emails,
)

pytestmark = pytest.mark.django_db


def _emails(filters: ContactFilters) -> list[str]:
    return [c.email for c in contacts_filtered(filters)]


@pytest.fixture
def yamada(marketer: Any) -> Contact:
    contact, _ = contact_upsert(
        email="Taro@Example.jp",
        actor=marketer,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        company_name="株式会社ＡＢＣ商事",
    )
    return contact


@pytest.mark.parametrize(
    "needle",
    ["山田太郎", "山田 太郎", "やまだ", "ヤマダタロウ", "ﾔﾏﾀﾞ", "TARO@", "ａｂｃ商事", "abc"],
)
def test_free_text_finds_names_kana_email_and_company_in_any_width(
    yamada: Contact, needle: str
) -> None:
    assert _emails(ContactFilters(q=needle)) == ["Taro@Example.jp"]


def test_free_text_that_matches_nothing_finds_nothing(yamada: Contact) -> None:
    assert _emails(ContactFilters(q="佐藤")) == []


def test_filters_combine(marketer: Any, sales_rep: Any) -> None:
    lead, _ = contact_upsert(email="lead@example.jp", actor=marketer)
    mql, _ = contact_upsert(email="mql@example.jp", actor=marketer, lifecycle_stage="mql")
    owned, _ = contact_upsert(
        email="owned@example.jp", actor=marketer, lifecycle_stage="mql", owner=sales_rep
    )
    contact_scores_set({lead.pk: 10, mql.pk: 50, owned.pk: 90})
    assert _emails(ContactFilters(stages=["mql"])) == [owned.email, mql.email]
    assert _emails(ContactFilters(stages=["mql"], owner_id=0)) == [mql.email]
    assert _emails(ContactFilters(owner_id=sales_rep.pk)) == [owned.email]
    assert _emails(ContactFilters(score_min=20, score_max=60)) == [mql.email]
    Contact.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(days=10))
    week_ago = timezone.now() - timedelta(days=7)
    assert _emails(ContactFilters(created_to=week_ago)) == [lead.email]
    assert lead.email not in _emails(ContactFilters(created_from=week_ago))


def test_filter_errors_name_the_field() -> None:
    now = timezone.now()
    errors = ContactFilters(
        stages=["lead", "hot"],
        score_min=5,
        score_max=1,
        created_from=now,
        created_to=now - timedelta(days=1),
    ).errors()
    assert set(errors) == {"stage", "score_max", "created_to"}
    assert "hot" in errors["stage"]
    assert ContactFilters(stages=["lead"], score_min=1, score_max=1).errors() == {}


def test_keyset_pages_cover_every_row_once_and_end_with_no_cursor(marketer: Any) -> None:
    ids = [contact_upsert(email=f"k{i}@example.jp", actor=marketer)[0].pk for i in range(5)]
    qs = contacts_filtered(ContactFilters())
    first, cursor = keyset_page(qs, after=None, limit=2)
    second, cursor2 = keyset_page(qs, after=cursor, limit=2)
    third, cursor3 = keyset_page(qs, after=cursor2, limit=2)
    assert [c.pk for c in first + second + third] == sorted(ids, reverse=True)
    assert cursor3 is None
    exact, none = keyset_page(qs, after=None, limit=5)
    assert len(exact) == 5 and none is None


def test_list_and_detail_load_company_and_owner(
    yamada: Contact, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        rows = list(contacts_filtered(ContactFilters()))
        assert rows[0].company is not None and rows[0].owner is None
    with django_assert_num_queries(1):
        found = contact_get(yamada.pk)
        assert found is not None and found.company is not None
    assert contact_get(yamada.pk + 1) is None


def test_contact_page_loads_the_first_campaign_with_the_contact(
    yamada: Contact, django_assert_num_queries: Any
) -> None:
    campaign = Campaign.objects.create(name="展示会 2026", channel="trade_show")
    Contact.objects.filter(pk=yamada.pk).update(first_campaign=campaign)
    with django_assert_num_queries(1):
        found = contact_get(yamada.pk)
        assert found is not None and found.first_campaign is not None
        assert found.first_campaign.name == "展示会 2026"


def test_transitions_come_newest_first_with_actor(yamada: Contact, marketer: Any) -> None:
    contact_change_stage(contact=yamada, to_stage="mql", actor=marketer)
    history = list(contact_transitions(yamada.pk))
    assert [t.to_stage for t in history] == ["mql", "lead"]
    assert history[0].actor == marketer


def test_company_filters(marketer: Any, sales_rep: Any) -> None:
    company_upsert(
        actor=marketer, name="株式会社ABC", domain="abc.co.jp", industry="it", prefecture="東京都"
    )
    company_upsert(actor=marketer, name="XYZ㈱", industry="retail")

    def names(**filters: Any) -> list[str]:
        return [c.name for c in companies_filtered(CompanyFilters(**filters))]

    assert names(q="(株)ａｂｃ") == ["株式会社ABC"]
    assert names(q="abc.co") == ["株式会社ABC"]
    assert names(industry="retail") == ["XYZ(株)"]
    assert names(prefecture="東京") == ["株式会社ABC"]
    assert names(owner_id=0) == ["XYZ(株)", "株式会社ABC"]
    errors = CompanyFilters(industry="mining", prefecture="ムー").errors()
    assert set(errors) == {"industry", "prefecture"}
    assert CompanyFilters(prefecture="Tokyo").errors() == {}


# ---- free-text search: LIKE, the pg_trgm index, the SQLite FTS5 trigram index ----------


def _found(q: str, **filters: Any) -> list[str]:
    """Emails ``q`` finds, after checking that the search index still mirrors the table."""
    _assert_search_index_in_step()
    return sorted(_emails(ContactFilters(q=q, **filters)))


def _assert_search_index_in_step() -> None:
    """On SQLite, the FTS index holds exactly the search_text of every contact (FTS5's
    integrity check with rank 1 compares it with the content table); nothing elsewhere."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact_fts(contacts_contact_fts, rank)"
            " VALUES ('integrity-check', 1)"
        )


@pytest.mark.parametrize(
    "needle",
    ["ヤマダ", "やまだ", "たろう", "山田", "山田太郎", "taro@", "example.jp", "ＡＢＣ商事", "商事"],
)
def test_search_finds_kana_in_either_script_kanji_email_and_company(
    yamada: Contact, needle: str
) -> None:
    # Two-character needles take the LIKE path on SQLite, longer ones the trigram index.
    assert _found(needle) == ["Taro@Example.jp"]


def test_search_follows_updates_renames_and_deletes(yamada: Contact, marketer: Any) -> None:
    contact_update(contact=yamada, actor=marketer, family_name="佐藤", family_name_kana="サトウ")
    assert _found("山田太郎") == [] and _found("やまだ") == []
    assert _found("佐藤太郎") == _found("さとう") == ["Taro@Example.jp"]
    company = yamada.company
    assert company is not None
    company_update(company=company, actor=marketer, name="株式会社ＸＹＺ物産")
    assert _found("abc商事") == [] and _found("xyz物産") == ["Taro@Example.jp"]
    company_delete(company=company, actor=marketer)
    assert _found("xyz物産") == [] and _found("taro@example") == ["Taro@Example.jp"]
    contact_delete(contact=yamada, actor=marketer)
    assert _found("taro@example") == [] and _found("さとう") == []


def test_search_finds_merged_and_bulk_created_contacts(marketer: Any) -> None:
    winner, _ = contact_upsert(email="winner@example.jp", actor=marketer)
    loser, _ = contact_upsert(email="loser@example.jp", actor=marketer, family_name="鈴木")
    contact_merge(winner=winner, loser=loser, actor=marketer)
    assert _found("loser@") == [] and _found("鈴木") == ["winner@example.jp"]
    contacts_ensure_for_emails(emails={"visitor@example.jp"}, actor=None, source="events")
    assert _found("visitor@") == ["visitor@example.jp"]


def test_search_finds_rows_inserted_with_raw_sql() -> None:
    # seed_demo writes contacts with executemany, past the ORM: the triggers index them.
    email = "ito@seed.example.jp"
    search_text = _search_text(
        Contact(family_name="伊藤", family_name_kana="イトウ", email_normalized=email)
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO contacts_contact (email, email_normalized, family_name, given_name,"
            " family_name_kana, given_name_kana, department, title, phone, prefecture,"
            " lifecycle_stage, source, properties, search_text, created_at, updated_at)"
            " VALUES (%s, %s, %s, '', %s, '', '', '', '', '', 'lead', 'seed', '{}', %s, %s, %s)",
            [(email, email, "伊藤", "イトウ", search_text, now, now)],
        )
    assert _found("いとう") == _found("ito@seed") == [email]


def test_search_needle_with_quotes_and_fts_syntax_is_taken_literally(marketer: Any) -> None:
    contact_upsert(email="q@example.jp", actor=marketer, company_name='"AND"NEAR* OR')
    assert _found('"and"') == _found('d"near*') == _found("＂ＡＮＤ＂") == ["q@example.jp"]
    assert _found('"x"') == [] and _found('""') == [] and _found("*)") == []


def test_search_on_a_common_term_and_a_long_needle_gives_the_same_rows(
    marketer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        contact_upsert(email=f"taro{n}@example.co.jp", actor=marketer, family_name="山田")
    contact_upsert(email="hanako@example.co.jp", actor=marketer, lifecycle_stage="mql")
    everyone = [f"taro{n}@example.co.jp" for n in range(6)] + ["hanako@example.co.jp"]
    # A budget this small makes "example" common: LIKE answers instead of the index.
    monkeypatch.setattr(selectors, "SEARCH_FTS_BUDGET", 12)
    assert _found("example") == sorted(everyone)
    assert _found("example", stages=["mql"]) == ["hanako@example.co.jp"]
    monkeypatch.undo()
    # Longer than the index window: the window's matches, then the whole needle checked.
    assert _found("taro3@example.co.jp") == ["taro3@example.co.jp"]
    assert _found("ro3@example.co.jp") == ["taro3@example.co.jp"]
    assert _found("hanako@example.co.jp.x") == []


def test_search_uses_the_trigram_index_on_sqlite_and_stops_early_on_no_match(
    yamada: Contact,
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert _emails(ContactFilters(q="存在しない名前")) == []
    if connection.vendor == "sqlite":
        assert len(queries) <= 2  # the table check (once per process) and the probe
        assert "contacts_contact_fts" in queries[-1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        assert _emails(ContactFilters(q="やまだ")) == ["Taro@Example.jp"]
    uses_index = any("contacts_contact_fts" in q["sql"] for q in queries)
    assert uses_index == (connection.vendor == "sqlite")
