"""The default journey (認知 → 継続) when there is none, also after a database flush.

The data migration ``0002_default_stages`` creates them on a new database. Tests that
flush the database (transactional and browser tests) would leave later tests without
them, so ``journey_defaults_ensure`` runs after every migrate and flush (post_migrate,
like the role groups) and creates them again when no stage exists at all. A site that
deleted every stage gets the defaults back on its next upgrade; a site with any stage is
never touched.
"""

import importlib
from typing import Any

from django.apps import apps as global_apps

from renkei.journey.models import JourneyStage

_MIGRATION = importlib.import_module("renkei.journey.migrations.0002_default_stages")


def journey_defaults_ensure(**kwargs: Any) -> None:
    if not JourneyStage.objects.exists():
        _MIGRATION.create_defaults(global_apps, None)
