"""Reading uploaded CSV files: encoding and delimiter detection, refusals, rows with lines.

Japanese spreadsheets arrive as UTF-8 (with or without the BOM Excel adds), as CP932 (what
Excel in Japan writes when told "CSV"; a superset of Shift_JIS) and sometimes as UTF-16
("Unicode text", tab-delimited). The whole file is decoded strictly, first as UTF-8 then
as CP932: a file that is valid as a whole in one of them is that encoding (a non-ASCII
CP932 text is almost never valid UTF-8). ``charset-normalizer`` is only asked when neither
fits (EUC-JP, say), and its answer is accepted only if the whole file decodes with it.

Every refusal is a ``FileRefused`` whose message says why, for the upload form and the
command alike.
"""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BLOCK = 1 << 20
SAMPLE_ROWS = 10
# A cell longer than this is a broken file (an unterminated quote swallowing the rest),
# not data: no contact field is anywhere near it.
CELL_MAX = 1 << 20
_SIGNATURES = (
    (b"PK\x03\x04", gettext_lazy("an Excel workbook (.xlsx) or a ZIP archive")),
    (b"\xd0\xcf\x11\xe0", gettext_lazy("an Excel 97-2003 workbook (.xls)")),
    (b"%PDF", gettext_lazy("a PDF document")),
    (b"\x89PNG", gettext_lazy("a PNG image")),
    (b"\xff\xd8\xff", gettext_lazy("a JPEG image")),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class FileRefused(Exception):
    """The file cannot be imported; ``str(exc)`` says why, for the user."""


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str


@dataclass
class Inspection:
    """What the preview shows: the format found, the header, the first rows, the count."""

    format: CsvFormat
    header: list[str]
    rows_total: int
    sample: list[list[str]] = field(default_factory=list)


def size_check(size: int) -> None:
    """Refuse a file over ``RENKEI_IMPORT_MAX_BYTES`` (called before it is stored)."""
    limit = settings.RENKEI_IMPORT_MAX_BYTES
    if size > limit:
        raise FileRefused(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{size / 1e6:.1f}", "limit": f"{limit / 1e6:.1f}"}
        )


def csv_inspect(path: Path) -> Inspection:
    """Detect the format and read the whole file once: refuse it now rather than mid-import."""
    size_check(path.stat().st_size)
    fmt = CsvFormat(encoding=detect_encoding(path), delimiter="")
    fmt = CsvFormat(fmt.encoding, detect_delimiter(path, fmt.encoding))
    rows = csv_rows(path, fmt)
    header = _header(rows)
    sample: list[list[str]] = []
    total = 0
    for _line, cells in rows:
        total += 1
        if len(sample) < SAMPLE_ROWS:
            sample.append(cells)
    if total == 0:
        raise FileRefused(_("The file has a header but no rows to import."))
    return Inspection(format=fmt, header=header, rows_total=total, sample=sample)


def _header(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    first = next(rows, None)
    if first is None:
        raise FileRefused(_("The file is empty."))
    header = [cell.strip() for cell in first[1]]
    if not any(header):
        raise FileRefused(_("The first line (the header) is empty."))
    return header


def csv_records(path: Path, fmt: CsvFormat) -> Iterator[tuple[int, list[str]]]:
    """The data rows (after the header) with the physical line each starts on."""
    rows = csv_rows(path, fmt)
    next(rows, None)
    yield from rows


def csv_rows(path: Path, fmt: CsvFormat) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row with its first physical line (the header is line 1).

    A quoted cell may span lines; ``csv`` counts the lines it reads, so the next row's
    line is right after it. Malformed quoting raises ``FileRefused`` naming the line.
    """
    with path.open(encoding=fmt.encoding, newline="") as text:
        reader = csv.reader(text, delimiter=fmt.delimiter, strict=True)
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileRefused(
                    _("The file is not valid CSV from line %(line)d: %(reason)s.")
                    % {"line": line, "reason": _malformed_reason(str(exc))}
                ) from None
            if cells and any(cells):
                yield line, cells
            line = reader.line_num + 1


def _malformed_reason(message: str) -> str:
    if "unexpected end of data" in message:
        return _("a quoted cell is never closed (unterminated quote)")
    if "field larger than field limit" in message:
        return _("a cell is longer than %(count)d characters (an unterminated quote?)") % {
            "count": CELL_MAX
        }
    return message


csv.field_size_limit(CELL_MAX)


# ---- encoding -------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The file's encoding, or ``FileRefused`` (binary, empty, mixed, unknown)."""
    with path.open("rb") as raw:
        head = raw.read(65_536)
    if not head.strip():
        raise FileRefused(_("The file is empty."))
    for bom, name in _BOMS:
        if head.startswith(bom):
            if _decodes(path, name):
                return name
            raise FileRefused(
                _("The file starts like %(encoding)s but is not valid %(encoding)s.")
                % {"encoding": name.upper()}
            )
    _refuse_binary(head)
    for name in ("utf-8", "cp932"):
        if _decodes(path, name):
            return name
    _refuse_mixed(path)
    return _fallback_encoding(path)


def _refuse_binary(head: bytes) -> None:
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise FileRefused(
                _("This is not a CSV file: it looks like %(what)s. Save it as CSV first.")
                % {"what": what}
            )
    if b"\x00" in head:
        raise FileRefused(_("This is not a CSV file: it contains binary data (NUL bytes)."))


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as raw:
            while block := raw.read(BLOCK):
                if b"\x00" in block and not encoding.startswith("utf-16"):
                    raise FileRefused(
                        _("This is not a CSV file: it contains binary data (NUL bytes).")
                    )
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mixed(path: Path) -> None:
    """Refuse a file some of whose lines are UTF-8 and others CP932 (two files pasted
    together, or one edited in two programs), naming a line of each."""
    first: dict[str, int] = {}
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            if line.isascii():
                continue
            for name in ("utf-8", "cp932"):
                try:
                    line.decode(name)
                except UnicodeDecodeError:
                    continue
                first.setdefault(name, number)
                break
            if len(first) == 2:
                raise FileRefused(
                    _(
                        "The file mixes encodings: line %(utf8)d is UTF-8 but line "
                        "%(cp932)d is Shift_JIS (CP932). Save the whole file in one encoding."
                    )
                    % {"utf8": first["utf-8"], "cp932": first["cp932"]}
                )


def _fallback_encoding(path: Path) -> str:
    """Ask charset-normalizer; accept its answer only if the whole file decodes with it."""
    from charset_normalizer import from_bytes

    with path.open("rb") as raw:
        head = raw.read(4 * BLOCK)
    best = from_bytes(head).best()
    if best is not None and best.encoding and _decodes(path, best.encoding):
        return str(best.encoding)
    raise FileRefused(
        _(
            "The file's encoding is not supported or it mixes encodings: it is valid neither "
            "as UTF-8 nor as Shift_JIS (CP932). Save it as UTF-8 or CSV (Shift_JIS)."
        )
    )


def detect_delimiter(path: Path, encoding: str) -> str:
    """Comma or tab, whichever the header line uses more (outside quotes)."""
    with path.open(encoding=encoding, newline="") as text:
        line = text.readline()
    commas = tabs = 0
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            commas += char == ","
            tabs += char == "\t"
    return "\t" if tabs > commas else ","
