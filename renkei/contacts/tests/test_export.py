"""Contacts export: encodings, filters, formula neutralisation, permissions, audit, queries."""

import csv
import io
from itertools import zip_longest
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign
from renkei.contacts import export
from renkei.contacts.export import spreadsheet_safe
from renkei.contacts.models import Contact, LifecycleStage
from renkei.contacts.services import contact_scores_set, contact_upsert

EXPORT = reverse("contacts:export")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _csv_rows(data: bytes, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(encoding), newline="")))


@pytest.fixture
def people(marketer: User) -> dict[str, Contact]:
    yamada, _ = contact_upsert(
        email="taro@sakura.co.jp",
        actor=marketer,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        company_name="株式会社さくら",
        phone="03-1234-5678",
        prefecture="東京都",
        lifecycle_stage=LifecycleStage.MQL,
        properties={"関心": "MA"},
    )
    contact_scores_set({yamada.pk: 55})
    hashimoto, _ = contact_upsert(
        email="hanako@example.jp",
        actor=marketer,
        family_name="髙橋",  # an IBM extension kanji CP932 has and Shift_JIS has not
        given_name="花子",
        title="=1+1",
        department="-2+3+cmd|' /C calc'!A0",
        lifecycle_stage=LifecycleStage.LEAD,
    )
    campaign = Campaign.objects.create(name="展示会 2026", channel="trade_show")
    Contact.objects.filter(pk=yamada.pk).update(
        first_campaign=campaign,
        first_touch={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"},
        source="@import",
    )
    return {"yamada": yamada, "hashimoto": hashimoto}


# ---- spreadsheet_safe -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+81312345678", "'+81312345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),  # full-width: Excel's Japanese input reads it as "="
        ("山田", "山田"),
        ("a=1", "a=1"),
        ("", ""),
        (None, None),
        (-5, -5),  # a number cannot hold a formula
    ],
)
def test_spreadsheet_safe_neutralises_formula_triggers(value: Any, expected: Any) -> None:
    assert spreadsheet_safe(value) == expected


# ---- formats --------------------------------------------------------------------------


