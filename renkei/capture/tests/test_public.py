"""The public form endpoints as other sites and browsers use them: the hosted page, HTML
form posts, JSON posts from allowed origins, and every kind of bad or hostile input."""

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.capture.models import CaptureSettings, FormSubmission, WebForm
from renkei.capture.rules import FieldSpec
from renkei.capture.services import capture_settings_update, webform_create, webform_update
from renkei.capture.tests.conftest import ALLOWED_DOMAIN, ALLOWED_ORIGIN, found
from renkei.contacts.models import Company, Consent, Contact
from renkei.events.models import Event, Visitor
from renkei.events.services import EventInput, events_record

pytestmark = pytest.mark.django_db

PAGE = "https://www.sakura-kogyo.co.jp/lp/brochure?utm_source=google&utm_medium=cpc"
GOOD = {
    "company_name": "株式会社さくら工業",
    "family_name": "山田",
    "given_name": "太郎",
    "email": "taro@sakura-kogyo.co.jp",
    "phone": "03-1234-5678",
    "property:company_size": "large",
    "property:inquiry": "見積もりをお願いします",
    "email_opt_in": "on",
    "_rk_url": PAGE,
    "_rk_website": "",
}


def _url(name: str, webform: WebForm) -> str:
    return reverse(f"capture:{name}", args=[webform.key])


def _post(client: Client, webform: WebForm, data: dict[str, Any], **headers: Any) -> Any:
    return client.post(_url("submit", webform), data, **headers)


def _post_json(client: Client, webform: WebForm, data: Any, origin: str = ALLOWED_ORIGIN) -> Any:
    headers: dict[str, Any] = {"HTTP_ORIGIN": origin} if origin else {}
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(_url("submit", webform), body, content_type="application/json", **headers)


def _nothing_stored() -> bool:
    return not (
        Contact.objects.exists()
        or Event.objects.exists()
        or FormSubmission.objects.exists()
        or Consent.objects.exists()
    )


# ---- the hosted page --------------------------------------------------------------------


def test_the_hosted_page_in_japanese_has_every_hidden_input_and_the_tracking_script(
    client: Client, webform: WebForm
) -> None:
    response = client.get(
        _url("form", webform) + "?utm_source=google&utm_campaign=lp2026",
        HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5",
        HTTP_REFERER="https://www.google.co.jp/",
    )
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "ja"
    assert '<meta charset="utf-8">' in html and '<html lang="ja">' in html
    assert "資料請求" in html and "メールアドレス" in html and "50名以上" in html
    assert "個人情報の取り扱いに同意します。" in html and "メールマガジンを受け取る" in html
    assert f'data-renkei-form="{webform.key}"' in html
    assert f'action="/f/{webform.key}/submit"' in html
    assert (
        '<input type="text" id="rk-hp" name="_rk_website" value="" tabindex="-1" '
        'autocomplete="off">' in html
    )
    assert '<input type="hidden" name="_rk_vid" value="">' in html
    assert f'name="_rk_url" value="http://testserver/f/{webform.key}/?utm_source=google' in html
    assert '<input type="hidden" name="utm_source" value="google">' in html
    assert '<input type="hidden" name="utm_campaign" value="lp2026">' in html
    assert '<input type="hidden" name="_rk_ref" value="https://www.google.co.jp/">' in html
    assert '<script src="/t/renkei.js" defer></script>' in html
    assert "lang=en" in html  # the switch to English keeps the UTM parameters
    assert 'autocomplete="email"' in html


@pytest.mark.parametrize(
    ("query", "accept"), [("?lang=en", "ja"), ("", "en-US,en;q=0.9"), ("?lang=en", "")]
)
def test_the_hosted_page_in_english(
    client: Client, webform: WebForm, query: str, accept: str
) -> None:
    response = client.get(_url("form", webform) + query, HTTP_ACCEPT_LANGUAGE=accept)
    html = response.content.decode()
    assert response["Content-Language"] == "en" and '<html lang="en">' in html
    assert "Request a brochure" in html and "Send me the newsletter" in html
    assert "50 or more" in html and ">Submit<" in html
    assert '<input type="hidden" name="_rk_lang" value="en">' in html
    assert "lang=ja" in html


