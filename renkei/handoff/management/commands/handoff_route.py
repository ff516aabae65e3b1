"""``renkei handoff_route [--every SECONDS]``: assign MQLs that have no open assignment.

New MQLs are routed at once by the task worker. This catches the rest: MQLs that found
every rep out of office or at capacity, or whose task was lost. Run it from cron every
few minutes, or next to the worker with ``--every 300``.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from renkei.handoff.routing import mqls_route, mqls_unassigned


class Command(BaseCommand):
    help = "Assign MQLs without an open assignment to sales reps."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="repeat every this many seconds (default: once and exit)",
        )
        parser.add_argument(
            "--times", type=int, default=0, help="stop after this many runs (default: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every, times = options["every"], options["times"]
        if every < 0 or (every and every < 1):
            raise CommandError("--every must be at least 1 second")
        runs = 0
        while True:
            if every:  # a long-running loop: drop connections the database closed
                close_old_connections()
            started = time.monotonic()
            result = mqls_route(mqls_unassigned())
            if result.assigned or not every:
                self.stdout.write(
                    f"{result.assigned} assigned, {len(result.unassigned)} still without a rep"
                )
            runs += 1
            if not every or (times and runs >= times):
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))
