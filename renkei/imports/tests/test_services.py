"""Importing files end to end through the services: presets, rules, errors, re-runs, events."""

import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign, Channel
from renkei.contacts.models import Company, Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event
from renkei.imports.models import ImportJob, ImportStatus, MappingPreset
from renkei.imports.services import (
    error_report_path,
    import_job_configure,
    import_job_create,
    import_job_run,
    import_job_start,
    mapping_preset_create,
    preset_mapping,
)

from .conftest import MEISHI_HEADER

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def upload(text: str, encoding: str = "utf-8", actor: Any = None, name: str = "f.csv") -> ImportJob:
    data = text.encode(encoding)
    return import_job_create(chunks=[data], filename=name, size=len(data), actor=actor)


def run(job: ImportJob, **configure: Any) -> ImportJob:
    configure.setdefault("mapping", job.mapping)
    configure.setdefault("rules", {})
    import_job_configure(job=job, actor=job.created_by, **configure)
    import_job_start(job=job, run_inline=True)
    job.refresh_from_db()
    return job


MEISHI = (
    MEISHI_HEADER
    + "\r\n株式会社ＡＢＣ,営業部,部長,髙橋　一郎,たかはし いちろう,Taka@ABC.co.jp,"
    + "０３－１２３４－５６７８,東京都千代田区丸の内1-1,2025/04/01"
    + '\r\nＡＢＣ㈱,"開発部\r\n第一課",課長,佐藤 ①子,サトウ ハナコ,'
    + "sato@abc.co.jp,06-6123-4567,大阪府大阪市北区,2025-04-02"
    + "\r\n(株)ABC,,,鈴木,,not-an-email,,,"
    + "\r\nXYZ,,,田中,,tanaka@xyz.jp,123,,"
    + '\r\n=HYPERLINK("x"),,,,,,,,'
    + "\r\n"
)


def test_business_card_cp932_file_imports_with_preset_errors_and_line_numbers(
    marketer: Any,
) -> None:
    job = upload(MEISHI, "cp932", marketer)
    assert (job.encoding, job.preset_name) == ("cp932", "meishi")
    assert job.mapping[3] == "full_name" and job.mapping[8] == "exchange_date"
    job = run(job)
    assert job.status == ImportStatus.DONE
    assert (job.rows_total, job.rows_created, job.rows_errors) == (5, 2, 3)
    taka = Contact.objects.get(email_normalized="taka@abc.co.jp")
    assert (taka.family_name, taka.given_name) == ("髙橋", "一郎")
    assert (taka.family_name_kana, taka.given_name_kana) == ("タカハシ", "イチロウ")
    assert taka.phone == "+81312345678"
    assert taka.prefecture == "東京都"
    sato = Contact.objects.get(email_normalized="sato@abc.co.jp")
    assert sato.given_name == "1子"  # NFKC: ① becomes 1, as contact_upsert stores it
    assert sato.department == "開発部\r\n第一課"
    assert Company.objects.count() == 1  # 株式会社ＡＢＣ and ＡＢＣ㈱ are one company
    company = Company.objects.get()
    assert company.address == "東京都千代田区丸の内1-1" and company.prefecture == "東京都"
    assert AuditEntry.objects.filter(action="contact.create", actor=marketer).count() == 2

    report = error_report_path(job)
    assert report is not None
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["line", "column", "value", "reason"]
    assert rows[0][4:] == MEISHI_HEADER.split(",")
    by_line = {r[0]: r for r in rows[1:]}
    # The 開発部 cell spans lines 3-4, so the next rows are on lines 5, 6 and 7.
    assert by_line["5"][1:3] == ["メールアドレス", "not-an-email"]
    assert by_line["6"][1] == "電話番号" and "phone" in by_line["6"][3]
    assert by_line["7"][1] == "メールアドレス" and "required" in by_line["7"][3]
    assert by_line["7"][4] == '\'=HYPERLINK("x")'  # neutralised formula


