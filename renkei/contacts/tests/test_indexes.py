"""The contacts table carries no index that another already serves: each one more is
written on every owner change (routing 10,000 MQLs rewrites 10,000 rows)."""

from typing import Any

from django.db import connection


def test_owner_and_company_are_indexed_once_with_the_id(db: Any) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "contacts_contact")
    indexed = [info["columns"] for info in constraints.values() if info["index"]]
    for column in ("owner_id", "company_id"):
        assert [column] not in indexed
        assert [column, "id"] in indexed