def test_the_hosted_pages_may_be_framed_and_the_rest_of_renkei_may_not(
    client: Client, webform: WebForm
) -> None:
    assert "X-Frame-Options" not in client.get(_url("form", webform))
    assert "X-Frame-Options" not in client.get(_url("thanks", webform))
    assert "X-Frame-Options" not in _post(client, webform, {"email": "bad"})
    assert client.get(reverse("login"))["X-Frame-Options"] == "DENY"


def test_an_unknown_or_inactive_form_is_not_found(client: Client, webform: WebForm) -> None:
    for path in ("/f/no-such-form-key-123/", "/f/no-such-form-key-123/thanks"):
        assert client.get(path).status_code == 404
    assert client.post("/f/no-such-form-key-123/submit", GOOD).status_code == 404
    response = client.post(
        "/f/no-such-form-key-123/submit", "{}", content_type="application/json",
        HTTP_ORIGIN=ALLOWED_ORIGIN,
    )  # fmt: skip
    assert response.status_code == 404 and response.json()["errors"]["form"]
    webform_update(form=webform, actor=None, is_active=False)
    assert client.get(_url("form", webform)).status_code == 404
    assert _post(client, webform, GOOD).status_code == 404
    assert _nothing_stored()


# ---- HTML form posts --------------------------------------------------------------------


def test_a_form_post_from_another_site_is_stored_and_sees_the_thank_you_page(
    client: Client, webform: WebForm
) -> None:
    response = _post(client, webform, GOOD, HTTP_ORIGIN="https://partner.example")
    assert response.status_code == 303
    assert response["Location"] == _url("thanks", webform) + "?lang=ja"
    thanks = client.get(response["Location"])
    assert "お問い合わせありがとうございました。" in thanks.content.decode()
    contact = Contact.objects.get()
    assert contact.email == "taro@sakura-kogyo.co.jp" and contact.source == "form"
    assert contact.properties["company_size"] == "large"
    assert contact.properties["wants_brochure"] is False  # an unticked box is an answer too
    webform.refresh_from_db()
    assert webform.submission_count == 1


def test_a_multipart_post_works_like_an_urlencoded_one(client: Client, webform: WebForm) -> None:
    from django.test.client import MULTIPART_CONTENT

    response = client.post(_url("submit", webform), GOOD, content_type=MULTIPART_CONTENT)
    assert response.status_code == 303 and Contact.objects.count() == 1


def test_a_reload_of_the_submit_address_shows_the_form(client: Client, webform: WebForm) -> None:
    response = client.get(_url("submit", webform))
    assert response.status_code == 302 and response["Location"] == _url("form", webform)


def test_consent_over_http_keeps_the_page_the_ip_and_the_language_shown(
    client: Client, webform: WebForm
) -> None:
    data = {**GOOD, "_rk_lang": "en"}
    _post(client, webform, data, REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Chromium/1")
    opt_in = Consent.objects.get(kind="email_opt_in")
    assert opt_in.granted is True and opt_in.text == "Send me the newsletter"
    assert opt_in.ip == "198.51.100.23" and opt_in.source_url == PAGE
    assert opt_in.user_agent == "Chromium/1"
    event = Event.objects.get(type="form_submit")
    assert event.properties["utm_source"] == "google"  # taken from the page's URL
    assert event.properties["language"] == "en"


def test_without_the_page_url_input_the_referer_header_is_the_page(
    client: Client, webform: WebForm
) -> None:
    data = {k: v for k, v in GOOD.items() if k != "_rk_url"}
    _post(client, webform, data, HTTP_REFERER="https://www.sakura-kogyo.co.jp/contact?utm_medium=x")
    assert (
        FormSubmission.objects.get().page_url
        == "https://www.sakura-kogyo.co.jp/contact?utm_medium=x"
    )
    assert Event.objects.get().properties["utm_medium"] == "x"


def test_forged_hidden_inputs_are_dropped_not_stored(client: Client, webform: WebForm) -> None:
    data = {**GOOD, "_rk_url": "javascript:alert(1)", "_rk_vid": "x' OR 1=1 --",
            "_rk_ref": "data:text/html,hi", "utm_source": "s" * 5000}  # fmt: skip
    assert _post(client, webform, data).status_code == 303
    event = Event.objects.get()
    assert "page_url" not in event.properties and "referrer" not in event.properties
    assert event.visitor_id is None and len(event.properties["utm_source"]) == 200


def test_a_missing_required_field_shows_the_form_again_with_the_answers_kept(
    client: Client, webform: WebForm
) -> None:
    data = {**GOOD, "family_name": "", "email": ""}
    response = _post(client, webform, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("このフィールドは必須です。") >= 2
    assert 'value="株式会社さくら工業"' in html  # nothing the visitor typed is lost
    assert f'name="_rk_url" value="{PAGE.replace("&", "&amp;")}"' in html
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "taro@", "有効なメールアドレスを入力してください。"),
        ("email", "a" * 250 + "@x.jp", "254"),
        ("family_name", "山" * 101, "100"),
        ("property:inquiry", "あ" * 5001, "5000"),
        ("property:company_size", "huge", "正しく選択してください"),
        ("phone", "12", "03-1234-5678"),
        ("given_name", "太\x00郎", ""),
    ],
)
def test_bad_answers_are_refused_naming_the_field(
    client: Client, webform: WebForm, field: str, value: str, message: str
) -> None:
    response = _post(client, webform, {**GOOD, field: value})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    tag = re.search(rf'<(input|select|textarea)[^>]*name="{re.escape(field)}"[^>]*>', html)
    assert tag is not None and "is-invalid" in tag.group(0)
    assert _nothing_stored()


