"""Contacts selectors: the filters the API list and the HTML list share, and keyset pages."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

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
from renkei.contacts.services import company_upsert, contact_change_stage, contact_upsert

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
    lead, _ = contact_upsert(email="lead@example.jp", actor=marketer, score=10)
    mql, _ = contact_upsert(email="mql@example.jp", actor=marketer, lifecycle_stage="mql", score=50)
    owned, _ = contact_upsert(
        email="owned@example.jp", actor=marketer, lifecycle_stage="mql", owner=sales_rep, score=90
    )
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
