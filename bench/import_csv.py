"""CSV import of a business-card (名刺) trade-show file, on an empty database and on one
that already holds many contacts, next to a raw-insert floor.

    python -m bench.import_csv [--rows 100000] [--existing 1000000]
                               [--database sqlite|postgres|both]
                               [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

The file is generated once (CP932, as Excel in Japan writes it): 会社名, 部署名, 役職, 氏名,
氏名(カナ), メールアドレス, 電話番号, 住所, 名刺交換日, with full-width characters. Half of its
rows carry emails of the contacts seeded in the "existing" case (a quarter of those bring
a department the stored contact lacks, so they update it), half are new people.

For each database, two cases, each in a fresh database (an SQLite file in a temporary
directory; a throwaway PostgreSQL database, dropped at the end): "empty" (migrated, no
contacts) and "existing" (``--existing`` contacts and their companies inserted raw first).
Each runs ``renkei import_contacts FILE --mapping meishi --campaign … --exchange-date …``
in a subprocess (the production path: inspection, mapping, chunks, trade-show events) and
takes the import's own time from its JSON summary (Django's start-up excluded). The floor
is the same rows inserted with a raw ``executemany`` into a fresh copy of the contacts
table with the same indexes (SQLite: synchronous=OFF). Prints one JSON object.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from bench._common import run, throwaway_database

EXCHANGE_DATE = "2025-04-01"
HEADER = (
    "会社名",
    "部署名",
    "役職",
    "氏名",
    "氏名(カナ)",
    "メールアドレス",
    "電話番号",
    "住所",
    "名刺交換日",
)
FAMILY = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
)  # fmt: skip
GIVEN = (
    ("太郎", "タロウ"), ("花子", "ハナコ"), ("翔", "ショウ"), ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"), ("陽菜", "ヒナ"), ("健一", "ケンイチ"), ("さくら", "サクラ"),
)  # fmt: skip
DEPARTMENTS = ("営業部", "マーケティング部", "情報システム部", "経営企画室", "総務部")
TITLES = ("部長", "課長", "主任", "担当", "代表取締役")
PLACES = (("東京都", "03-5"), ("大阪府", "06-6"), ("愛知県", "052-9"), ("福岡県", "092-7"))
CONTACTS_PER_COMPANY = 8
FLOOR_TABLE = "contacts_contact_floor"
FLOOR_COLUMNS = (
    "email", "email_normalized", "family_name", "given_name", "family_name_kana",
    "given_name_kana", "department", "title", "phone", "prefecture", "lifecycle_stage",
    "source", "properties", "search_text", "created_at", "updated_at",
)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.setup_existing is not None:
        _setup(args.setup_existing, args.seed)
        return
    vendors = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report: dict[str, Any] = {
        "benchmark": "import_csv",
        "rows": args.rows,
        "existing": args.existing,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="renkei-import-bench-") as tmp:
        csv_path = Path(tmp) / "meishi.csv"
        write_csv(csv_path, args.rows, args.existing, args.seed)
        report["file_bytes"] = csv_path.stat().st_size
        for vendor in vendors:
            print(f"… {vendor}", file=sys.stderr)
            report[vendor] = bench_database(vendor, args, csv_path)
    if len(vendors) == 1:  # the headline keys at the top level, as the issue asks
        report.update({k: v for k, v in report[vendors[0]].items() if k.startswith("rows_per_s")})
        report["database"] = vendors[0]
        report["ratio"] = report[vendors[0]]["ratio"]
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.import_csv", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "postgresql", "both"], default="sqlite"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--setup-existing", type=int, help=argparse.SUPPRESS)
    return parser


# ---- data ---------------------------------------------------------------------------------


def person(i: int) -> dict[str, str]:
    """Contact ``i`` of the population: deterministic, so the file and the seeded contacts
    agree on who is who."""
    family, family_kana = FAMILY[i % len(FAMILY)]
    given, given_kana = GIVEN[(i // len(FAMILY)) % len(GIVEN)]
    prefecture, area = PLACES[(i // CONTACTS_PER_COMPANY) % len(PLACES)]
    company = i // CONTACTS_PER_COMPANY
    return {
        "email": f"p{i}@c{company}.example.jp",
        "family": family,
        "given": given,
        "family_kana": family_kana,
        "given_kana": given_kana,
        "company": f"株式会社テスト{company}",
        "domain": f"c{company}.example.jp",
        "department": DEPARTMENTS[i % len(DEPARTMENTS)],
        "title": TITLES[i % len(TITLES)],
        "phone": f"{area}{i % 1000:03d}"[: len(area) + (3 if len(area) == 4 else 2)]
        + f"-{1000 + (i * 7) % 9000}",
        "prefecture": prefecture,
    }


def csv_rows(rows: int, existing: int, seed: int) -> Iterator[list[str]]:
    """Half of the rows are people of the existing population, half are new."""
    rng = random.Random(seed)
    known = rng.sample(range(existing), min(rows // 2, existing)) if existing else []
    fresh = iter(range(existing, existing + rows))
    for n in range(rows):
        i = known[n // 2] if n % 2 == 0 and n // 2 < len(known) else next(fresh)
        p = person(i)
        yield [
            # Full-width letters and ㈱ as business-card scanners write them.
            p["company"].replace("株式会社", "㈱") if n % 3 == 0 else p["company"],
            p["department"],
            p["title"],
            f"{p['family']}\u3000{p['given']}",
            f"{p['family_kana']} {p['given_kana']}",
            p["email"].upper() if n % 5 == 0 else p["email"],
            p["phone"].replace("-", "－") if n % 4 == 0 else p["phone"],
            f"{p['prefecture']}千代田区丸の内{1 + i % 9}-{1 + i % 5}",
            EXCHANGE_DATE.replace("-", "/"),
        ]


def write_csv(path: Path, rows: int, existing: int, seed: int) -> None:
    import csv

    with path.open("w", encoding="cp932", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(csv_rows(rows, existing, seed))


# ---- one database ------------------------------------------------------------------------


def bench_database(vendor: str, args: argparse.Namespace, csv_path: Path) -> dict[str, Any]:
    vendor = "postgresql" if vendor == "postgres" else vendor
    out: dict[str, Any] = {}
    for case, existing in (("empty", 0), ("existing", args.existing)):
        print(f"  … {case} ({existing} contacts)", file=sys.stderr)
        with throwaway_database(vendor, args.pg_url, name="renkei_bench_import") as (url, workdir):
            env = _env(url, workdir)
            run(["-m", "renkei", "migrate", "--no-input", "-v", "0"], env)
            began = time.perf_counter()
            setup = json.loads(
                run(["-m", "bench.import_csv", "--setup-existing", str(existing)], env)
            )
            seed_seconds = time.perf_counter() - began
            summary = json.loads(
                run(
                    [
                        "-m", "renkei", "import_contacts", str(csv_path), "--mapping", "meishi",
                        "--campaign", str(setup["campaign_id"]),
                        "--exchange-date", EXCHANGE_DATE, "--as", "bench",
                    ],
                    env,
                )
            )  # fmt: skip
            out[case] = {
                "seconds": summary["seconds"],
                "rows_per_s": round(args.rows / summary["seconds"]),
                "created": summary["created"],
                "updated": summary["updated"],
                "unchanged": summary["unchanged"],
                "errors": summary["errors"],
                "events": summary["events"],
                "seed_seconds": round(seed_seconds, 1),
            }
            if case == "empty":
                out["floor_rows_per_s"] = round(_floor(vendor, url, workdir, args))
    empty, existing_rate = out["empty"]["rows_per_s"], out["existing"]["rows_per_s"]
    out["rows_per_s_empty"] = empty
    out["rows_per_s_with_existing"] = existing_rate
    out["ratio"] = round(existing_rate / empty, 3)
    out["ratio_empty_vs_floor"] = round(empty / out["floor_rows_per_s"], 3)
    return out


def _env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "renkei.settings",
        "SECRET_KEY": "bench-only-not-secret",
        "RENKEI_VAR_DIR": str(workdir),
        "RENKEI_IMPORT_DIR": str(workdir / "imports"),
        "DEBUG": "false",
    }


# ---- seeding (runs in a subprocess with the benchmark's DATABASE_URL) --------------------


def _setup(existing: int, seed: int) -> None:
    """Create the bench user and campaign, insert ``existing`` contacts raw; print JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    django.setup()
    from django.contrib.auth.models import User

    from renkei.accounts.roles import MARKETING
    from renkei.accounts.services import user_set_role
    from renkei.campaigns.models import Campaign, Channel

    user = User.objects.create_user(username="bench", password=None)
    user_set_role(user=user, role=MARKETING, actor=None)
    campaign = Campaign.objects.create(name="展示会 2025", channel=Channel.TRADE_SHOW)
    if existing:
        _seed_contacts(existing)
    print(json.dumps({"campaign_id": campaign.pk}))