def test_full_width_email_from_a_japanese_ime_finds_the_same_contact(
    client: Client, webform: WebForm
) -> None:
    _post(client, webform, GOOD)
    response = _post(
        client, webform, {**GOOD, "email": "ＴＡＲＯ＠ＳＡＫＵＲＡ－ＫＯＧＹＯ．ＣＯ．ＪＰ"}
    )
    assert response.status_code == 303
    assert Contact.objects.count() == 1 and FormSubmission.objects.count() == 2


def test_unknown_fields_are_ignored(client: Client, webform: WebForm) -> None:
    data = {**GOOD, "lifecycle_stage": "customer", "owner_id": "1", "score": "999",
            "property:secret": "x"}  # fmt: skip
    assert _post(client, webform, data).status_code == 303
    contact = Contact.objects.get()
    assert contact.lifecycle_stage == "lead" and contact.score == 0
    assert "secret" not in contact.properties
    assert "lifecycle_stage" not in Event.objects.get().properties


def test_script_in_a_field_is_stored_literally_and_shown_escaped_everywhere(
    client: Client, webform: WebForm, viewer: User
) -> None:
    script = "<script>alert(1)</script>"
    response = _post(client, webform, {**GOOD, "family_name": script, "email": "bad"})
    assert script not in response.content.decode()  # the form shown again escapes it
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()
    _post(client, webform, {**GOOD, "family_name": script, "property:inquiry": script})
    contact = Contact.objects.get()
    assert contact.family_name == script and contact.properties["inquiry"] == script
    staff = Client()
    staff.force_login(viewer)
    page = staff.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert script not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # name, title, timeline
    detail = staff.get(reverse("capture:detail", args=[webform.pk])).content.decode()
    assert script not in detail and "&lt;script&gt;" in detail


# ---- bots and floods --------------------------------------------------------------------


def test_a_filled_honeypot_is_answered_like_a_success_and_nothing_is_stored(
    client: Client, webform: WebForm
) -> None:
    response = _post(client, webform, {**GOOD, "_rk_website": "http://spam.example"})
    assert response.status_code == 303 and "/thanks" in response["Location"]
    json_response = _post_json(client, webform, {**GOOD, "_rk_website": "x"})
    assert json_response.status_code == 201 and json_response.json()["ok"] is True
    assert _nothing_stored()


def test_a_flood_from_one_ip_gets_429_and_other_ips_are_not_affected(
    client: Client, webform: WebForm, settings: Any
) -> None:
    settings.RENKEI_FORM_RATE = "3/m"
    codes = [
        _post(client, webform, {**GOOD, "email": f"u{i}@example.jp"}).status_code for i in range(5)
    ]
    assert codes == [303, 303, 303, 429, 429]
    limited = _post(client, webform, GOOD)
    assert limited["Retry-After"] == "60" and "しばらく" in limited.content.decode()
    assert _post_json(client, webform, GOOD).status_code == 429
    other = _post(client, webform, GOOD, REMOTE_ADDR="192.0.2.99")
    assert other.status_code == 303
    assert Contact.objects.count() == 4


