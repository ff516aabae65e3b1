"""``renkei seed_demo``: load the Japanese B2B demo data set and print the demo logins."""

from datetime import date
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from renkei.contacts.models import Contact
from renkei.demo.services import DEMO_PASSWORD, DemoDataExists, demo_logins, demo_seed


class Command(BaseCommand):
    help = (
        "Generate a realistic Japanese B2B data set (companies, contacts with kana, "
        "campaigns, a year of events, stage history, hand-offs to sales with their SLA "
        "clocks, deals) and the demo users, one per role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=5000, help="number of contacts")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            default=None,
            help="last day of the demo year (YYYY-MM-DD; default today in JST)",
        )
        parser.add_argument(
            "--events-per-contact", type=float, default=10.0, help="average events (0: none)"
        )
        parser.add_argument(
            "--force", action="store_true", help="add to a database that already has contacts"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when contacts already exist"
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="only print the demo logins"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--no-rescore",
            action="store_true",
            help="skip scoring every contact with the demo rules afterwards "
            "(about 50 s per million contacts, plus the backtest data)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_logins"]:
            self._print_logins()
            return
        if options["if_empty"] and Contact.objects.exists():
            self.stdout.write("Contacts already exist: demo data not loaded (--if-empty).")
            return
        contacts = options["contacts"]
        if contacts < 1:
            raise CommandError("--contacts must be at least 1")
        bar = tqdm(total=contacts, unit=" contacts", disable=options["no_progress"], smoothing=0.1)
        try:
            summary = demo_seed(
                contacts=contacts,
                seed=options["seed"],
                until=options["until"],
                events_per_contact=options["events_per_contact"],
                force=options["force"],
                progress=bar.update,
            )
        except DemoDataExists as exc:
            raise CommandError(
                f"{exc}. --force adds the demo data set to them; --if-empty skips."
            ) from None
        finally:
            bar.close()
        self.stdout.write(
            f"Loaded in {summary.seconds:.1f} s: {summary.companies:,} companies, "
            f"{summary.campaigns} campaigns, {summary.contacts:,} contacts, "
            f"{summary.transitions:,} stage transitions, {summary.visitors:,} visitors, "
            f"{summary.events:,} events, {summary.assignments:,} hand-offs to sales, "
            f"{summary.deals:,} deals."
        )
        if not options["no_rescore"]:
            # Scores, the MQL flags and the backtest data from the first visit on. Cold: the
            # history was written with past receipt times, which a refresh does not read.
            call_command("rescore", "--cold", stdout=self.stdout)
        self._print_logins()

    def _print_logins(self) -> None:
        logins = demo_logins()
        if not logins:
            self.stdout.write("No demo users yet: run seed_demo first.")
            return
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r} unless changed since):")
        for username, role, name in logins:
            self.stdout.write(f"  {username:<10} {role:<10} {name}")
