"""The marketer's form pages and the admin's capture settings page: who may do what, the
form builder, the embed snippet and the submissions list."""

import html as html_lib
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign
from renkei.capture import views as capture_views
from renkei.capture.models import CaptureSettings, FormField, WebForm
from renkei.capture.services import SubmissionContext, webform_submit
from renkei.capture.tests.conftest import ALLOWED_ORIGIN, found
from renkei.contacts.models import Contact

pytestmark = pytest.mark.django_db

LIST = reverse("capture:list")
NEW = reverse("capture:create")
SETTINGS = reverse("capture:settings")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(label_ja: str, kind: str, target: str, order: int, **extra: Any) -> dict[str, Any]:
    return {"label_ja": label_ja, "type": kind, "target": target, "ORDER": order, **extra}


def _post_data(rows: list[dict[str, Any]], initial: int = 0, **settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "展示会フォーム",
        "title_ja": "展示会 来場登録",
        "title_en": "Trade show registration",
        "is_active": "on",
        "fields-TOTAL_FORMS": str(len(rows)),
        "fields-INITIAL_FORMS": str(initial),
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "50",
        **settings,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value is not False:
                data[f"fields-{index}-{key}"] = value
    return data


STANDARD_ROWS = [
    _row("メールアドレス", "email", "email", 2, label_en="Email", required=True),
    _row("会社名", "text", "company_name", 1, label_en="Company", required=True),
    _row("予算", "select", "property", 3, property_key="budget",
         options="low | 100万円未満 | Under 1M\nhigh | 100万円以上 | 1M or more"),
    {"label_ja": "", "type": "text", "target": "", "ORDER": ""},  # a blank row: ignored
]  # fmt: skip


def _submit(webform: WebForm, count: int) -> None:
    for i in range(count):
        webform_submit(
            form=webform,
            answers={"email": f"lead{i}@example.jp", "company_name": f"株式会社テスト{i % 3}",
                     "family_name": f"リード{i}"},
            context=SubmissionContext(page_url=f"https://www.sakura-kogyo.co.jp/p/{i}"),
        )  # fmt: skip


# ---- who may do what ----------------------------------------------------------------------


def test_every_role_sees_the_forms_list_with_counts_but_only_marketing_up_may_add(
    webform: WebForm, viewer: User, sales_rep: User, marketer: User, manager: User
) -> None:
    _submit(webform, 2)
    for user in (viewer, sales_rep):
        response = _client(user).get(LIST)
        page = response.content.decode()
        assert response.status_code == 200 and "資料請求フォーム" in page
        assert NEW not in page and reverse("capture:edit", args=[webform.pk]) not in page
        assert _client(user).get(NEW).status_code == 403
        assert _client(user).post(NEW, _post_data(STANDARD_ROWS)).status_code == 403
        assert _client(user).get(reverse("capture:edit", args=[webform.pk])).status_code == 403
        assert _client(user).post(reverse("capture:delete", args=[webform.pk])).status_code == 403
        assert _client(user).get(reverse("capture:detail", args=[webform.pk])).status_code == 200
    for user in (marketer, manager):
        page = _client(user).get(LIST).content.decode()
        assert NEW in page and _client(user).get(NEW).status_code == 200
    row = re.search(rf'<tr data-form-id="{webform.pk}">.*?</tr>', page, re.S)
    assert row is not None and '<td class="num">2</td>' in row.group(0)
    assert WebForm.objects.count() == 1


def test_anonymous_users_are_sent_to_log_in(client: Client, webform: WebForm) -> None:
    for path in (LIST, NEW, reverse("capture:detail", args=[webform.pk]), SETTINGS):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_only_admins_change_the_capture_settings(
    capture_settings: CaptureSettings, marketer: User, manager: User, admin_user: User
) -> None:
    for user in (marketer, manager):
        assert _client(user).get(SETTINGS).status_code == 403
        assert _client(user).post(SETTINGS, {"allowed_origins": "https://x.jp"}).status_code == 403
    admin = _client(admin_user)
    page = admin.get(SETTINGS).content.decode()
    assert ALLOWED_ORIGIN in page
    response = admin.post(
        SETTINGS,
        {"allowed_origins": "https://a.example.jp\nnot an origin\n",
         "allowed_redirect_domains": "example.jp", "honour_do_not_track": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "2" in found(r"invalid-feedback[^>]*>([^<]*)", response.content.decode())
    assert CaptureSettings.current().origin_list == [ALLOWED_ORIGIN]
    response = admin.post(
        SETTINGS,
        {"allowed_origins": "https://a.example.jp/\n\nhttps://B.example.jp",
         "allowed_redirect_domains": "example.jp", "honour_do_not_track": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    current = CaptureSettings.current()
    assert current.origin_list == ["https://a.example.jp", "https://b.example.jp"]
    assert current.honour_do_not_track is True
    entry = AuditEntry.objects.filter(action="capture_settings.update").latest("id")
    assert entry.actor_id == admin_user.pk


# ---- the form builder ---------------------------------------------------------------------


def test_a_new_form_starts_with_the_usual_japanese_fields(marketer: User, db: Any) -> None:
    page = _client(marketer).get(NEW).content.decode()
    assert 'value="メールアドレス"' in page and 'value="会社名"' in page
    assert 'name="fields-TOTAL_FORMS" value="8"' in page  # five starters, three blank


def test_a_marketer_builds_a_form_with_ordered_fields_and_a_custom_property(
    marketer: User, capture_settings: CaptureSettings
) -> None:
    campaign = Campaign.objects.create(name="展示会 2026", channel="trade_show")
    data = _post_data(STANDARD_ROWS, campaign=str(campaign.pk))
    response = _client(marketer).post(NEW, data)
    webform = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("capture:detail", args=[webform.pk])
    assert webform.campaign_id == campaign.pk and webform.title_en == "Trade show registration"
    fields = list(webform.fields.order_by("position"))
    assert [f.target for f in fields] == ["company_name", "email", "property:budget"]
    assert fields[2].choices("en") == [("low", "Under 1M"), ("high", "1M or more")]
    assert AuditEntry.objects.filter(action="webform.create", actor=marketer).exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row("会社名", "text", "company_name", 1)], "email field"),
        ([*STANDARD_ROWS[:1], _row("規模", "select", "property", 2, property_key="size")],
         "at least one option"),
        ([*STANDARD_ROWS[:1], _row("規模", "text", "property", 2)], "property"),
        ([*STANDARD_ROWS[:1], _row("同意", "checkbox", "title", 2)], "checkbox"),
        ([*STANDARD_ROWS[:1], _row("部署", "text", "department", 2),
          _row("部署2", "text", "department", 3)], "already stored"),
    ],
)  # fmt: skip
def test_a_broken_form_is_shown_again_with_the_problem_and_nothing_saved(
    marketer: User, capture_settings: CaptureSettings, rows: list[dict[str, Any]], message: str
) -> None:
    with_language = _client(marketer)
    with_language.cookies["django_language"] = "en"
    response = with_language.post(NEW, _post_data(rows))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebForm.objects.exists()


def test_a_redirect_to_a_domain_not_allowed_is_refused_on_save(
    marketer: User, capture_settings: CaptureSettings
) -> None:
    data = _post_data(STANDARD_ROWS, redirect_url="https://evil.example/thanks")
    response = _client(marketer).post(NEW, data)
    page = response.content.decode()
    assert response.status_code == 200 and "sakura-kogyo.co.jp" in page
    assert 'name="redirect_url"' in page and "is-invalid" in page
    assert not WebForm.objects.exists()
    data["redirect_url"] = "https://www.sakura-kogyo.co.jp/thanks"
    assert _client(marketer).post(NEW, data).status_code == 302


def test_editing_reorders_removes_and_adds_fields(webform: WebForm, manager: User) -> None:
    client = _client(manager)
    edit = reverse("capture:edit", args=[webform.pk])
    page = client.get(edit).content.decode()
    assert 'value="資料請求フォーム"' in page and 'value="company_size"' in page
    rows = [
        _row("メール", "email", "email", 1, required=True),
        _row("会社名", "text", "company_name", 3, DELETE=True),
        _row("役職", "text", "title", 2),
    ]
    response = client.post(edit, _post_data(rows, initial=2, name="改訂"))
    assert response.status_code == 302
    webform.refresh_from_db()
    assert webform.name == "改訂"
    assert list(webform.fields.values_list("target", flat=True)) == ["email", "title"]
    assert FormField.objects.count() == 2


def test_deleting_a_form_asks_first_and_keeps_its_contacts(
    webform: WebForm, marketer: User
) -> None:
    _submit(webform, 1)
    client = _client(marketer)
    delete = reverse("capture:delete", args=[webform.pk])
    assert "1" in client.get(delete).content.decode()
    response = client.post(delete)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not WebForm.objects.exists() and Contact.objects.count() == 1


# ---- the detail page ------------------------------------------------------------------------


def test_the_detail_page_shows_the_embed_snippet_hosted_urls_and_iframe(
    webform: WebForm, viewer: User
) -> None:
    page = _client(viewer).get(reverse("capture:detail", args=[webform.pk])).content.decode()
    key = webform.key
    snippet = html_lib.unescape(found(r'id="snippet-ja"[^>]*>(.*?)</textarea>', page))
    assert snippet.startswith(
        f'<form data-renkei-form="{key}" action="http://testserver/f/{key}/submit" method="post"'
    )
    assert '<script src="http://testserver/t/renkei.js" defer></script>' in snippet
    assert 'name="_rk_website" value="" tabindex="-1" autocomplete="off"' in snippet
    assert '<input type="hidden" name="_rk_vid" value="">' in snippet
    assert '<input type="hidden" name="_rk_url" value="">' in snippet
    assert "メールアドレス" in snippet and "個人情報の取り扱いに同意します。" in snippet
    english = html_lib.unescape(found(r'id="snippet-en"[^>]*>(.*?)</textarea>', page))
    assert "Your question" in english and 'name="_rk_lang" value="en"' in english
    assert f"http://testserver/f/{key}/?lang=ja" in page
    assert f"http://testserver/f/{key}/?lang=en" in page
    assert "&lt;iframe src=&quot;http://testserver/f/" in page
    assert "<form data-renkei-form" not in page  # shown as code, never as live HTML


def test_the_embed_snippet_posted_as_is_creates_the_contact(
    client: Client, webform: WebForm, rf: Any
) -> None:
    request = rf.get("/")
    snippet = capture_views.snippet(request, webform, "ja")
    action = found(r'action="([^"]+)"', snippet).removeprefix("http://testserver")
    names = set(re.findall(r'name="([^"]+)"', snippet))
    assert names >= {"email", "company_name", "_rk_website", "_rk_vid", "_rk_url", "utm_source"}
    data = {name: "" for name in names}
    data.update({"email": "embed@example.jp", "company_name": "埋め込み株式会社",
                 "family_name": "埋込", "_rk_lang": "ja"})  # fmt: skip
    response = client.post(
        action, data, HTTP_REFERER="https://www.sakura-kogyo.co.jp/lp?utm_source=x"
    )
    assert response.status_code == 303
    contact = Contact.objects.get(email="embed@example.jp")
    assert (contact.first_touch or {}).get("utm_source") == "x"


def test_submissions_are_listed_newest_first_in_keyset_pages(
    webform: WebForm, viewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _submit(webform, 5)
    monkeypatch.setattr(capture_views, "SUBMISSIONS_PAGE_SIZE", 2)
    client = _client(viewer)
    detail = reverse("capture:detail", args=[webform.pk])
    seen: list[str] = []
    url = detail
    for _ in range(5):
        page = client.get(url).content.decode()
        seen += re.findall(r"リード(\d)", page)
        more = re.search(r'rel="next" href="([^"]+)"', page)
        if more is None:
            break
        url = detail + html_lib.unescape(more.group(1)).split("#")[0]
    assert seen == ["4", "3", "2", "1", "0"]


def test_the_detail_page_makes_the_same_queries_for_many_submissions(
    webform: WebForm, viewer: User
) -> None:
    client = _client(viewer)
    detail = reverse("capture:detail", args=[webform.pk])
    _submit(webform, 2)
    with CaptureQueriesContext(connection) as few:
        client.get(detail)
    _submit(webform, 20)
    with CaptureQueriesContext(connection) as many:
        client.get(detail)
    assert len(many) == len(few)


def test_a_damaged_page_cursor_shows_the_newest_page(webform: WebForm, viewer: User) -> None:
    _submit(webform, 1)
    response = _client(viewer).get(reverse("capture:detail", args=[webform.pk]) + "?before=xx~y")
    assert response.status_code == 200 and "リード0" in response.content.decode()


def test_a_form_whose_redirect_domain_was_withdrawn_says_so(webform: WebForm, viewer: User) -> None:
    WebForm.objects.filter(pk=webform.pk).update(redirect_url="https://gone.example.jp/")
    page = _client(viewer).get(reverse("capture:detail", args=[webform.pk])).content.decode()
    assert 'id="redirect-warning"' in page


def test_the_service_checks_the_fields_again_and_its_problems_are_shown(
    marketer: User, capture_settings: CaptureSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from renkei.capture import forms as capture_forms

    monkeypatch.setattr(capture_forms.BaseFieldFormSet, "clean", lambda self: None)
    client = _client(marketer)
    client.cookies["django_language"] = "en"
    response = client.post(NEW, _post_data([_row("会社名", "text", "company_name", 1)]))
    assert response.status_code == 200
    assert "email field" in found(r'id="fields-errors">(.*?)</div>', response.content.decode())
    assert not WebForm.objects.exists()
