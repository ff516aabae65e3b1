"""The score moves from the contacts table to its own narrow table (non-zero scores only)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def copy_scores(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(
        "INSERT INTO contacts_contactscore (contact_id, score) "
        "SELECT id, score FROM contacts_contact WHERE score <> 0"
    )


def copy_back(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(
        "UPDATE contacts_contact SET score = (SELECT s.score FROM contacts_contactscore s "
        "WHERE s.contact_id = contacts_contact.id) WHERE id IN "
        "(SELECT contact_id FROM contacts_contactscore)"
    )


def score_storage(apps: Any, schema_editor: Any) -> None:
    """SQLite: an index on (score, contact) for score ranges (the full rescore rebuilds it
    once per swap). PostgreSQL: no index on the score, and half of each page left free, so
    that the full rescore's UPDATE of a changed score stays on its page without touching
    an index (a HOT update); score ranges scan this narrow table instead."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX contactscore_score ON contacts_contactscore (score, contact_id)"
        )
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE contacts_contactscore SET (fillfactor = 50)")


def score_storage_undo(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX contactscore_score")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_company_name_trgm_on_lower"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactScore",
            fields=[
                (
                    "contact",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="score_row",
                        serialize=False,
                        to="contacts.contact",
                    ),
                ),
                ("score", models.IntegerField(default=0, verbose_name="score")),
            ],
        ),
        # Before the rows come in: PostgreSQL's fillfactor applies to pages written after it.
        migrations.RunPython(score_storage, score_storage_undo),
        migrations.RunPython(copy_scores, copy_back),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_score_id",
        ),
        migrations.RemoveField(
            model_name="contact",
            name="score",
        ),
    ]
