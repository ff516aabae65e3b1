"""An FTS5 trigram index over ``Contact.search_text``, on SQLite only.

Migration 0002 gives PostgreSQL a pg_trgm index for the ``q`` filter (a substring search);
SQLite has no such index type, so a rare term (an exact email, a name nobody has) made the
filter read all the table: ~300 ms at a million contacts. FTS5's ``trigram`` tokenizer
(SQLite ≥ 3.34) indexes every three-character substring, which answers substring queries
of three characters or more; ``contacts.selectors.contacts_filtered`` says when it uses it.

The FTS table is external-content (it stores only the index; the text stays in
contacts_contact) and triggers keep it in step with every INSERT, DELETE and change of
search_text, whoever writes: the ORM, ``bulk_create``, or raw ``executemany`` (seed_demo).
Updates of other columns (score, stage) do not touch it.

Careful: SQLite drops a table's triggers with the table, and Django's SQLite schema editor
rebuilds a table (create, copy, drop, rename) for most ALTERs. A later migration that alters
contacts_contact must run ``create_triggers`` below again (the search tests in
contacts/tests/test_selectors.py fail when the triggers are missing).
"""

import sys

from django.db import OperationalError, migrations, transaction

# Spelled out rather than formatted: the statements read as the SQL they are.
CREATE_TABLE = """
CREATE VIRTUAL TABLE contacts_contact_fts USING fts5(
    search_text, content='contacts_contact', content_rowid='id',
    tokenize='trigram', columnsize=0
)
"""

# External content: deleting from the index needs the old text, exactly as it was indexed.
TRIGGERS = {
    "contacts_contact_fts_insert": """
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_insert AFTER INSERT ON contacts_contact
BEGIN
    INSERT INTO contacts_contact_fts(rowid, search_text) VALUES (new.id, new.search_text);
END
""",
    "contacts_contact_fts_delete": """
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_delete AFTER DELETE ON contacts_contact
BEGIN
    INSERT INTO contacts_contact_fts(contacts_contact_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END
""",
    "contacts_contact_fts_update": """
CREATE TRIGGER IF NOT EXISTS contacts_contact_fts_update
AFTER UPDATE OF id, search_text ON contacts_contact
WHEN old.id IS NOT new.id OR old.search_text IS NOT new.search_text
BEGIN
    INSERT INTO contacts_contact_fts(contacts_contact_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO contacts_contact_fts(rowid, search_text) VALUES (new.id, new.search_text);
END
""",
}


def create_triggers(schema_editor):
    for sql in TRIGGERS.values():
        schema_editor.execute(sql)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(CREATE_TABLE)
    except OperationalError as exc:
        # SQLite before 3.34 (no trigram tokenizer) or built without FTS5: the filter keeps
        # working (LIKE, slower); the selector checks whether the table exists.
        sys.stderr.write(
            f"\n  FTS5 trigram unavailable ({exc}); free-text search stays unindexed\n"
        )
        return
    create_triggers(schema_editor)
    # Index the rows that exist already (one pass over the table).
    schema_editor.execute(
        "INSERT INTO contacts_contact_fts(contacts_contact_fts) VALUES ('rebuild')"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    schema_editor.execute("DROP TABLE IF EXISTS contacts_contact_fts")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_search_trigram_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