def test_the_hosted_page_is_rate_limited_too(
    client: Client, webform: WebForm, settings: Any
) -> None:
    settings.RENKEI_FORM_PAGE_RATE = "2/m"
    codes = [client.get(_url("form", webform)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_malformed_rate_setting_falls_back_to_the_default(
    client: Client, webform: WebForm, settings: Any
) -> None:
    settings.RENKEI_FORM_RATE = "lots"
    assert _post(client, webform, GOOD).status_code == 303


# ---- JSON posts and CORS ------------------------------------------------------------------


def test_json_from_an_allowed_origin_is_stored_and_answered_in_json(
    client: Client, webform: WebForm
) -> None:
    data = {**GOOD, "email_opt_in": True, "property:wants_brochure": True, "_rk_lang": "en"}
    response = _post_json(client, webform, data)
    assert response.status_code == 201
    assert response.json() == {
        "ok": True,
        "message": "Thank you for your request.",
        "redirect": None,
    }
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    contact = Contact.objects.get()
    assert contact.properties["wants_brochure"] is True
    assert Consent.objects.get(kind="email_opt_in").granted is True


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "", "https://sakura-kogyo.co.jp"]
)
def test_json_from_any_other_origin_is_forbidden(
    client: Client, webform: WebForm, origin: str
) -> None:
    response = _post_json(client, webform, GOOD, origin=origin)
    assert response.status_code == 403 and response.json()["ok"] is False
    assert "Access-Control-Allow-Origin" not in response
    assert _nothing_stored()


def test_json_validation_errors_are_keyed_by_field(client: Client, webform: WebForm) -> None:
    response = _post_json(
        client, webform, {"email": "not-an-email", "family_name": "山" * 500, "_rk_lang": "en"}
    )
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert set(errors) >= {"email", "family_name", "company_name"}
    assert errors["email"] == ["Enter a valid email address."]
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("body", "status"),
    [("{not json", 400), ("[1, 2]", 400), ('"text"', 400), (b"\xff\xfe", 400)],
)
def test_a_json_body_that_is_not_an_object_is_refused(
    client: Client, webform: WebForm, body: Any, status: int
) -> None:
    assert _post_json(client, webform, body).status_code == status
    assert _nothing_stored()


def test_json_answers_must_be_single_values(client: Client, webform: WebForm) -> None:
    response = _post_json(client, webform, {**GOOD, "family_name": ["a", "b"], "phone": {"x": 1}})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"family_name", "phone"}


def test_other_content_types_are_refused(client: Client, webform: WebForm) -> None:
    response = client.post(_url("submit", webform), "email=a@b.jp", content_type="text/plain")
    assert response.status_code == 415


def test_cors_preflight_is_answered_for_an_allowed_origin_only(
    client: Client, webform: WebForm
) -> None:
    def preflight(origin: str, path: str) -> Any:
        return client.options(
            path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        )  # fmt: skip

    allowed = preflight(ALLOWED_ORIGIN, _url("submit", webform))
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "content-type" in allowed["Access-Control-Allow-Headers"]
    refused = preflight("https://evil.example", _url("submit", webform))
    assert "Access-Control-Allow-Origin" not in refused
    # An allowed site gets CORS answers from the public endpoints only, never the API.
    for path in ("/api/v1/contacts", "/contacts/"):
        assert "Access-Control-Allow-Origin" not in preflight(ALLOWED_ORIGIN, path)
        assert "Access-Control-Allow-Origin" not in client.get(path, HTTP_ORIGIN=ALLOWED_ORIGIN)


# ---- redirects ----------------------------------------------------------------------------


def test_a_form_redirects_to_its_allowed_page_and_not_once_the_domain_is_withdrawn(
    client: Client, webform: WebForm
) -> None:
    target = f"https://www.{ALLOWED_DOMAIN}/thanks"
    webform_update(form=webform, actor=None, redirect_url=target)
    response = _post(client, webform, GOOD)
    assert response.status_code == 303 and response["Location"] == target
    assert _post_json(client, webform, GOOD).json()["redirect"] == target
    capture_settings_update(
        actor=None, allowed_origins=[ALLOWED_ORIGIN], allowed_redirect_domains=[],
        honour_do_not_track=False,
    )  # fmt: skip
    response = _post(client, webform, GOOD)
    assert response["Location"] == _url("thanks", webform) + "?lang=ja"
    assert _post_json(client, webform, GOOD).json()["redirect"] is None


