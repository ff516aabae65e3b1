"""Contacts export: the list's filtered contacts as CSV (UTF-8 with BOM, or CP932) or XLSX.

Personal data leaves the system here, so every export is audited (the view does it) and
every text cell is made safe for spreadsheets: a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be run as a formula by Excel or
LibreOffice (OWASP "CSV injection"), so it gets a leading ``'``. Phones are stored as
E.164 (``+81312345678``) and are therefore exported as ``'+81312345678``, which is also
what stops Excel from turning them into the number 81312345678.

Rows are read in keyset chunks of ``CHUNK_SIZE`` with their company, owner and
first-touch campaign joined, so memory stays bounded and the query count grows by two per
chunk, not by one per row, at any size.
"""

import codecs
import csv
import functools
import json
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from renkei.contacts.models import Contact, LifecycleStage

CHUNK_SIZE = 2000
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header row


def xlsx_row_limit() -> int:
    """The most rows an XLSX export may hold: ``RENKEI_EXPORT_XLSX_MAX_ROWS`` (openpyxl
    writes ~2,000 rows/s, and the user waits for the whole file before the download
    starts), never more than Excel's own limit. CSV streams and has no limit."""
    return min(int(getattr(settings, "RENKEI_EXPORT_XLSX_MAX_ROWS", 100_000)), XLSX_MAX_ROWS)


# What makes a spreadsheet read a cell as a formula (OWASP's list). Look-alikes such as the
# full-width ＝ count too: they become these characters under NFKC, which Excel's input and
# the CP932 transliteration below both apply.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Numbers, dates and None are returned unchanged: a number cell cannot hold a formula.
    """
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    if first in FORMULA_TRIGGERS or (first > "\x7f" and _looks_like_trigger(first)):
        return "'" + value
    return value


@functools.lru_cache(maxsize=8192)  # a name's first characters repeat: 山, 佐, 田…
def _looks_like_trigger(char: str) -> bool:
    """Whether a non-ASCII character turns into a trigger under NFKC (＝, ﹢, ⁼) or once
    its accents are dropped, as the CP932 transliteration below may do."""
    forms = (unicodedata.normalize("NFKC", char), _without_accents(char))
    return any(form[:1] in FORMULA_TRIGGERS for form in forms)


def _without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# ---- columns --------------------------------------------------------------------------
#
# Rows are read as dicts of these fields (company, owner and first campaign joined in the
# same query), not as model instances: at a million rows building four objects a row
# costs more than writing the file.

FIELDS = (
    "id", "email", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "company__name", "department", "title", "phone", "prefecture", "lifecycle_stage",
    "score_value", "owner__username", "owner__first_name", "owner__last_name", "source",
    "first_campaign__name", "first_touch", "first_touch_at", "created_at",
    "last_activity_at", "properties",
)  # fmt: skip

Row = dict[str, Any]


@dataclass(frozen=True)
class _Context:
    """What every row of one export shares: the stage labels in the request's language
    (translated once, not per row: gettext costs more than the rest of a row) and the
    time zone of the times written."""

    stage_labels: dict[str, str]
    zone: tzinfo

    @classmethod
    def current(cls) -> "_Context":
        labels = {value: str(label) for value, label in LifecycleStage.choices}
        return cls(labels, timezone.get_current_timezone())


def _owner(row: Row, _ctx: _Context) -> str:
    """The owner as User.get_full_name() or the username shows them."""
    if not row["owner__username"]:
        return ""
    full = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
    return full or row["owner__username"]


def _touch(key: str) -> "Read":
    def read(row: Row, _ctx: _Context) -> str:
        touch = row["first_touch"]
        value = touch.get(key) if isinstance(touch, dict) else None
        return str(value) if value not in (None, "") else ""

    return read


def _properties(row: Row, _ctx: _Context) -> str:
    properties = row["properties"]
    return json.dumps(properties, ensure_ascii=False, sort_keys=True) if properties else ""


def _stage(row: Row, ctx: _Context) -> str:
    stage: str = row["lifecycle_stage"]
    return ctx.stage_labels.get(stage, stage)


def _field(name: str) -> "Read":
    return lambda row, _ctx: row[name] if row[name] is not None else ""


def _time(name: str) -> "Read":
    """A stored (UTC) time as naive local time (Asia/Tokyo by default) for a spreadsheet."""

    def read(row: Row, ctx: _Context) -> datetime | None:
        moment = row[name]
        return moment.astimezone(ctx.zone).replace(tzinfo=None) if moment else None

    return read


Read = Callable[[Row, _Context], Any]


@dataclass(frozen=True)
class Column:
    """One column of the export: its header (a stable field name, the same in every
    language, so the file can be imported again) and how to read it from a row."""

    header: str
    read: Read


COLUMNS: tuple[Column, ...] = (
    Column("id", _field("id")),
    Column("email", _field("email")),
    Column("family_name", _field("family_name")),
    Column("given_name", _field("given_name")),
    Column("family_name_kana", _field("family_name_kana")),
    Column("given_name_kana", _field("given_name_kana")),
    Column("company", _field("company__name")),
    Column("department", _field("department")),
    Column("title", _field("title")),
    Column("phone", _field("phone")),
    Column("prefecture", _field("prefecture")),
    Column("lifecycle_stage", _stage),  # the label, in the language of the request
    Column("score", _field("score_value")),
    Column("owner", _owner),
    Column("source", _field("source")),
    Column("first_campaign", _field("first_campaign__name")),
    Column("first_touch_utm_source", _touch("utm_source")),
    Column("first_touch_utm_medium", _touch("utm_medium")),
    Column("first_touch_utm_campaign", _touch("utm_campaign")),
    Column("first_touch_at", _time("first_touch_at")),
    Column("created_at", _time("created_at")),
    Column("last_activity_at", _time("last_activity_at")),
    Column("properties", _properties),
)
HEADERS = [column.header for column in COLUMNS]


def export_rows(rows: list[Row]) -> list[list[Any]]:
    """The cells of some rows, text neutralised against formulas; times stay datetimes."""
    ctx = _Context.current()
    reads = [column.read for column in COLUMNS]
    return [[spreadsheet_safe(read(row, ctx)) for read in reads] for row in rows]


# ---- reading in chunks ----------------------------------------------------------------


def contacts_in_chunks(qs: QuerySet[Contact], *, size: int = CHUNK_SIZE) -> Iterator[list[Row]]:
    """The rows of a newest-first contacts queryset, ``size`` at a time, as dicts of
    ``FIELDS``.

    Keyset on id, two queries a chunk: the chunk's ids through the filter's (filter, id)
    index, then those rows by primary key with company, owner and first campaign joined.
    Bounded memory at any size.
    """
    after: int | None = None
    while True:
        page = qs.filter(id__lt=after) if after is not None else qs
        ids = list(page.order_by("-id").values_list("id", flat=True)[:size])
        if not ids:
            return
        yield list(Contact.objects.with_score().filter(id__in=ids).order_by("-id").values(*FIELDS))
        if len(ids) < size:
            return
        after = ids[-1]


# ---- CSV ------------------------------------------------------------------------------

# Characters CP932 lacks but has a near twin of (text pasted from JIS-mapped sources).
_CP932_TWINS = {"\u2014": "\u2015", "\u00a0": " "}


def _cp932_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: transliterate what CP932 cannot encode, else write ``?``.

    Tried in turn per character: a known twin, NFKC (compatibility forms such as ㍻ or
    full-width variants), NFKD without accents (é → e); ``?`` when none encodes.
    """
    assert isinstance(error, UnicodeEncodeError)
    out = []
    for char in error.object[error.start : error.end]:
        candidates = (
            _CP932_TWINS.get(char, ""),
            unicodedata.normalize("NFKC", char),
            _without_accents(char),
        )
        out.append(next((c for c in candidates if c and _encodes(c)), "?"))
    return "".join(out), error.end


