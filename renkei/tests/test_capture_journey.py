"""The whole capture journey in real Chromium, nothing simulated: an anonymous visitor
browses a customer's site (another loopback origin) that embeds the tracking script,
follows its link to Renkei's hosted form, submits it, and a marketer then finds those
earlier page views stitched onto the new contact's page, with the first touch stamped."""

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection

from conftest import CHROMIUM, PASSWORD
from renkei.campaigns.models import Campaign
from renkei.capture.models import WebForm
from renkei.capture.rules import FieldSpec
from renkei.capture.services import capture_settings_update, webform_create
from renkei.contacts.models import Contact
from renkei.events.models import Event, Visitor
from renkei.tests.test_browser import LAUNCH_ARGS

PAGE = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>{title}</title>
<script src="{renkei}/t/renkei.js" defer></script></head>
<body><h1>{title}</h1><a id="next" href="/seminar.html">セミナー情報</a>
<a id="request" href="{renkei}/f/{key}/">資料請求はこちら</a></body></html>"""
TITLES = {"/index.html": "さくら工業 製品紹介", "/seminar.html": "DXセミナー 2026"}


@pytest.fixture
def journey_form(db: Any, marketer: User) -> WebForm:
    campaign = Campaign.objects.create(name="検索広告 秋", channel="ads", utm_campaign="autumn")
    return webform_create(
        actor=marketer,
        name="資料請求",
        campaign=campaign,
        fields=[
            FieldSpec("会社名", "text", "company_name", "Company", required=True),
            FieldSpec("姓", "text", "family_name", "Family name", required=True),
            FieldSpec("名", "text", "given_name", "Given name"),
            FieldSpec("メールアドレス", "email", "email", "Email", required=True),
        ],
        title_ja="資料請求",
        title_en="Request a brochure",
        thanks_message_ja="ありがとうございました。",
        thanks_message_en="Thank you.",
    )


@pytest.fixture
def customer_site(live_server: Any, journey_form: WebForm) -> Iterator[str]:
    key = journey_form.key

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            title = TITLES.get(urlsplit(self.path).path)
            if title is None:
                self.send_error(404)
                return
            body = PAGE.format(title=title, renkei=live_server.url, key=key).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _until(check: Callable[[], Any], seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_page_views_before_a_hosted_form_submission_join_the_new_contact(
    live_server: Any,
    customer_site: str,
    journey_form: WebForm,
    marketer: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    capture_settings_update(
        actor=None,
        allowed_origins=[customer_site],
        allowed_redirect_domains=[],
        honour_do_not_track=False,
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM next to Playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(locale="ja-JP").new_page()
            page.goto(f"{customer_site}/index.html?utm_source=yahoo&utm_campaign=autumn")
            page.click("#next")
            page.wait_for_url(f"{customer_site}/seminar.html")
            page.wait_for_function("window.renkei && window.renkei.visitorId()")
            visitor_id = page.evaluate("window.renkei.visitorId()")
            # The link to Renkei's own domain carries the visitor id across.
            page.click("#request")
            page.wait_for_url(f"{live_server.url}/f/{journey_form.key}/**")
            expect(page.locator("#rk-title")).to_have_text("資料請求")
            page.wait_for_function(
                f"document.querySelector('input[name=_rk_vid]').value === '{visitor_id}'"
            )
            page.fill("input[name=company_name]", "㈱さくら工業")
            page.fill("input[name=family_name]", "山田")
            page.fill("input[name=given_name]", "花子")
            page.fill("input[name=email]", "Hanako@Sakura-Kogyo.co.jp")
            page.click("#rk-form button[type=submit]")
            expect(page.locator("#rk-message")).to_have_text("ありがとうございました。")
            page.goto("about:blank")  # the last page view leaves by beacon

            assert _until(lambda: Event.objects.filter(type="page_view").count() == 3)
            contact = Contact.objects.get(email_normalized="hanako@sakura-kogyo.co.jp")
            assert Visitor.objects.get(key=visitor_id).contact_id == contact.pk
            assert _until(lambda: contact.events.filter(type="page_view").count() == 3)
            contact.refresh_from_db()
            assert contact.first_campaign_id == journey_form.campaign_id
            assert (contact.first_touch or {}).get("utm_source") == "yahoo"
            assert contact.company is not None and contact.company.name == "(株)さくら工業"  # NFKC

            page.goto(f"{live_server.url}/login/?next=/contacts/{contact.pk}/")
            page.fill("#id_username", marketer.username)
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(f"{live_server.url}/contacts/{contact.pk}/")
            timeline = page.locator("#timeline")
            for title in (*TITLES.values(), "資料請求"):
                expect(timeline.get_by_text(title, exact=True).first).to_be_visible()
            expect(timeline).to_contain_text("フォーム送信")
            page.screenshot(path="/tmp/renkei-capture-journey.png", full_page=True)
        finally:
            browser.close()
            connection.close()  # the connection the ORM opened inside Playwright's block
