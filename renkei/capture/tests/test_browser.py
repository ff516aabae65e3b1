"""Real Chromium through Playwright: a visitor fills the hosted form and sees the thank-you
message; the contact exists, and a marketer finds the visitor's earlier page views on it.
The tracking script is blocked: the form must work without it.

The live server runs in a thread of this process and shares the file-based SQLite test
database (see renkei/tests/test_browser.py).
"""

import os
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from conftest import CHROMIUM, PASSWORD
from renkei.capture.models import WebForm
from renkei.contacts.models import Consent, Contact
from renkei.events.models import Event
from renkei.events.services import EventInput, events_record
from renkei.tests.test_browser import LAUNCH_ARGS

SCREENSHOT = "/tmp/renkei-hosted-form.png"
VISITOR = "browser-visitor-0001"


def _earlier_page_views() -> None:
    """What the tracking script would have recorded before the visitor filled the form."""
    now = timezone.now()
    events_record(
        items=[
            EventInput(index=i, client_event_id=f"browser-pv-{i}", type="page_view",
                       occurred_at=now - timedelta(days=2, hours=i),
                       properties={"url": f"https://www.sakura-kogyo.co.jp/product/{i}",
                                   "title": f"製品ページ{i}"},
                       visitor_key=VISITOR)
            for i in range(2)
        ],
        actor=None,
    )  # fmt: skip


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_submits_the_hosted_form_in_chromium(
    live_server: Any, webform: WebForm, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _earlier_page_views()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 900, "height": 1100})
            page = context.new_page()
            # The page must work without the tracking script: block it, and set the
            # visitor id the way it would (its own tests cover the script itself).
            scripts: list[str] = []

            def block(route: Any) -> None:
                scripts.append(route.request.url)
                route.abort()

            page.route("**/t/renkei.js", block)
            page.goto(f"{live_server.url}/f/{webform.key}/?utm_source=newsletter&utm_medium=email")
            expect(page.locator("#rk-title")).to_have_text("資料請求")
            expect(page.locator("#rk-consent")).to_contain_text("個人情報の取り扱い")
            # The honeypot is out of sight: a person never fills it.
            box = page.locator("input[name=_rk_website]").bounding_box()
            assert box is not None and box["x"] + box["width"] < 0
            page.fill("input[name=company_name]", "株式会社さくら工業")
            page.fill("input[name=family_name]", "山田")
            page.fill("input[name=given_name]", "花子")
            page.fill("input[name=email]", "hanako@sakura-kogyo.co.jp")
            page.fill("input[name=phone]", "03-1234-5678")
            page.select_option("select[name='property:company_size']", "large")
            page.fill("textarea[name='property:inquiry']", "価格表を送ってください")
            page.check("input[name=email_opt_in]")
            assert scripts == [f"{live_server.url}/t/renkei.js"]
            page.eval_on_selector(
                "form[data-renkei-form] input[name=_rk_vid]", f"el => el.value = '{VISITOR}'"
            )
            page.screenshot(path=SCREENSHOT, full_page=True)
            page.click("#rk-form button[type=submit]")
            expect(page.locator("#rk-message")).to_have_text("お問い合わせありがとうございました。")
            assert f"/f/{webform.key}/thanks?lang=ja" in page.url

            # A marketer finds the contact and its stitched history. (No ORM query in this
            # block: inside Playwright's loop it would open a connection nobody closes.)
            page.goto(f"{live_server.url}/login/?next=/contacts/%3Fq%3Dhanako")
            page.fill("#id_username", "marketer")
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.click("text=山田 花子")
            timeline = page.locator("#timeline")
            expect(timeline.locator("[data-kind=event]")).to_have_count(3)
            expect(timeline).to_contain_text("フォーム送信")
            expect(timeline).to_contain_text("https://www.sakura-kogyo.co.jp/product/1")
            expect(timeline).to_contain_text("価格表を送ってください")
        finally:
            browser.close()
    assert os.path.getsize(SCREENSHOT) > 10_000
    contact = Contact.objects.get(email="hanako@sakura-kogyo.co.jp")
    submitted = Event.objects.get(contact=contact, type="form_submit")
    assert submitted.properties["utm_source"] == "newsletter"
    assert submitted.properties["property:inquiry"] == "価格表を送ってください"
    assert contact.properties == {"company_size": "large", "inquiry": "価格表を送ってください",
                                  "wants_brochure": False}  # fmt: skip
    assert Consent.objects.get(contact=contact, kind="email_opt_in").granted is True
    assert Event.objects.filter(contact=contact, type="page_view").count() == 2
