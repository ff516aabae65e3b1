"""The single-column indexes on contacts.company_id and owner_id go: (company, id) and
(owner, id) serve every look-up by them. Only the indexes are dropped (found by
introspection): altering the fields through the schema editor would make SQLite copy the
whole table and lose the full-text triggers."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COLUMNS = ("company_id", "owner_id")


def drop_single_column_indexes(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "contacts_contact")
    for name, info in constraints.items():
        single = info["columns"] in ([column] for column in COLUMNS)
        if single and info["index"] and not info["primary_key"] and not info["unique"]:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_single_column_indexes(apps: Any, schema_editor: Any) -> None:
    for column in COLUMNS:
        name = schema_editor.quote_name(f"contacts_contact_{column}_single")
        schema_editor.execute(f"CREATE INDEX {name} ON contacts_contact ({column})")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0008_contact_score_table"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="contacts",
                        to="contacts.company",
                        verbose_name="company",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="owned_contacts",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_single_column_indexes, create_single_column_indexes)
            ],
        ),
    ]
