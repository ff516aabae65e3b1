"""The import pages with the test client: upload → preview → confirm → job page."""

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from renkei.campaigns.models import Campaign, Channel
from renkei.contacts.models import Contact
from renkei.events.models import Event
from renkei.imports.models import ImportJob, ImportStatus, MappingPreset

from .conftest import MEISHI_HEADER

pytestmark = pytest.mark.django_db
CSV = (
    MEISHI_HEADER
    + "\r\n株式会社ＡＢＣ,営業部,部長,山田 太郎,ヤマダ タロウ,"
    + "taro@abc.co.jp,03-1234-5678,東京都港区,2025/04/01"
    + "\r\nABC,,,<script>alert(1)</script>,,bad,,,\r\n"
)


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def upload(client: Client, data: bytes, **extra: Any) -> Any:
    return client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("名刺.csv", data, content_type="text/csv"), **extra},
    )


def mapping_post(job: ImportJob, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"column_{i}": t for i, t in enumerate(job.mapping)}
    data.update({f"rule_{i}": "fill" for i in range(len(job.header))})
    data.update(extra)
    return data


def test_upload_preview_confirm_and_job_page(marketer: Any) -> None:
    campaign = Campaign.objects.create(name="展示会", channel=Channel.TRADE_SHOW)
    client = login(marketer)
    response = upload(client, CSV.encode("cp932"))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:preview", args=[job.pk]
    )

    preview = client.get(response["Location"])
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "cp932" in page and "株式会社ＡＢＣ" in page
    assert "プリセット: 名刺管理アプリ" in page  # the suggested preset by its label, not slug
    assert "&lt;script&gt;" in page and "<script>alert" not in page  # escaped
    assert re.search(r'<option value="full_name" selected>', page)

    data = mapping_post(
        job, campaign=campaign.pk, exchange_date="2025-04-01", save_preset_as="私の名刺"
    )
    response = client.post(reverse("imports:preview", args=[job.pk]), data)
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:confirm", args=[job.pk]
    )
    assert MappingPreset.objects.filter(name="私の名刺").exists()

    assert client.get(response["Location"]).status_code == 200
    response = client.post(reverse("imports:confirm", args=[job.pk]))
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and (job.rows_created, job.rows_errors) == (1, 1)
    assert Contact.objects.get().email_normalized == "taro@abc.co.jp"
    assert Event.objects.get().campaign_id == campaign.pk

    detail = client.get(response["Location"]).content.decode()
    assert 'data-count="created">1<' in detail
    assert reverse("imports:errors", args=[job.pk]) in detail
    assert "hx-get" not in detail  # finished: no more polling
    errors = client.get(reverse("imports:errors", args=[job.pk]))
    assert errors.status_code == 200 and errors["Content-Disposition"].startswith("attachment")
    body = b"".join(errors.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"\xef\xbb\xbf")
    listing = client.get(reverse("imports:list")).content.decode()
    assert "名刺.csv" in listing


def test_a_running_job_page_polls_its_progress(marketer: Any) -> None:
    client = login(marketer)
    upload(client, CSV.encode())
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("imports:progress", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert client.get(reverse("imports:progress", args=[job.pk])).status_code == 200


def test_form_errors_name_the_field(marketer: Any) -> None:
    client = login(marketer)
    response = upload(client, b"\x00\x01binary")
    assert response.status_code == 400
    assert "NUL" in response.content.decode() or "バイナリ" in response.content.decode()
    assert not ImportJob.objects.exists()
    upload(client, CSV.encode())
    job = ImportJob.objects.get()
    data = mapping_post(job, column_5="", column_0="company_name", column_1="company_name")
    response = client.post(reverse("imports:preview", args=[job.pk]), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "column_1" in form.errors  # mapped twice
    assert form.non_field_errors()  # no email column


def test_oversized_upload_is_refused_before_reading(marketer: Any, settings: Any) -> None:
    settings.RENKEI_IMPORT_MAX_BYTES = 100
    client = login(marketer)
    response = upload(client, b"email\r\n" + b"a@x.jp\r\n" * 20000)
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_viewer_gets_403_and_anonymous_is_sent_to_login(viewer: Any, marketer: Any) -> None:
    client = login(viewer)
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, CSV.encode()).status_code == 403
    login(marketer).post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("a.csv", CSV.encode())}
    )
    job = ImportJob.objects.get()
    for name in ("detail", "preview", "confirm", "progress", "errors"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 403
    anonymous = Client().get(reverse("imports:list"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_failed_or_stalled_import_runs_again_and_a_live_one_does_not(
    marketer: Any, viewer: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from renkei.imports.services import import_job_run

    client = login(marketer)
    upload(client, CSV.encode())
    job = ImportJob.objects.get()
    client.post(reverse("imports:preview", args=[job.pk]), mapping_post(job))
    retry = reverse("imports:retry", args=[job.pk])
    now = timezone.now()

    # Running, with progress a minute ago: its worker is alive, no button, refused.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=now, progress_at=now - timedelta(minutes=1)
    )
    assert retry not in client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    client.post(retry)
    assert ImportJob.objects.get().status == ImportStatus.RUNNING

    # No progress for 11 minutes: the worker died. A viewer may not, the marketer may.
    ImportJob.objects.filter(pk=job.pk).update(progress_at=now - timedelta(minutes=11))
    assert retry in client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert login(viewer).post(retry).status_code == 403
    assert client.get(retry).status_code == 405
    response = client.post(retry)
    assert response.status_code == 302
    assert ImportJob.objects.get().status == ImportStatus.PENDING
    assert import_job_run(job_id=job.pk) is not None
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE and job.rows_created == 1 and job.rows_errors == 1
    assert Contact.objects.filter(email_normalized="taro@abc.co.jp").count() == 1

    # Done: nothing to run again.
    client.post(retry)
    assert ImportJob.objects.get().status == ImportStatus.DONE
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
    client.post(retry)
    assert ImportJob.objects.get().status == ImportStatus.PENDING