def _seed_contacts(count: int) -> None:
    from django.db import connection, transaction

    from renkei.contacts.models import Company, Contact
    from renkei.demo.writer import BulkWriter
    from renkei.lib import japanese as ja

    writer = BulkWriter()
    companies = (count + CONTACTS_PER_COMPANY - 1) // CONTACTS_PER_COMPANY
    with writer.fast_session(), writer.deferred_indexes(Contact):
        company_rows = []
        for k in range(companies):
            p = person(k * CONTACTS_PER_COMPANY)
            name = p["company"]
            company_rows.append((k + 1, name, ja.normalize_company_name(name), p["domain"]))
        with transaction.atomic():
            writer.insert(Company, ("id", "name", "name_normalized", "domain"), company_rows)
        columns = (
            "id", "email", "email_normalized", "family_name", "given_name", "family_name_kana",
            "given_name_kana", "company_id", "department", "title", "phone", "prefecture",
            "lifecycle_stage", "source", "search_text", "properties",
        )  # fmt: skip
        for start in range(0, count, 50_000):
            rows = [_contact_row(i) for i in range(start, min(count, start + 50_000))]
            with transaction.atomic():
                writer.insert(Contact, columns, rows)
        writer.reset_sequences(Company, Contact)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _contact_row(i: int) -> tuple[Any, ...]:
    from renkei.lib import japanese as ja

    p = person(i)
    search = ja.search_text(
        p["family"] + p["given"], p["family_kana"] + p["given_kana"], p["email"], p["company"]
    )
    return (
        i + 1, p["email"], p["email"], p["family"], p["given"], p["family_kana"],
        p["given_kana"], i // CONTACTS_PER_COMPANY + 1,
        "" if i % 4 == 0 else p["department"],  # a quarter lack it: the import fills it in
        p["title"], ja.parse_phone(p["phone"]), p["prefecture"], "lead", "bench", search, "{}",
    )  # fmt: skip


