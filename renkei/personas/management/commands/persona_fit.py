"""``renkei persona_fit``: rebuild every contact's persona fit now, in this process."""

from typing import Any

from django.core.management.base import BaseCommand

from renkei.personas.services import contacts_fit_rebuild_all


class Command(BaseCommand):
    help = "Recompute every contact's fit against the active personas."

    def handle(self, *args: Any, **options: Any) -> None:
        count = contacts_fit_rebuild_all()
        self.stdout.write(f"{count} contacts scored")
