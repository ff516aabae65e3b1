"""The SQLite FTS5 trigram index over ``Contact.search_text`` (PostgreSQL uses pg_trgm).

The FTS table is external-content (it stores only the index; the text stays in
contacts_contact) and triggers keep it in step with every INSERT, DELETE and change of
search_text, whoever writes: the ORM, ``bulk_create`` or raw ``executemany``.

SQLite drops a table's triggers with the table, and Django's SQLite schema editor rebuilds a
table for most ALTERs; a bulk load may also drop them on purpose (rebuilding the index once
is ~4× cheaper than a trigger per row). ``fts_ensure`` puts them back and re-indexes, and runs
after every ``migrate``, so neither leaves search silently incomplete.
"""

# ruff: noqa: S608  (the SQL is built from constants only, never from input)
from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "contacts_contact_fts"

CREATE_TABLE = f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
    search_text, content='contacts_contact', content_rowid='id',
    tokenize='trigram', columnsize=0
)
"""

# External content: deleting from the index needs the old text, exactly as it was indexed.
TRIGGERS = {
    "contacts_contact_fts_insert": f"""
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_insert AFTER INSERT ON contacts_contact
BEGIN
    INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
END
""",
    "contacts_contact_fts_delete": f"""
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_delete AFTER DELETE ON contacts_contact
BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END
""",
    "contacts_contact_fts_update": f"""
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_update
AFTER UPDATE OF id, search_text ON contacts_contact
WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text
BEGIN
    INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
END
""",
}


def _names(connection: BaseDatabaseWrapper, kind: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {row[0] for row in cursor.fetchall()}


def fts_exists(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "sqlite" and FTS_TABLE in _names(connection, "table")


def fts_triggers_create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in TRIGGERS.values():
            cursor.execute(sql)


def fts_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    """For a bulk load: rows inserted meanwhile are indexed by ``fts_ensure`` afterwards."""
    if fts_exists(connection):
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def fts_rebuild(connection: BaseDatabaseWrapper) -> None:
    """Index every row again (one pass over the table: ~45 s at a million contacts)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def fts_ensure(connection: BaseDatabaseWrapper) -> bool:
    """Re-index and recreate the triggers when any is missing; True if it had to."""
    if not fts_exists(connection) or set(TRIGGERS) <= _names(connection, "trigger"):
        return False
    fts_rebuild(connection)
    fts_triggers_create(connection)
    return True