def test_running_the_same_file_again_changes_nothing(marketer: Any) -> None:
    campaign = Campaign.objects.create(name="展示会", channel=Channel.TRADE_SHOW)
    first = run(upload(MEISHI, "cp932", marketer), campaign_id=campaign.pk)
    assert first.events_recorded == 2
    audits, events = AuditEntry.objects.count(), Event.objects.count()
    stamps = list(Contact.objects.order_by("pk").values_list("updated_at", flat=True))
    again = run(upload(MEISHI, "cp932", marketer), campaign_id=campaign.pk)
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert again.rows_errors == 3 and again.events_recorded == 0
    assert AuditEntry.objects.count() == audits
    assert Event.objects.count() == events
    assert list(Contact.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_trade_show_visits_at_the_exchange_date(marketer: Any) -> None:
    campaign = Campaign.objects.create(name="展示会2025", channel=Channel.TRADE_SHOW)
    text = "email,name\r\na@x.jp,山田\r\nb@x.jp,佐藤\r\n"
    job = run(upload(text), campaign_id=campaign.pk, exchange_date=date(2025, 5, 10))
    events = Event.objects.filter(type="trade_show_visit").order_by("contact_id")
    assert events.count() == 2 == job.events_recorded
    noon = datetime.combine(date(2025, 5, 10), time(12), tzinfo=JST)
    assert {e.occurred_at for e in events} == {noon}
    assert {e.campaign_id for e in events} == {campaign.pk}
    contact = Contact.objects.get(email_normalized="a@x.jp")
    assert contact.first_campaign_id == campaign.pk and contact.first_touch_at == noon
    # The per-row date column wins over the job's date.
    job2 = run(upload(MEISHI, "cp932"), campaign_id=campaign.pk, exchange_date=date(2025, 5, 10))
    taka = Event.objects.get(contact__email_normalized="taka@abc.co.jp")
    assert taka.occurred_at == datetime.combine(date(2025, 4, 1), time(12), tzinfo=JST)
    assert job2.events_recorded == 2


def test_update_rules_fill_overwrite_keep() -> None:
    contact, _ = contact_upsert(
        email="taka@abc.co.jp", actor=None, family_name="高橋", title="主任", department=""
    )
    text = "Email,Last Name,Job Title,Department\r\ntaka@abc.co.jp,髙橋,部長,営業部\r\n"
    job = upload(text)
    assert job.preset_name in ("hubspot", "salesforce")
    job = run(job, rules={"family_name": "overwrite", "title": "keep"})
    assert job.rows_updated == 1
    contact.refresh_from_db()
    assert (contact.family_name, contact.title, contact.department) == ("髙橋", "主任", "営業部")
    job = run(upload(text), rules={"title": "overwrite"})
    contact.refresh_from_db()
    assert contact.title == "部長" and job.rows_updated == 1


def test_no_duplicates_within_a_file_or_across_files() -> None:
    text = "email,family_name,title\r\nA@x.jp,山田,\r\na@X.jp,山本,部長\r\nb@x.jp,佐藤,\r\n"
    job = run(upload(text), mapping=["email", "family_name", "title"])
    assert (job.rows_created, job.rows_updated) == (2, 1)
    a = Contact.objects.get(email_normalized="a@x.jp")
    assert (a.family_name, a.title) == ("山田", "部長")  # merged in file order, fill rule
    run(upload("email\r\nＡ@x.jp\r\nc@x.jp\r\n"), mapping=["email"])
    assert Contact.objects.count() == 3


def test_salesforce_japanese_headers_and_hubspot_stage(marketer: Any) -> None:
    job = upload("姓,名,メール,会社名,役職,電話\r\n山田,太郎,t@x.jp,㈱ヤマダ,部長,03-1234-5678\r\n")
    assert job.preset_name == "salesforce"
    assert job.mapping == ["family_name", "given_name", "email", "company_name", "title", "phone"]
    run(job)
    assert Contact.objects.get().company.name == "(株)ヤマダ"  # type: ignore[union-attr]  # NFKC, as company_upsert stores it
    hub = upload(
        "First Name,Last Name,Email,Company Name,Lifecycle Stage\r\n"
        "Hanako,Sato,h@x.jp,ACME,Marketing Qualified Lead\r\n"
        "Ken,Ito,k@x.jp,ACME,Hot\r\n"
    )
    assert hub.preset_name == "hubspot"
    hub = run(hub)
    assert Contact.objects.get(email_normalized="h@x.jp").lifecycle_stage == "mql"
    assert hub.rows_errors == 1  # "Hot" is not a stage


def test_no_email_column_is_refused_by_the_mapping() -> None:
    job = upload("name,company\r\n山田,ABC\r\n")
    with pytest.raises(Exception) as info:
        import_job_configure(job=job, actor=None, mapping=["full_name", "company_name"], rules={})
    assert "email" in str(info.value)


def test_saved_preset_is_suggested_for_the_same_header(marketer: Any) -> None:
    mapping_preset_create(
        name="展示会フォーム",
        mapping={"メール": "email", "来場ブース": "property:booth"},
        rules={},
        actor=marketer,
    )
    job = upload("メール,来場ブース,ご意見\r\na@x.jp,A-1,よい\r\n")
    assert job.preset_name == "展示会フォーム"
    assert job.mapping == ["email", "property:booth", ""]
    assert preset_mapping(name="展示会フォーム", header=job.header) == job.mapping
    run(job)
    assert Contact.objects.get().properties == {"booth": "A-1"}
    assert MappingPreset.objects.count() == 1


def test_a_job_runs_once() -> None:
    job = upload("email\r\na@x.jp\r\n")
    import_job_configure(job=job, actor=None, mapping=["email"], rules={})
    assert import_job_start(job=job, run_inline=True) is True
    assert import_job_start(job=job, run_inline=True) is False
    assert import_job_run(job_id=job.pk) is None  # done: not run again


def test_refused_upload_keeps_no_file(_import_dir: Path) -> None:
    from renkei.imports.reading import FileRefused

    with pytest.raises(FileRefused):
        upload("")
    assert list(_import_dir.iterdir()) == []
    assert not ImportJob.objects.exists()
