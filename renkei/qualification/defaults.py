"""The one qualification policy, also after a database flush.

The data migration ``0002_default_policy`` creates it on a new database. Tests that flush
the database (transactional and browser tests) would leave later tests without it, so
``qualification_policy_ensure`` runs after every migrate and flush (post_migrate, like
the journey's default stages) and creates it again when it is missing.
"""

import importlib
from typing import Any

from django.apps import apps as global_apps

from renkei.qualification.models import QualificationPolicy
from renkei.qualification.selectors import POLICY_ID

_MIGRATION = importlib.import_module("renkei.qualification.migrations.0002_default_policy")


def qualification_policy_ensure(**kwargs: Any) -> None:
    if not QualificationPolicy.objects.filter(pk=POLICY_ID).exists():
        _MIGRATION.create_policy(global_apps, None)
