"""Trigram (pg_trgm) GIN indexes for the free-text filters, on PostgreSQL only.

``q`` is a substring search (``LIKE '%…%'``) over ``Contact.search_text`` and
``Company.name_normalized``; a B-tree cannot serve it, a trigram GIN index can. SQLite has
no such index: there the filter scans newest-first and stops at a page's worth of rows.
"""

import sys

from django.db import DatabaseError, migrations, transaction

INDEXES = [
    ("contact_search_trgm", "contacts_contact", "search_text"),
    ("company_name_trgm", "contacts_company", "name_normalized"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        # A database user that may not create extensions still gets a working (slower)
        # search. Later: CREATE EXTENSION pg_trgm as a superuser, then
        # `renkei migrate contacts 0001 && renkei migrate` builds the indexes.
        sys.stderr.write(f"\n  pg_trgm unavailable ({exc}); free-text search stays unindexed\n")
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
