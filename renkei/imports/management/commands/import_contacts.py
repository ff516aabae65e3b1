"""``renkei import_contacts FILE [--mapping PRESET] …``: import a CSV file synchronously."""

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from renkei.contacts.services.bulk_upsert import RULES
from renkei.imports.mapping import BUILTIN_PRESETS, parse_date
from renkei.imports.models import ImportJob
from renkei.imports.reading import FileRefused
from renkei.imports.services import (
    error_report_path,
    import_job_configure,
    import_job_create,
    import_job_delete,
    import_job_start,
    preset_mapping,
)

REFUSED = 2  # exit code for a file, preset or option that cannot be used


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file (UTF-8, UTF-8 with BOM or Shift_JIS/CP932; comma "
        "or tab). Prints a progress line per chunk on stderr and a JSON summary on stdout. "
        "Exit code 0 when the file was processed (rows with errors are counted and written "
        "to the error report), 2 when the file, preset or an option is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        presets = ", ".join(BUILTIN_PRESETS)
        parser.add_argument(
            "--mapping",
            default="",
            help=f"A preset: {presets} or a saved preset's name (default: suggested "
            "from the header)",
        )
        parser.add_argument(
            "--campaign", type=int, help="Campaign id (records a trade-show visit per row)"
        )
        parser.add_argument("--exchange-date", default="", help="YYYY-MM-DD (名刺交換日)")
        parser.add_argument(
            "--rules",
            default="",
            help=f"field=rule,… with rule one of {', '.join(RULES)} (default fill)",
        )
        parser.add_argument("--as", dest="username", default="", help="The user it is recorded as")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=REFUSED)
        actor = self._actor(options["username"])
        rules = self._rules(options["rules"])
        exchange_date = None
        if options["exchange_date"]:
            try:
                exchange_date = parse_date(options["exchange_date"])
            except ValueError as exc:
                raise CommandError(f"--exchange-date: {exc}", returncode=REFUSED) from None
        started = time.perf_counter()
        try:
            with path.open("rb") as source:
                job = import_job_create(
                    chunks=iter(lambda: source.read(1 << 20), b""),
                    filename=path.name,
                    size=path.stat().st_size,
                    actor=actor,
                )
        except FileRefused as exc:
            raise CommandError(f"{path}: {exc}", returncode=REFUSED) from None
        self._configure(job, actor, options, rules, exchange_date)
        import_job_start(job=job, run_inline=True, progress=self._progress)
        job.refresh_from_db()
        self.stdout.write(
            json.dumps(self._summary(job, time.perf_counter() - started), ensure_ascii=False)
        )
        if job.status != "done":
            raise CommandError(job.message or "the import failed", returncode=REFUSED)

    def _actor(self, username: str) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}", returncode=REFUSED)
        return user

    def _rules(self, text: str) -> dict[str, str]:
        rules = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _sep, rule = part.partition("=")
            if rule not in RULES:
                raise CommandError(
                    f"--rules: {part!r}: the rule must be one of {', '.join(RULES)}",
                    returncode=REFUSED,
                )
            rules[name.strip()] = rule
        return rules

    def _configure(
        self, job: ImportJob, actor: Any, options: dict[str, Any], rules: dict[str, str], day: Any
    ) -> None:
        preset = options["mapping"] or job.preset_name
        try:
            mapping = preset_mapping(name=preset, header=job.header) if preset else job.mapping
            import_job_configure(
                job=job,
                actor=actor,
                mapping=mapping,
                rules=rules or job.rules,
                campaign_id=options["campaign"],
                exchange_date=day,
                preset_name=preset,
            )
        except ValidationError as exc:
            import_job_delete(job=job)
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            text = "; ".join(
                f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items()
            )
            raise CommandError(text, returncode=REFUSED) from None

    def _progress(self, job: ImportJob) -> None:
        sys.stderr.write(
            f"\r{job.rows_processed}/{job.rows_total} rows: {job.rows_created} created, "
            f"{job.rows_updated} updated, {job.rows_unchanged} unchanged, "
            f"{job.rows_errors} errors"
        )
        if job.rows_processed >= job.rows_total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _summary(self, job: ImportJob, seconds: float) -> dict[str, Any]:
        report = error_report_path(job)
        return {
            "import_id": job.pk,
            "file": job.original_filename,
            "status": job.status,
            "encoding": job.encoding,
            "delimiter": "tab" if job.delimiter == "\t" else "comma",
            "preset": job.preset_name,
            "rows": job.rows_total,
            "processed": job.rows_processed,
            "created": job.rows_created,
            "updated": job.rows_updated,
            "unchanged": job.rows_unchanged,
            "errors": job.rows_errors,
            "events": job.events_recorded,
            "error_report": str(report) if report else None,
            "message": job.message,
            "seconds": round(seconds, 3),
        }
