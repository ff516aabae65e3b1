"""Per-rule engagement moves from one row per (contact, rule) to packed buckets."""

from typing import Any

import numpy as np
from django.db import migrations, models

BUCKET_CONTACTS = 128  # renkei.scoring.store.BUCKET_CONTACTS when this was written
ENTRY = np.dtype(
    [
        ("contact", "<i8"),
        ("rule", "<i4"),
        ("events", "<i4"),
        ("points", "<f8"),
        ("computed_s", "<f8"),
    ]
)


def rows_to_buckets(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("scoring", "ContactEngagement")
    bucket_model = apps.get_model("scoring", "EngagementBucket")
    rows = old.objects.order_by("contact_id", "rule_id").values_list(
        "contact_id", "rule_id", "events", "points", "computed_at"
    )
    pending: list[tuple[Any, ...]] = []
    current = None

    def flush() -> None:
        if pending:
            entries = np.array(
                [(c, r, n, p, at.timestamp()) for c, r, n, p, at in pending], dtype=ENTRY
            )
            bucket_model.objects.create(bucket=current, data=entries.tobytes())
            pending.clear()

    for row in rows.iterator(chunk_size=20_000):
        bucket = row[0] // BUCKET_CONTACTS
        if bucket != current:
            flush()
            current = bucket
        pending.append(row)
    flush()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="EngagementBucket",
            fields=[
                ("bucket", models.BigIntegerField(primary_key=True, serialize=False)),
                ("data", models.BinaryField(default=b"")),
            ],
        ),
        migrations.RunPython(rows_to_buckets, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="ContactEngagement",
        ),
    ]
