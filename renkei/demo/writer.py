"""Bulk inserts of pre-generated rows: ``executemany`` in chunks on SQLite, COPY on PostgreSQL.

The ORM's ``bulk_create`` builds a model instance per row and one huge statement per
batch; at ten million events that costs more than the insert itself, so seeding writes
plain tuples straight to the tables.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.contacts.search import fts_ensure, fts_triggers_drop
from renkei.demo.world import TimeFormat

CHUNK = 10_000


class BulkWriter:
    """Writes rows of given columns into a model's table on the default connection."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        # SQLite keeps Django's naive-UTC text; PostgreSQL parses an explicit offset.
        self.fmt = TimeFormat(suffix="+00" if self.vendor == "postgresql" else "")

    @contextmanager
    def fast_session(self) -> Iterator[None]:
        """On SQLite, skip fsync for the seeding connection and give it a large page cache.

        A crash mid-seed can at worst lose the seed itself, which is rerun; the web
        server's own connections keep their durable settings.
        """
        if self.vendor != "sqlite" or connection.in_atomic_block:
            yield  # PRAGMAs must run outside a transaction
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-524288")  # 512 MB
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA cache_size=-65536")

    def insert(
        self, model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order); columns a later migration adds
        get their model default, so seeding keeps working as models grow."""
        if not rows:
            return
        extra_columns, extra_values = self._defaults(model, columns)
        if extra_values:
            rows = [row + extra_values for row in rows]
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in (*columns, *extra_columns))
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            marks = ", ".join(["%s"] * (len(columns) + len(extra_columns)))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (names from the model)
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[start : start + CHUNK])

    def _defaults(
        self, model: type[models.Model], columns: Sequence[str]
    ) -> tuple[list[str], tuple[Any, ...]]:
        names, values = [], []
        for f in model._meta.concrete_fields:
            if f.column in columns or f.primary_key or f.db_default is not NOT_PROVIDED:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = timezone.now()
            else:
                value = f.get_default()
            names.append(f.column)
            values.append(f.get_db_prep_save(value, connection))
        return names, tuple(values)

    @contextmanager
    def deferred_indexes(self, *model_list: type[models.Model]) -> Iterator[None]:
        """Drop the models' secondary indexes (``Meta.indexes``) for a bulk load and build
        each once at the end: a sorted build is several times cheaper than ten million
        random B-tree inserts. ``indexes_repair`` restores any a killed run left out."""
        with connection.schema_editor() as editor:
            for model in model_list:
                for index in model._meta.indexes:
                    editor.remove_index(model, index)
        if Contact in model_list:
            fts_triggers_drop(connection)  # one rebuild at the end beats a trigger per row
        try:
            yield
        finally:
            self.indexes_repair(*model_list)

    def indexes_repair(self, *model_list: type[models.Model]) -> list[str]:
        """Create the ``Meta.indexes`` missing from the database; returns their names."""
        missing: list[tuple[type[models.Model], models.Index]] = []
        with connection.cursor() as cursor:
            for model in model_list:
                found = connection.introspection.get_constraints(cursor, model._meta.db_table)
                missing += [(model, i) for i in model._meta.indexes if i.name not in found]
        if missing:
            with connection.schema_editor() as editor:
                for model, index in missing:
                    editor.add_index(model, index)
        if Contact in model_list:
            fts_ensure(connection)
        return [index.name for _, index in missing]

    def max_id(self, model: type[models.Model]) -> int:
        found = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return int(found or 0)

    def reset_sequences(self, *model_list: type[models.Model]) -> None:
        """Rows were inserted with explicit ids: move PostgreSQL's sequences past them
        (SQLite's AUTOINCREMENT follows explicit ids by itself)."""
        statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