# ---- the floor -----------------------------------------------------------------------------


def _floor(vendor: str, url: str, workdir: Path, args: argparse.Namespace) -> float:
    """Rows per second of a raw executemany of the file's contacts (already normalised)
    into a fresh copy of the contacts table with the same indexes, chunks of 2,000."""
    now = "2025-04-01 03:00:00"
    rows = []
    for cells in csv_rows(args.rows, args.existing, args.seed):
        family, given = cells[3].split("\u3000")
        family_kana, given_kana = cells[4].split(" ")
        email = cells[5].lower()
        rows.append(
            (
                email, email, family, given, family_kana, given_kana, cells[1], cells[2],
                cells[6], "東京都", "lead", "import", "{}", email + " " + family, now, now,
            )
        )  # fmt: skip
    names = ", ".join(FLOOR_COLUMNS)
    if vendor == "sqlite":
        return _sqlite_floor(workdir / "bench.sqlite3", rows, names)
    return _postgres_floor(url, rows, names)


def _sqlite_floor(path: Path, rows: list[tuple[Any, ...]], names: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'contacts_contact' "
        "AND type IN ('table', 'index') AND sql IS NOT NULL"
    ).fetchall()
    for (sql,) in ddl:
        copy = sql.replace('"contacts_contact"', f'"{FLOOR_TABLE}"')
        conn.execute(copy.replace('INDEX "', 'INDEX "floor_'))
    marks = ", ".join("?" * len(FLOOR_COLUMNS))
    insert = f"INSERT INTO {FLOOR_TABLE} ({names}) VALUES ({marks})"
    began = time.perf_counter()
    for start in range(0, len(rows), 2000):
        conn.execute("BEGIN")
        conn.executemany(insert, rows[start : start + 2000])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - began
    conn.close()
    return len(rows) / seconds


def _postgres_floor(url: str, rows: list[tuple[Any, ...]], names: str) -> float:
    marks = ", ".join(["%s"] * len(FLOOR_COLUMNS))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE contacts_contact INCLUDING ALL)")
        began = time.perf_counter()
        for start in range(0, len(rows), 2000):
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FLOOR_TABLE} ({names}) VALUES ({marks})",
                    rows[start : start + 2000],
                )
        return len(rows) / (time.perf_counter() - began)


if __name__ == "__main__":
    main()
