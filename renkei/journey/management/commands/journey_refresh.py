"""``renkei journey_refresh``: recompute every contact's current journey stage."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from renkei.journey.services import contacts_journey_refresh


class Command(BaseCommand):
    help = "Recompute the current journey stage of every contact (or of the given ids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("contact_ids", nargs="*", type=int, help="only these contacts")

    def handle(self, *args: Any, contact_ids: list[int], **options: Any) -> None:
        changed = contacts_journey_refresh(contact_ids=contact_ids or None)
        self.stdout.write(f"{changed} contacts changed journey stage.")