def test_a_redirect_stored_around_the_check_is_never_followed(
    client: Client, webform: WebForm
) -> None:
    # Written to the table directly, as a database restore or a bug might: the submit
    # handler checks again and never sends a visitor to evil.example.
    WebForm.objects.filter(pk=webform.pk).update(redirect_url="https://evil.example/")
    response = _post(client, webform, GOOD)
    assert response["Location"] == _url("thanks", webform) + "?lang=ja"


# ---- tracking ---------------------------------------------------------------------------


def _anonymous_views(visitor_key: str) -> None:
    events_record(
        items=[
            EventInput(index=0, client_event_id=f"pv-{visitor_key}", type="page_view",
                       occurred_at=timezone.now() - timedelta(hours=1),
                       properties={"url": PAGE}, visitor_key=visitor_key)
        ],
        actor=None,
    )  # fmt: skip


def test_the_visitor_id_stitches_earlier_page_views_unless_dnt_is_honoured(
    client: Client, webform: WebForm
) -> None:
    _anonymous_views("visitor-aaaaaaaa")
    _post(client, webform, {**GOOD, "_rk_vid": "visitor-aaaaaaaa"})
    contact = Contact.objects.get()
    assert Visitor.objects.get(key="visitor-aaaaaaaa").contact_id == contact.pk
    assert Event.objects.filter(contact=contact, type="page_view").count() == 1

    current = CaptureSettings.current()
    capture_settings_update(
        actor=None, allowed_origins=current.origin_list,
        allowed_redirect_domains=current.redirect_domain_list, honour_do_not_track=True,
    )  # fmt: skip
    _anonymous_views("visitor-bbbbbbbb")
    data = {**GOOD, "email": "other@example.jp", "_rk_vid": "visitor-bbbbbbbb"}
    _post(client, webform, data, HTTP_DNT="1")
    assert Visitor.objects.get(key="visitor-bbbbbbbb").contact_id is None
    data = {**GOOD, "email": "third@example.jp", "_rk_vid": "visitor-bbbbbbbb"}
    _post(client, webform, data, HTTP_SEC_GPC="1")
    assert Visitor.objects.get(key="visitor-bbbbbbbb").contact_id is None


def test_company_name_variants_over_http_are_one_company(client: Client, webform: WebForm) -> None:
    _post(client, webform, GOOD)
    _post(
        client, webform, {**GOOD, "email": "b@sakura-kogyo.co.jp", "company_name": "さくら工業㈱"}
    )
    _post(client, webform, {**GOOD, "email": "c@sakura-kogyo.co.jp", "company_name": "ｻｸﾗ工業(株)"})
    _post(
        client, webform, {**GOOD, "email": "d@sakura-kogyo.co.jp", "company_name": "サクラ工業㈱"}
    )
    assert Company.objects.count() == 2  # さくら and サクラ are two names; widths are not
    assert Contact.objects.filter(company__name="株式会社さくら工業").count() == 2


def test_a_form_without_optional_fields_still_needs_only_the_email(
    client: Client, capture_settings: CaptureSettings
) -> None:
    form = webform_create(actor=None, name="最小", fields=[FieldSpec("メール", "email", "email")])
    assert _post(client, form, {"email": "min@example.jp"}).status_code == 303
    assert Contact.objects.get().email == "min@example.jp"


def test_without_javascript_the_visitor_id_on_the_link_still_stitches(
    client: Client, webform: WebForm
) -> None:
    visitor = "0b7e7c1e-8d1a-4f7e-9a51-7f0d3c2b1a90"
    html = client.get(
        _url("form", webform) + f"?utm_source=mail&_rkv={visitor}&_rk=signed"
    ).content.decode()
    assert f'<input type="hidden" name="_rk_vid" value="{visitor}">' in html
    page_url = found(r'name="_rk_url" value="([^"]+)"', html)
    assert "_rk" not in page_url.replace("_rk_", "") and "utm_source=mail" in page_url
    forged = client.get(_url("form", webform) + "?_rkv=<script>").content.decode()
    assert '<input type="hidden" name="_rk_vid" value="">' in forged


def test_identity_parameters_are_never_stored_with_the_page(
    client: Client, webform: WebForm
) -> None:
    _post(client, webform, {**GOOD, "_rk_url": PAGE + "&_rk=signed-token&_rkv=abc"})
    assert "_rk" not in FormSubmission.objects.get().page_url
    assert "_rk" not in Event.objects.get().properties["page_url"]
