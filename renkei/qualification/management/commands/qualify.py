"""``renkei qualify``: evaluate every contact against the MQL policy now (or queue it).

The nightly ``renkei rescore`` queues this by itself when it finishes; run it by hand
after importing contacts or to see the figures."""

from typing import Any

from django.core.management.base import BaseCommand

from renkei.qualification.services import qualification_run_enqueue, qualification_run_execute


class Command(BaseCommand):
    help = "Move contacts that meet the MQL policy to MQL and flag MQLs below it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the evaluation for the task worker instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            run = qualification_run_enqueue(actor=None, trigger="command")
            self.stdout.write(f"queued qualification run {run.pk}")
            return
        run = qualification_run_execute(actor=None, trigger="command")
        self.stdout.write(
            f"checked {run.contacts} contacts in {run.seconds or 0:.2f} s: "
            f"{run.qualified} moved to MQL, {run.flagged} newly flagged below the policy "
            f"(run {run.pk}, {run.status})"
        )
