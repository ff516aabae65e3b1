"""The business calendar, also after a database flush.

The data migration ``0002_default_calendar`` creates it on a new database (Mon–Fri
9:00–12:00 and 13:00–18:00, Japanese public holidays, 年末年始 12/29–1/3 and お盆
8/13–8/16). Tests that flush the database would leave later tests without it, so
``calendar_ensure`` runs after every migrate and flush and creates it again if missing.
"""

import importlib
from typing import Any

from django.apps import apps as global_apps

from renkei.sla.models import CALENDAR_ID, BusinessCalendar

_MIGRATION = importlib.import_module("renkei.sla.migrations.0002_default_calendar")


def calendar_ensure(**kwargs: Any) -> None:
    if not BusinessCalendar.objects.filter(pk=CALENDAR_ID).exists():
        _MIGRATION.create_calendar(global_apps, None)