def test_utf8_csv_starts_with_bom_and_holds_every_column(
    marketer: User, people: dict[str, Contact]
) -> None:
    response = _client(marketer).get(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="contacts-')
    assert disposition.endswith('.csv"')
    data = _body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(data, "utf-8-sig")
    assert list(rows[0]) == export.HEADERS
    by_email = {r["email"]: r for r in rows}
    taro = by_email["taro@sakura.co.jp"]
    assert taro["family_name"] == "山田"
    assert taro["given_name_kana"] == "タロウ"
    assert taro["company"] == "株式会社さくら"
    assert taro["phone"] == "'+81312345678"  # E.164 neutralised: see the export's docs
    assert taro["lifecycle_stage"] == "MQL"
    assert taro["score"] == "55"
    assert taro["first_campaign"] == "展示会 2026"
    assert taro["first_touch_utm_source"] == "google"
    assert taro["first_touch_utm_medium"] == "cpc"
    assert taro["first_touch_utm_campaign"] == "spring"
    assert taro["source"] == "'@import"
    assert taro["properties"] == '{"関心": "MA"}'
    assert by_email["hanako@example.jp"]["first_touch_utm_source"] == ""


def test_csv_neutralises_formulas(marketer: User, people: dict[str, Contact]) -> None:
    data = _body(_client(marketer).get(EXPORT, {"format": "csv"}))
    row = {r["email"]: r for r in _csv_rows(data, "utf-8-sig")}["hanako@example.jp"]
    assert row["title"] == "'=1+1"
    assert row["department"] == "'-2+3+cmd|' /C calc'!A0"


def test_cp932_csv_decodes_with_the_cp932_codec(marketer: User, people: dict[str, Contact]) -> None:
    Contact.objects.filter(pk=people["hashimoto"].pk).update(
        title="Café 🚀 ㈱", given_name="花子\u2014"
    )
    response = _client(marketer).get(EXPORT, {"format": "csv-cp932"})
    assert response.status_code == 200
    data = _body(response)
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = {r["email"]: r for r in _csv_rows(data, "cp932")}
    assert rows["taro@sakura.co.jp"]["family_name"] == "山田"
    assert rows["taro@sakura.co.jp"]["company"] == "株式会社さくら"
    hanako = rows["hanako@example.jp"]
    assert hanako["family_name"] == "髙橋"
    # é transliterated, the emoji CP932 lacks replaced, ㈱ kept (CP932 has it); the em dash
    # becomes its CP932 twin, the horizontal bar.
    assert hanako["title"] == "Cafe ? ㈱"
    assert hanako["given_name"] == "花子\u2015"


def test_cp932_neutralises_a_look_alike_that_transliterates_to_a_trigger(
    marketer: User, people: dict[str, Contact]
) -> None:
    Contact.objects.filter(pk=people["hashimoto"].pk).update(title="\ufe66cmd")  # small "="
    data = _body(_client(marketer).get(EXPORT, {"format": "csv-cp932"}))
    row = {r["email"]: r for r in _csv_rows(data, "cp932")}["hanako@example.jp"]
    assert row["title"] == "'=cmd"


def test_xlsx_opens_with_openpyxl_and_holds_the_rows(
    marketer: User, people: dict[str, Contact]
) -> None:
    Contact.objects.filter(pk=people["hashimoto"].pk).update(given_name="花\x01子")
    response = _client(marketer).get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(_body(response)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == export.HEADERS
    # A row ends at its last written cell: empty cells are not written.
    cells = {r[1]: dict(zip_longest(export.HEADERS, r)) for r in rows[1:]}
    assert set(cells) == {"taro@sakura.co.jp", "hanako@example.jp"}
    taro = cells["taro@sakura.co.jp"]
    assert taro["family_name"] == "山田"
    assert taro["score"] == 55
    assert taro["phone"] == "'+81312345678"
    assert taro["created_at"] is not None
    hanako = cells["hanako@example.jp"]
    assert hanako["title"] == "'=1+1"  # text, not a formula
    assert hanako["department"].startswith("'-")
    assert hanako["given_name"] == "花子"  # the control character XML cannot hold is dropped


def test_xlsx_is_refused_above_the_configured_row_limit(
    marketer: User, people: dict[str, Contact], settings: Any
) -> None:
    assert export.xlsx_row_limit() == 100_000  # the default
    settings.RENKEI_EXPORT_XLSX_MAX_ROWS = 5_000_000
    assert export.xlsx_row_limit() == export.XLSX_MAX_ROWS  # never above Excel's own
    settings.RENKEI_EXPORT_XLSX_MAX_ROWS = 1  # two contacts exceed a one-row export
    response = _client(marketer).get(EXPORT, {"format": "xlsx", "stage": "mql"})
    assert response.status_code == 200  # stage=mql: one row fits
    response = _client(marketer).get(EXPORT, {"format": "xlsx"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("contacts:list"))
    (message,) = response.context["messages"]
    assert "1" in str(message) and "2" in str(message)  # the limit and the rows found
    assert not AuditEntry.objects.filter(action="contact.export", changes__rows=2).exists()


# ---- filters, bad input ---------------------------------------------------------------


def test_export_honours_the_list_filters(marketer: User, people: dict[str, Contact]) -> None:
    data = _body(_client(marketer).get(EXPORT, {"format": "csv", "stage": "mql"}))
    assert [r["email"] for r in _csv_rows(data, "utf-8-sig")] == ["taro@sakura.co.jp"]
    data = _body(_client(marketer).get(EXPORT, {"format": "csv", "q": "やまだ"}))
    assert [r["email"] for r in _csv_rows(data, "utf-8-sig")] == ["taro@sakura.co.jp"]


def test_export_ignores_the_page_cursor(marketer: User, people: dict[str, Contact]) -> None:
    after = str(max(c.pk for c in people.values()))
    data = _body(_client(marketer).get(EXPORT, {"format": "csv", "after": after}))
    assert len(_csv_rows(data, "utf-8-sig")) == 2


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"format": "pdf"}, "File format"),
        ({}, "File format"),
        ({"format": "csv", "stage": "nonsense"}, "Lifecycle stage"),
        ({"format": "csv", "score_min": "9", "score_max": "1"}, "Score to"),
    ],
)
def test_bad_export_parameters_get_a_400_naming_the_field(
    marketer: User, params: dict[str, str], named: str, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"
    response = _client(marketer).get(EXPORT, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert named in response.content.decode()


def test_the_list_offers_export_links_keeping_the_filters(
    marketer: User, viewer: User, people: dict[str, Contact]
) -> None:
    page = _client(marketer).get(reverse("contacts:list"), {"stage": "mql", "after": "99"})
    html = page.content.decode()
    assert 'id="export-menu"' in html
    assert f"{EXPORT}?stage=mql&amp;format=csv-cp932" in html
    assert "after=99&amp;format" not in html
    assert 'id="export-menu"' not in _client(viewer).get(reverse("contacts:list")).content.decode()


# ---- who may export, audit, queries ---------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("sales_rep", 403), ("marketer", 200), ("manager", 200), ("admin_user", 200)],
)
def test_export_needs_the_export_permission(
    request: pytest.FixtureRequest, role: str, status: int, people: dict[str, Contact]
) -> None:
    user = request.getfixturevalue(role)
    response = _client(user).get(EXPORT, {"format": "csv"})
    assert response.status_code == status


def test_anonymous_export_goes_to_login(db: Any) -> None:
    response = Client().get(EXPORT, {"format": "csv"})
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_each_export_is_audited_with_its_filters_and_row_count(
    marketer: User, people: dict[str, Contact]
) -> None:
    _body(_client(marketer).get(EXPORT, {"format": "csv-cp932", "stage": ["mql", "lead"]}))
    entry = AuditEntry.objects.get(action="contact.export")
    assert entry.changes["format"] == "csv-cp932"
    assert entry.changes["rows"] == 2
    assert entry.changes["filters"] == {"stages": ["mql", "lead"]}
    assert entry.actor_id == marketer.pk


def _make_contacts(count: int, marketer: User, start: int = 0) -> None:
    campaign = Campaign.objects.create(name=f"Web {start}", channel="web")
    for i in range(start, start + count):
        contact, _ = contact_upsert(
            email=f"p{i}@example{i % 7}.jp",
            actor=None,
            family_name="佐藤",
            company_name=f"会社{i % 7}",
        )
        Contact.objects.filter(pk=contact.pk).update(owner=marketer, first_campaign=campaign)


def _export_queries(client: Client, fmt: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        body = _body(client.get(EXPORT, {"format": fmt}))
    assert body
    return len(queries)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_queries_do_not_grow_per_row(marketer: User, fmt: str) -> None:
    client = _client(marketer)
    _make_contacts(10, marketer)
    with_10 = _export_queries(client, fmt)
    _make_contacts(90, marketer, start=10)
    assert _export_queries(client, fmt) == with_10


def test_export_reads_in_chunks(marketer: User) -> None:
    _make_contacts(25, marketer)
    qs = Contact.objects.order_by("-id")
    chunks = list(export.contacts_in_chunks(qs, size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    ids = [row["id"] for chunk in chunks for row in chunk]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 25
