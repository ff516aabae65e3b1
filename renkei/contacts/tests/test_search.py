from typing import Any

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
