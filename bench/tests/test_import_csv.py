"""bench.import_csv at a tiny size: it runs end to end and prints the expected keys (no
timings are asserted)."""

import json
import subprocess
import sys
from pathlib import Path

from bench.import_csv import csv_rows, person

ROOT = Path(__file__).resolve().parent.parent.parent


def test_file_mixes_existing_and_new_people() -> None:
    rows = list(csv_rows(10, 100, seed=1))
    emails = [r[5].lower() for r in rows]
    assert len(set(emails)) == 10
    existing = {person(i)["email"] for i in range(100)}
    assert sum(e in existing for e in emails) == 5
    assert all(r[8] == "2025/04/01" for r in rows)


def test_tiny_run_prints_the_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_csv", "--rows", "200", "--existing", "500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in ("rows_per_s_empty", "rows_per_s_with_existing", "ratio", "database", "rows"):
        assert key in report
    sqlite = report["sqlite"]
    assert sqlite["empty"]["created"] == 200
    assert sqlite["existing"]["created"] == 100  # half of the rows were people seeded first
    assert sqlite["existing"]["errors"] == 0 and sqlite["floor_rows_per_s"] > 0
