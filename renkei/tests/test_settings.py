"""Settings come from the environment only; each case runs in a fresh Python process."""

import json
import os
import stat
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
# Variables the settings read; each test starts from none of them unless it sets one.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "SECRET_KEY",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "ALLOWED_HOSTS",
    "DEBUG",
    "RENKEI_TEST_DB_NAME",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "DEFAULT_FROM_EMAIL",
    "TASKS_BACKEND",
)

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connection

db = settings.DATABASES["default"]
out = {
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "secret_key": settings.SECRET_KEY,
    "time_zone": settings.TIME_ZONE,
    "language_code": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES],
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "debug": settings.DEBUG,
    "email": [settings.EMAIL_HOST, settings.EMAIL_PORT, settings.DEFAULT_FROM_EMAIL],
    "tasks_backend": settings.TASKS["default"]["BACKEND"],
}
if connection.vendor == "sqlite":
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        out["journal_mode"] = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        out["synchronous"] = cursor.fetchone()[0]
print(json.dumps(out))
"""


def clean_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(RENKEI_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="renkei.settings", **overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def probe(var_dir: Path, **overrides: str) -> dict[str, Any]:
    done = run_python(PROBE, clean_env(var_dir, **overrides))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_without_database_url_an_sqlite_file_in_the_var_dir_runs_in_wal_mode(
    tmp_path: Path,
) -> None:
    found = probe(tmp_path)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert Path(found["name"]) == tmp_path / "renkei.sqlite3"
    assert found["journal_mode"] == "wal"
    assert found["synchronous"] == 1  # NORMAL
    assert (tmp_path / "renkei.sqlite3").exists()


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    env = clean_env(tmp_path, DATABASE_URL="postgres://renkei:pw@db.example:5433/renkei_prod")
    done = run_python(code, env)
    assert done.returncode == 0, done.stderr
    db = json.loads(done.stdout)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == (
        "renkei_prod",
        "renkei",
        "db.example",
        5433,
    )
    assert not (tmp_path / "renkei.sqlite3").exists()


def test_secret_key_is_generated_once_into_the_var_dir_and_stays(tmp_path: Path) -> None:
    first = probe(tmp_path)["secret_key"]
    second = probe(tmp_path)["secret_key"]
    assert first == second
    assert len(first) >= 50
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_each_var_dir_gets_its_own_secret_key(tmp_path: Path) -> None:
    assert probe(tmp_path / "a")["secret_key"] != probe(tmp_path / "b")["secret_key"]


def test_secret_key_from_the_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    assert probe(tmp_path, SECRET_KEY="from-env-" + "x" * 50)["secret_key"].startswith("from-env")
    assert not (tmp_path / "secret_key").exists()


def test_defaults_are_japanese_tokyo_and_not_debug(tmp_path: Path) -> None:
    found = probe(tmp_path)
    assert found["time_zone"] == "Asia/Tokyo"
    assert found["language_code"] == "ja"
    assert found["languages"] == ["ja", "en"]
    assert found["debug"] is False
    assert found["tasks_backend"] == "django_tasks_db.DatabaseBackend"


def test_time_zone_language_and_debug_come_from_the_environment(tmp_path: Path) -> None:
    found = probe(tmp_path, TIME_ZONE="UTC", LANGUAGE_CODE="en", DEBUG="true")
    assert (found["time_zone"], found["language_code"], found["debug"]) == ("UTC", "en", True)


def test_allowed_hosts_come_from_the_environment(tmp_path: Path) -> None:
    found = probe(tmp_path, ALLOWED_HOSTS=" renkei.example.co.jp, .example.jp ,")
    assert found["allowed_hosts"] == ["renkei.example.co.jp", ".example.jp"]
    assert "127.0.0.1" in probe(tmp_path)["allowed_hosts"]


def test_email_settings_come_from_the_environment(tmp_path: Path) -> None:
    found = probe(
        tmp_path,
        EMAIL_HOST="smtp.example.jp",
        EMAIL_PORT="587",
        DEFAULT_FROM_EMAIL="marketing@example.jp",
    )
    assert found["email"] == ["smtp.example.jp", 587, "marketing@example.jp"]


# --- the `renkei` command -------------------------------------------------------------------


def test_renkei_console_script_is_declared_and_points_at_a_callable() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    target = pyproject["project"]["scripts"]["renkei"]
    module, _, attribute = target.partition(":")
    assert callable(getattr(import_module(module), attribute))


def test_python_m_renkei_check_passes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "renkei", "check"],
        cwd=REPO,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_installed_renkei_command_runs_management_commands(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "renkei"
    if not script.exists():
        pytest.skip(f"{script} is missing: Renkei is not installed in this environment")
    done = subprocess.run(
        [str(script), "check"],
        cwd=tmp_path,  # the installed command must not depend on the working directory
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
