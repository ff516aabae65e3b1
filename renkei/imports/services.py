"""CSV imports: store and inspect the file, configure the mapping, run the import.

The flow, shared by the UI and ``renkei import_contacts``:

1. ``import_job_create`` stores the upload under ``RENKEI_IMPORT_DIR`` (random name) and
   inspects it (encoding, delimiter, header, row count); a refused file is deleted and
   ``FileRefused`` says why. The job starts as a draft with a suggested mapping.
2. ``import_job_configure`` sets the mapping, rules, campaign and exchange date.
3. ``import_job_start`` queues it (``tasks.run_import``), or runs it at once when small.
4. ``import_job_run`` imports the rows chunk by chunk through ``contacts_bulk_upsert``,
   records a ``trade_show_visit`` per row when a campaign was chosen, writes rejected
   rows to the error report and saves the counts after every chunk.
"""

import csv
import hashlib
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.campaigns.models import Campaign
from renkei.contacts.services import Actor, Conflict, ReferenceNotFound
from renkei.contacts.services.bulk_upsert import (
    ContactRow,
    RowError,
    contacts_bulk_upsert,
    rules_errors,
)
from renkei.events.services import EventInput, events_record
from renkei.imports.mapping import (
    BUILTIN_PRESETS,
    ParsedRow,
    mapping_errors,
    parse_row,
    suggest_mapping,
    suggest_preset,
)
from renkei.imports.models import STALE_AFTER, ImportJob, ImportStatus, MappingPreset
from renkei.imports.reading import (
    SAMPLE_ROWS,
    CsvFormat,
    FileRefused,
    csv_inspect,
    csv_records,
    size_check,
)

CHUNK = 2000
# Files with at most this many rows are imported during the request that confirms them.
INLINE_MAX_ROWS = 2000
JST = ZoneInfo("Asia/Tokyo")
EVENT_TYPE = "trade_show_visit"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[ImportJob], None]


