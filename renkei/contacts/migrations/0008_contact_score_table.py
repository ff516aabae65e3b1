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
        migrations.RunPython(copy_scores, copy_back),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_score_id",
        ),
        migrations.RemoveField(
            model_name="contact",
            name="score",
        ),
        migrations.AddIndex(
            model_name="contactscore",
            index=models.Index(fields=["score", "contact"], name="contactscore_score"),
        ),
    ]
