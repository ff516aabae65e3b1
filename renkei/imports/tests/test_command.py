"""``renkei import_contacts``: exit codes and the JSON summary, in a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from renkei.contacts.models import Contact
from renkei.tests.test_worker import database_url_of_test_db

from .conftest import MEISHI_HEADER, write

ROWS = (
    "\r\n㈱ABC,営業部,部長,山田 太郎,,taro@abc.co.jp,03-1234-5678,,2025/04/01\r\nABC,,,,,bad,,,\r\n"
)


def command(*args: str, import_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "RENKEI_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "DJANGO_SETTINGS_MODULE": "renkei.settings",
        "RENKEI_IMPORT_DIR": str(import_dir),
        "LANGUAGE_CODE": "en",
    }
    return subprocess.run(
        [sys.executable, "-m", "renkei", "import_contacts", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_command_imports_and_prints_a_summary(
    tmp_path: Path, marketer: Any, _import_dir: Path
) -> None:
    path = write(tmp_path / "meishi.csv", MEISHI_HEADER + ROWS, "cp932")
    done = command(str(path), "--mapping", "meishi", "--as", "marketer", import_dir=_import_dir)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "done" and summary["encoding"] == "cp932"
    assert (summary["rows"], summary["created"], summary["errors"]) == (2, 1, 1)
    assert Path(summary["error_report"]).is_file()
    assert "2/2 rows" in done.stderr  # the progress line
    assert Contact.objects.get().email_normalized == "taro@abc.co.jp"
    again = json.loads(command(str(path), import_dir=_import_dir).stdout)
    assert (again["created"], again["unchanged"], again["preset"]) == (0, 1, "meishi")


@pytest.mark.django_db(transaction=True)
def test_command_refusals_exit_with_2(tmp_path: Path, _import_dir: Path) -> None:
    good = write(tmp_path / "ok.csv", MEISHI_HEADER + ROWS)
    empty = write(tmp_path / "empty.csv", "")
    no_email = write(tmp_path / "names.csv", "name,company\r\n山田,ABC\r\n")
    cases = [
        ((str(empty),), "empty"),
        ((str(good), "--mapping", "nope"), "no preset"),
        ((str(no_email),), "email"),
        ((str(good), "--rules", "title=always"), "rule"),
        ((str(tmp_path / "missing.csv"),), "no such file"),
    ]
    for args, words in cases:
        done = command(*args, import_dir=_import_dir)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr, (args, done.stderr)
    assert not Contact.objects.exists()
    assert list(_import_dir.glob("*.csv")) == []