def import_dir() -> Path:
    path = Path(settings.RENKEI_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_path(job: ImportJob) -> Path:
    return import_dir() / job.stored_name


def error_report_path(job: ImportJob) -> Path | None:
    return import_dir() / job.error_report_name if job.error_report_name else None


# ---- 1. upload --------------------------------------------------------------------------


def import_job_create(
    *, chunks: Iterable[bytes], filename: str, size: int | None, actor: Actor
) -> ImportJob:
    """Store the file and inspect it; refuse it (``FileRefused``) before keeping anything.

    ``size`` is the announced size, checked before a byte is written; the bytes written
    are counted too, since an announced size may lie.
    """
    if size is not None:
        size_check(size)
    stored = f"{secrets.token_hex(16)}.csv"
    path = import_dir() / stored
    try:
        written = 0
        with path.open("wb") as out:
            for chunk in chunks:
                written += len(chunk)
                size_check(written)
                out.write(chunk)
        inspection = csv_inspect(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    saved = _saved_presets()
    preset = suggest_preset(inspection.header, saved)
    preset_mapping = BUILTIN_PRESETS[preset].mapping if preset in BUILTIN_PRESETS else None
    return ImportJob.objects.create(
        created_by=_user(actor),
        original_filename=(Path(filename).name or "import.csv")[:255],
        stored_name=stored,
        size_bytes=written,
        encoding=inspection.format.encoding,
        delimiter=inspection.format.delimiter,
        header=inspection.header,
        mapping=suggest_mapping(inspection.header, preset_mapping or saved.get(preset)),
        rules=_saved_rules(preset),
        preset_name=preset,
        rows_total=inspection.rows_total,
    )


def _user(actor: Actor) -> Any:
    """The user to store as the job's or preset's author (None for the system)."""
    return actor if actor is not None and actor.is_authenticated else None


def _saved_presets() -> dict[str, dict[str, str]]:
    return dict(MappingPreset.objects.values_list("name", "mapping"))


def _saved_rules(preset: str) -> dict[str, str]:
    found = MappingPreset.objects.filter(name=preset).values_list("rules", flat=True).first()
    return dict(found or {})


def import_job_sample(job: ImportJob) -> list[list[str]]:
    """The first rows of the file, for the preview."""
    rows = csv_records(job_path(job), CsvFormat(job.encoding, job.delimiter))
    return [cells for _line, cells in islice(rows, SAMPLE_ROWS)]


def preset_mapping(*, name: str, header: list[str]) -> list[str]:
    """The mapping a preset (built-in slug or saved name) gives this header."""
    if name in BUILTIN_PRESETS:
        return suggest_mapping(header, BUILTIN_PRESETS[name].mapping)
    saved = MappingPreset.objects.filter(name=name).values_list("mapping", flat=True).first()
    if saved is None:
        raise ReferenceNotFound({"preset": _("no preset named %(name)s") % {"name": repr(name)}})
    return suggest_mapping(header, saved)


def import_job_delete(*, job: ImportJob) -> None:
    """Delete a job with its stored file and error report."""
    for path in (job_path(job), error_report_path(job)):
        if path is not None:
            path.unlink(missing_ok=True)
    job.delete()


# ---- 2. mapping -------------------------------------------------------------------------


@transaction.atomic
def import_job_configure(
    *,
    job: ImportJob,
    actor: Actor,
    mapping: list[str],
    rules: dict[str, str],
    campaign_id: int | None = None,
    exchange_date: date | None = None,
    preset_name: str = "",
    save_preset_as: str = "",
) -> ImportJob:
    """Set what each column feeds and the rules; optionally save the mapping as a preset.

    Errors name the column (``column_<index>``), ``mapping``, ``rules``, ``campaign`` or
    ``save_preset_as``.
    """
    if job.status != ImportStatus.DRAFT:
        raise Conflict({"status": _("this import has already been started")})
    errors: dict[str, Any] = {}
    if len(mapping) != len(job.header):
        errors["mapping"] = _("one target per column is needed")
    else:
        for index, message in mapping_errors(job.header, mapping).items():
            errors["mapping" if index < 0 else f"column_{index}"] = message
    if bad := rules_errors(rules):
        errors["rules"] = "; ".join(f"{k}: {v}" for k, v in bad.items())
    if campaign_id is not None and not Campaign.objects.filter(pk=campaign_id).exists():
        errors["campaign"] = _("no campaign with id %(id)s") % {"id": campaign_id}
    if errors:
        raise ValidationError(errors)
    if save_preset_as:
        mapping_preset_create(
            name=save_preset_as,
            mapping={h: t for h, t in zip(job.header, mapping, strict=True) if t and h},
            rules=rules,
            actor=actor,
        )
    job.mapping, job.rules, job.preset_name = list(mapping), dict(rules), preset_name[:100]
    job.campaign_id, job.exchange_date = campaign_id, exchange_date
    job.save(update_fields=["mapping", "rules", "preset_name", "campaign", "exchange_date"])
    return job


@transaction.atomic
def mapping_preset_create(
    *, name: str, mapping: dict[str, str], rules: dict[str, str], actor: Actor
) -> MappingPreset:
    """Save a mapping (header → target) under a name shown next to the built-ins."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationError({"save_preset_as": _("a preset needs a name")})
    if name in BUILTIN_PRESETS or MappingPreset.objects.filter(name=name).exists():
        raise Conflict({"save_preset_as": _("a preset with this name already exists")})
    return MappingPreset.objects.create(
        name=name,
        mapping=mapping,
        rules=rules,
        created_by=_user(actor),
    )


# ---- 3. start ---------------------------------------------------------------------------


def import_job_start(
    *, job: ImportJob, run_inline: bool | None = None, progress: Progress | None = None
) -> bool:
    """Queue the import (a draft becomes pending); small files (or ``run_inline``) run at
    once. Returns True if it ran in this call. Starting twice queues nothing the second
    time."""
    if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).update(
        status=ImportStatus.PENDING
    ):
        return False
    job.status = ImportStatus.PENDING
    if run_inline is None:
        run_inline = job.rows_total <= INLINE_MAX_ROWS
    if run_inline:
        import_job_run(job_id=job.pk, progress=progress)
        job.refresh_from_db()
        return True
    from renkei.imports.tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return False


# ---- 4. run -----------------------------------------------------------------------------


def import_job_run(*, job_id: int, progress: Progress | None = None) -> ImportJob | None:
    """Import a pending job; a job another worker claimed, or a finished one, is left
    alone (returns None). The claim is a conditional UPDATE, so two workers never both
    run it."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=now, progress_at=now
    )
    if claimed != 1:
        return None
    job = ImportJob.objects.select_related("created_by", "campaign").get(pk=job_id)
    try:
        _run(job, progress)
    except FileRefused as exc:
        _finish(job, ImportStatus.FAILED, str(exc))
        return job
    except Exception:
        _finish(job, ImportStatus.FAILED, _("The import stopped on an internal error."))
        raise
    _finish(job, ImportStatus.DONE, "")
    return job


@transaction.atomic
def import_job_retry(*, job: ImportJob, actor: Actor) -> bool:
    """Queue a failed import, or one whose worker died, again (see ``ImportJob.retryable``).

    The conditional UPDATE repeats the rule, so a job that made progress meanwhile (or
    that two users retry at once) is queued once. It runs from the first row; rows
    imported by the earlier attempt come out unchanged. Returns whether it was queued.
    """
    cutoff = timezone.now() - STALE_AFTER
    stale = Q(status=ImportStatus.RUNNING) & (
        Q(progress_at__lt=cutoff) | Q(progress_at__isnull=True, started_at__lt=cutoff)
    )
    queued = (
        ImportJob.objects.filter(pk=job.pk)
        .filter(Q(status=ImportStatus.FAILED) | stale)
        .update(status=ImportStatus.PENDING, message="", finished_at=None)
    )
    if not queued:
        return False
    audit_record(actor=actor, action="import.retry", object_type="import", object_id=job.pk)
    from renkei.imports.tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    job.refresh_from_db()
    return True


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


@dataclass
class _Context:
    job: ImportJob
    actor: Actor
    default_day: date | None
    campaign_id: int | None


def _run(job: ImportJob, progress: Progress | None) -> None:
    context = _Context(
        job=job,
        actor=job.created_by,
        default_day=job.exchange_date,
        campaign_id=job.campaign_id,
    )
    job.rows_processed = job.rows_created = job.rows_updated = 0
    job.rows_unchanged = job.rows_errors = job.events_recorded = 0
    records = csv_records(job_path(job), CsvFormat(job.encoding, job.delimiter))
    with _ErrorReport(job) as report:
        for chunk in _chunks(records, CHUNK):
            _import_chunk(context, chunk, report)
            job.progress_at = timezone.now()
            job.save(update_fields=_COUNTS)
            if progress:
                progress(job)


_COUNTS = [
    "progress_at",
    "rows_processed",
    "rows_created",
    "rows_updated",
    "rows_unchanged",
    "rows_errors",
    "events_recorded",
    "error_report_name",
]


def _chunks(records: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _import_chunk(
    context: _Context, chunk: list[tuple[int, list[str]]], report: "_ErrorReport"
) -> None:
    job = context.job
    parsed = [(line, cells, parse_row(cells, job.mapping)) for line, cells in chunk]
    good = [(line, cells, p) for line, cells, p in parsed if not p.errors]
    for line, cells, p in parsed:
        for index, message in p.errors:
            report.add(line, index, cells, message)
    rows: list[ContactRow] = []
    for _line, _cells, p in good:
        p.row.touched_at = _noon(p.exchange_date or context.default_day)
        rows.append(p.row)
    result = contacts_bulk_upsert(
        rows=rows,
        actor=context.actor,
        rules=job.rules,
        source="import",
        campaign_id=context.campaign_id,
    )
    failed = {line for line, _cells, p in parsed if p.errors}
    for error in result.errors:
        line, cells, p = good[error.index]
        failed.add(line)
        report.add(line, _column_of(error, p), cells, error.message, error.value)
    job.rows_processed += len(chunk)
    job.rows_created += result.created
    job.rows_updated += result.updated
    job.rows_unchanged += result.unchanged
    job.rows_errors += len(failed)
    if context.campaign_id is not None:
        job.events_recorded += _record_visits(context, good, result.contact_ids)


def _column_of(error: RowError, parsed: ParsedRow) -> int | None:
    """The column a field's value came from (properties keep their ``property:`` name)."""
    return parsed.columns.get(error.field)


def _noon(day: date | None) -> datetime | None:
    """A day as a time: noon in Japan, so it stays on that date in every time zone view."""
    return datetime.combine(day, time(12), tzinfo=JST) if day else None


def _record_visits(
    context: _Context, good: list[tuple[int, list[str], ParsedRow]], ids: list[int | None]
) -> int:
    """A trade_show_visit per imported row at its exchange date. The client event id
    depends only on campaign, person and day, so importing the file again adds nothing."""
    job, today = context.job, timezone.localdate()
    items = []
    for index, ((_line, _cells, parsed), contact_id) in enumerate(zip(good, ids, strict=True)):
        if contact_id is None:
            continue
        day = parsed.exchange_date or context.default_day or today
        person = hashlib.sha256(parsed.row.email.strip().lower().encode()).hexdigest()[:32]
        items.append(
            EventInput(
                index=index,
                client_event_id=f"import:{context.campaign_id}:{day.isoformat()}:{person}",
                type=EVENT_TYPE,
                occurred_at=datetime.combine(day, time(12), tzinfo=JST),
                properties={"source": "import", "import_id": job.pk},
                contact_id=contact_id,
                campaign_id=context.campaign_id,
            )
        )
    if not items:
        return 0
    return events_record(items=items, actor=context.actor).accepted


# ---- error report -----------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A cell Excel would run as a formula (= + - @, tab, CR first) gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class _ErrorReport:
    """The rejected rows as CSV (UTF-8 with BOM, for Excel): line, column, value, reason,
    then the row's original cells. Created on the first error only."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.file: Any = None
        self.writer: Any = None

    def __enter__(self) -> "_ErrorReport":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()

    def add(
        self, line: int, index: int | None, cells: list[str], reason: str, value: str = ""
    ) -> None:
        if self.writer is None:
            self._open()
        header = self.job.header
        column = header[index] if index is not None and index < len(header) else ""
        if not value and index is not None and index < len(cells):
            value = cells[index]
        row = [str(line), column, value, reason, *cells]
        self.writer.writerow([neutralise(cell) for cell in row])

    def _open(self) -> None:
        name = self.job.error_report_name or f"{secrets.token_hex(16)}.errors.csv"
        self.job.error_report_name = name
        self.file = (import_dir() / name).open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.file)
        labels = [_("line"), _("column"), _("value"), _("reason")]
        self.writer.writerow([neutralise(c) for c in (*labels, *self.job.header)])
