"""``renkei rescore``: recompute every contact's engagement score (schedule it nightly)."""

from typing import Any

from django.core.management.base import BaseCommand

from renkei.scoring.services import rescore_run_enqueue, rescore_run_execute


class Command(BaseCommand):
    help = "Recompute every contact's engagement score from the events (full rescore)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the rescore for the task worker instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            run = rescore_run_enqueue(actor=None)
            self.stdout.write(f"queued rescore run {run.pk}")
            return
        run = rescore_run_execute(actor=None)
        self.stdout.write(
            f"rescored {run.contacts} contacts from {run.events} events "
            f"in {run.seconds:.2f} s (run {run.pk}, {run.status})"
        )
