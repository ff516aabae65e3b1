"""``renkei rescore``: recompute every contact's engagement score, then rebuild the
backtest snapshot (schedule it nightly: decay lowers scores even without new events)."""

import time
from typing import Any

from django.core.management.base import BaseCommand

from renkei.scoring.backtest import snapshot_build
from renkei.scoring.models import RescoreRun
from renkei.scoring.services import rescore_run_enqueue, rescore_run_execute


class Command(BaseCommand):
    help = "Recompute every contact's engagement score from the events (full rescore)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the rescore for the task worker instead of running it here.",
        )
        parser.add_argument(
            "--cold",
            action="store_true",
            help=(
                "Rebuild the event columns from every event first (after loading events "
                "with past receipt times, such as a bulk import of history)."
            ),
        )
        parser.add_argument(
            "--no-snapshot",
            action="store_true",
            help="Do not rebuild the backtest snapshot afterwards.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            run = rescore_run_enqueue(actor=None)
            self.stdout.write(f"queued rescore run {run.pk}")
            return
        run = rescore_run_execute(actor=None, cold=options["cold"])
        self.stdout.write(
            f"rescored {run.contacts} contacts from {run.events} events "
            f"in {run.seconds:.2f} s (run {run.pk}, {run.status})"
        )
        if run.status == RescoreRun.Status.DONE and not options["no_snapshot"]:
            began = time.perf_counter()
            snapshot = snapshot_build()
            self.stdout.write(
                f"backtest snapshot {snapshot.id}: {snapshot.contacts} contacts, "
                f"{snapshot.events} events in {time.perf_counter() - began:.2f} s"
            )
