"""The default pipeline, also after a database flush.

The data migration ``0002_default_pipeline`` creates it on a new database; tests that
flush the database would leave later tests without it, so ``pipeline_default_ensure``
runs after every migrate and flush (post_migrate) and creates it when no pipeline exists.
"""

import importlib
from typing import Any

from django.apps import apps as global_apps

from renkei.deals.models import Pipeline


def pipeline_default_ensure(**kwargs: Any) -> None:
    if not Pipeline.objects.exists():
        migration = importlib.import_module("renkei.deals.migrations.0002_default_pipeline")
        migration.create_pipeline(global_apps, None)