def _encodes(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


CP932_ERRORS = "renkei_cp932_fallback"
codecs.register_error(CP932_ERRORS, _cp932_fallback)


class _Lines:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def csv_chunks(qs: QuerySet[Contact], *, encoding: str) -> Iterator[bytes]:
    """The export as CSV bytes, one chunk of rows at a time (for a streaming response).

    ``utf-8-sig`` starts with a BOM, which Excel needs to read UTF-8; ``cp932`` is what
    Excel in Japan reads without asking, with what it cannot hold transliterated or ``?``.
    Lines end with CRLF, as RFC 4180 and Excel write them.
    """
    errors = CP932_ERRORS if encoding == "cp932" else "strict"
    sink = _Lines()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(HEADERS)
    head = sink.take()
    yield (codecs.BOM_UTF8 if encoding == "utf-8-sig" else b"") + head.encode(
        "utf-8" if encoding == "utf-8-sig" else encoding, errors
    )
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    for chunk in contacts_in_chunks(qs):
        writer.writerows([_csv_cell(v) for v in cells] for cells in export_rows(chunk))
        yield sink.take().encode(codec, errors)


# ---- XLSX -----------------------------------------------------------------------------


def _xlsx_cell(value: Any) -> Any:
    if value == "":
        return None  # an empty cell is not written at all: a third of a row, often
    if isinstance(value, str):
        # XML 1.0 cannot hold most control characters, and openpyxl refuses them. Dropping
        # one may uncover a trigger ("\x01=1+1"), so the cell is checked again.
        return spreadsheet_safe(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def xlsx_file(qs: QuerySet[Contact]) -> IO[bytes]:
    """The export as an XLSX workbook in a temporary file, positioned at its start.

    openpyxl's write-only mode streams rows to disk, so memory stays bounded; the file
    disappears when closed (the response closes it after sending). Callers check the row
    count against ``XLSX_MAX_ROWS`` first.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("contacts")
    sheet.append(HEADERS)
    for chunk in contacts_in_chunks(qs):
        for cells in export_rows(chunk):
            sheet.append([_xlsx_cell(v) for v in cells])
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    workbook.save(out)
    out.seek(0)
    return out
