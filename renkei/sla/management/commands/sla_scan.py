"""``renkei sla_scan [--every SECONDS]``: record SLA breaches (once, or in a loop).

Run it next to the worker with ``--every 30`` so a breach is found within a minute of its
deadline; or from cron every minute without ``--every``.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection

from renkei.sla.services import sla_breaches_scan


class Command(BaseCommand):
    help = "Find SLA clocks past their deadline and record the breaches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="repeat every this many seconds (default: scan once and exit)",
        )
        parser.add_argument(
            "--times", type=int, default=0, help="stop after this many scans (default: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every, times = options["every"], options["times"]
        if every < 0 or (every and every < 1):
            raise CommandError("--every must be at least 1 second")
        scans = 0
        while True:
            if not connection.in_atomic_block:  # a long loop: drop broken or stale ones
                close_old_connections()
            started = time.monotonic()
            found = sla_breaches_scan()
            if found or not every:
                self.stdout.write(f"{found} breaches recorded")
            scans += 1
            if not every or (times and scans >= times):
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))
