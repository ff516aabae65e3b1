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

The SQL and its upkeep live in ``renkei.contacts.search``.
"""

import sys

from django.db import OperationalError, migrations, transaction

from renkei.contacts.search import CREATE_TABLE, fts_rebuild, fts_triggers_create, fts_triggers_drop


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
    fts_triggers_create(schema_editor.connection)
    fts_rebuild(schema_editor.connection)  # the rows that exist already


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    fts_triggers_drop(schema_editor.connection)
    schema_editor.execute("DROP TABLE IF EXISTS contacts_contact_fts")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_search_trigram_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
