"""Reading files: encodings, delimiters, refusals with a reason, physical line numbers."""

import zipfile
from pathlib import Path
from typing import Any

import pytest

from renkei.imports.reading import FileRefused, csv_inspect, csv_records

from .conftest import MEISHI_HEADER, write

ROW = (
    "株式会社ＡＢＣ,営業部,部長,髙橋　①,タカハシ,"
    "ｔａｋａ@abc.co.jp,03-1234-5678,東京都千代田区,2025/04/01"
)


def test_cp932_file_with_full_width_characters_is_detected(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv", f"{MEISHI_HEADER}\r\n{ROW}\r\n㈱XYZ,,,,,b@x.jp,,,\r\n", "cp932"
    )
    found = csv_inspect(path)
    assert (found.format.encoding, found.format.delimiter) == ("cp932", ",")
    assert found.header[3] == "氏名" and found.rows_total == 2
    assert found.sample[0][3] == "髙橋\u3000①"
    assert found.sample[1][0] == "㈱XYZ"


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16")]
)
def test_utf8_with_and_without_bom_and_utf16(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path / "a.csv", f"{MEISHI_HEADER}\n{ROW}\n", encoding)
    found = csv_inspect(path)
    assert found.format.encoding == expected
    assert found.header[0] == "会社名"  # no BOM left in the first header


def test_tab_delimited(tmp_path: Path) -> None:
    text = MEISHI_HEADER.replace(",", "\t") + "\n" + ROW.replace(",", "\t") + "\n"
    found = csv_inspect(write(tmp_path / "a.tsv", text))
    assert found.format.delimiter == "\t"
    assert found.sample[0][5] == "ｔａｋａ@abc.co.jp"


def refusal(path: Path) -> str:
    with pytest.raises(FileRefused) as info:
        csv_inspect(path)
    return str(info.value)


def test_refusals_say_why(tmp_path: Path, settings: Any) -> None:
    assert "empty" in refusal(write(tmp_path / "e.csv", ""))
    assert "no rows" in refusal(write(tmp_path / "h.csv", MEISHI_HEADER + "\r\n"))
    assert "NUL" in refusal(write(tmp_path / "b.csv", "a,b\n\x00\x01\x02,3\n"))
    xlsx = tmp_path / "book.csv"
    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "Excel" in refusal(xlsx)
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(
        MEISHI_HEADER.encode("utf-8")
        + b"\n"
        + ROW.encode("utf-8")
        + b"\n"
        + ROW.encode("cp932")
        + b"\n"
    )
    message = refusal(mixed)
    assert "mixes encodings" in message and "line 1" in message and "line 3" in message
    quote = write(tmp_path / "q.csv", 'email,name\na@b.jp,"unterminated\nc@d.jp,x\n')
    assert "unterminated quote" in refusal(quote)
    settings.RENKEI_IMPORT_MAX_BYTES = 10
    assert "limit" in refusal(write(tmp_path / "big.csv", MEISHI_HEADER + "\n" + ROW))


def test_line_numbers_count_physical_lines_of_multiline_cells(tmp_path: Path) -> None:
    text = (
        'email,note\r\na@x.jp,"two\r\nlines"\r\n\r\n'
        'b@x.jp,x\r\nc@x.jp,"three\nline\ncell"\nd@x.jp,y\n'
    )
    path = write(tmp_path / "a.csv", text)
    found = csv_inspect(path)
    rows = list(csv_records(path, found.format))
    assert [line for line, _cells in rows] == [2, 5, 6, 9]
