from typing import Any

import pytest
from django.db import connection

from renkei.contacts.search import fts_ensure, fts_triggers_drop
from renkei.contacts.selectors import ContactFilters, contacts_filtered
from renkei.contacts.services import contact_upsert


def _found(q: str) -> list[str]:
    return list(contacts_filtered(ContactFilters(q=q)).values_list("email", flat=True))


def test_contacts_written_while_the_search_triggers_were_off_are_found_after_ensure(
    marketer: Any,
) -> None:
    fts_triggers_drop(connection)  # what a bulk load or a table rebuild leaves behind
    contact_upsert(
        email="kumamoto@example.jp", actor=marketer, family_name="熊本", given_name="栄光"
    )
    assert fts_ensure(connection) is (connection.vendor == "sqlite")
    assert _found("熊本栄光") == ["kumamoto@example.jp"]
    assert fts_ensure(connection) is False  # nothing left to repair
    contact_upsert(email="later@example.jp", actor=marketer, family_name="後藤久美子")
    assert _found("後藤久美子") == ["later@example.jp"]  # triggers are back


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.mark.django_db(transaction=False)
def test_exact_company_name_lookups_use_the_btree_and_search_the_trigram_index(
    marketer: Any,
) -> None:
    """Company matching looks names up by equality; with the trigram index on the bare
    column PostgreSQL used it for that too, at ~8 ms a name (0007 moved it to lower())."""
    from django.db.models.functions import Lower

    from renkei.contacts.models import Company
    from renkei.contacts.selectors import CompanyFilters, companies_filtered
    from renkei.lib.japanese import normalize_company_name

    for name in ("株式会社さくら工業", "富士工業株式会社", "㈱大阪工業"):
        Company.objects.create(name=name, name_normalized=normalize_company_name(name))
    exact = Company.objects.filter(name_normalized__in=["さくら工業", "大阪工業"]).values("id")
    search = companies_filtered(CompanyFilters(q="工業")).values("id")
    found = Company.objects.filter(pk__in=search).values_list("name", flat=True)
    assert sorted(found) == sorted(["株式会社さくら工業", "富士工業株式会社", "㈱大阪工業"])
    assert exact.count() == 2
    if connection.vendor == "postgresql":
        # The planner may pick any index that serves "=": the trigram one must not.
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'company_name_trgm'")
            assert "lower((name_normalized)::text)" in cursor.fetchone()[0]
        assert "company_name_trgm" not in _plan(exact)
        assert "name_normalized_" in _plan(exact)  # the B-tree
        by_name = (
            Company.objects.alias(k=Lower("name_normalized"))
            .filter(k__contains="さくら工")
            .order_by()
        )
        assert "company_name_trgm" in _plan(by_name.values("id"))
    else:
        assert "contacts_company_name_normalized" in _plan(exact)
