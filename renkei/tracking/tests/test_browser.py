"""Real Chromium: the tracking script on a customer's site (a second loopback origin)
records page views against one visitor, delivers the last one on page hide, and a tracked
link later stitches the whole history to the contact, shown on the contact page."""

import os
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
from renkei.capture.models import CaptureSettings
from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.events.models import Event, Visitor
from renkei.tests.test_browser import LAUNCH_ARGS
from renkei.tracking.services import tracked_link_url

PAGE = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>{title}</title>
<script src="{renkei}/t/renkei.js" defer></script></head>
<body><h1>{title}</h1>
<a id="next" href="/pricing.html">料金</a>
<a id="hosted" href="{renkei}/f/demo/">資料請求</a>
<form data-renkei-form="demo"><input type="hidden" name="_rk_vid">
<input type="hidden" name="_rk_url"></form>
</body></html>"""
TITLES = {"/lp.html": "ランディング", "/pricing.html": "料金プラン", "/thanks.html": "セミナー"}


@pytest.fixture
def customer_site(live_server: Any) -> Iterator[str]:
    """The customer's website: a plain HTTP server on 127.0.0.1 (another origin than the
    live server's localhost) whose pages embed the tracking script."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            title = TITLES.get(urlsplit(self.path).path)
            if title is None:
                self.send_error(404)
                return
            body = PAGE.format(title=title, renkei=live_server.url).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _until(check: Callable[[], Any], seconds: float = 10) -> Any:
    """Poll the database until the browser's beacons have arrived."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tracking_script_on_another_site_then_a_tracked_link_stitches_the_visitor(
    live_server: Any, customer_site: str, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    settings = CaptureSettings.current()
    settings.allowed_origins = customer_site
    settings.save()
    spring = Campaign.objects.create(name="春の広告", channel="ads", utm_campaign="spring")
    hanako, _ = contact_upsert(email="hanako@example.jp", actor=marketer, family_name="佐藤")
    link = tracked_link_url(url=f"{customer_site}/thanks.html", contact_id=hanako.pk)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM next to Playwright's loop
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(locale="ja-JP").new_page()
            page.goto(f"{customer_site}/lp.html?utm_source=google&utm_campaign=spring")
            page.click("#next")
            page.wait_for_url(f"{customer_site}/pricing.html")
            page.wait_for_function("window.renkei && window.renkei.visitorId()")
            visitor_id = page.evaluate("window.renkei.visitorId()")
            cookies = {c["name"]: c["value"] for c in page.context.cookies(customer_site)}
            assert cookies["_rk_vid"] == visitor_id
            assert page.input_value("input[name=_rk_vid]") == visitor_id
            assert page.input_value("input[name=_rk_url]") == f"{customer_site}/pricing.html"
            hosted = page.get_attribute("#hosted", "href")
            assert hosted == f"{live_server.url}/f/demo/?_rkv={visitor_id}"
            # A single-page app's navigation, then the page is left at once: the last two
            # views are still queued and only the beacon on page hide can deliver them.
            page.evaluate("document.title = '機能'; history.pushState({}, '', '/features')")
            page.wait_for_timeout(300)
            page.goto("about:blank")

            views = _until(lambda: Event.objects.filter(type="page_view").count() == 3)
            assert views, list(Event.objects.values_list("properties", flat=True))
            visitor = Visitor.objects.get(key=visitor_id)
            stored = list(visitor.events.order_by("occurred_at").values_list(
                "properties", "campaign_id", "contact_id"
            ))  # fmt: skip
            assert [(p["url"], p["title"]) for p, _, _ in stored] == [
                (f"{customer_site}/lp.html?utm_source=google&utm_campaign=spring", "ランディング"),
                (f"{customer_site}/pricing.html", "料金プラン"),
                (f"{customer_site}/features", "機能"),
            ]
            assert stored[0][0]["utm_source"] == "google" and stored[0][1] == spring.pk
            assert stored[2][0]["referrer"] == f"{customer_site}/pricing.html"
            assert all(contact is None for _, _, contact in stored)

            # Later, a tracked link from an email: the destination's script sends the
            # identity token, which stitches this browser to Hanako.
            page.goto(f"{live_server.url}{link}")
            page.wait_for_url(f"{customer_site}/thanks.html")  # _rk removed from the bar
            page.goto("about:blank")
            assert _until(lambda: Visitor.objects.filter(key=visitor_id, contact=hanako).exists())
            assert _until(lambda: hanako.events.filter(type="page_view").count() == 4)
            hanako = Contact.objects.get(pk=hanako.pk)
            assert hanako.first_campaign_id == spring.pk
            assert (hanako.first_touch or {}).get("utm_source") == "google"

            page.goto(f"{live_server.url}/login/?next=/contacts/{hanako.pk}/")
            page.fill("#id_username", marketer.username)
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(f"{live_server.url}/contacts/{hanako.pk}/")
            timeline = page.locator("#timeline")
            for title in ("ランディング", "料金プラン", "機能", "セミナー"):
                assert timeline.get_by_text(title, exact=True).count() == 1, title
            assert page.locator(".timeline-stitched").count() == 3
            page.screenshot(path="/tmp/renkei-tracking-timeline.png", full_page=True)
        finally:
            browser.close()
            # Playwright runs this block in a greenlet with its own context, so the ORM
            # opened a connection of its own here: close it, or it outlives the test.
            connection.close()
    assert os.path.exists("/tmp/renkei-tracking-timeline.png")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_visitor_id_is_adopted_across_domains_and_gpc_is_honoured(
    live_server: Any, customer_site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    settings = CaptureSettings.current()
    settings.allowed_origins = customer_site
    settings.honour_do_not_track = True
    settings.save()
    carried = "0b7c5e1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d"
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            # A page reached from another domain with ?_rkv= keeps that visitor id.
            page = browser.new_context().new_page()
            page.goto(f"{customer_site}/pricing.html?_rkv={carried}&plan=pro")
            page.wait_for_function("window.renkei && window.renkei.visitorId()")
            assert page.evaluate("window.renkei.visitorId()") == carried
            assert page.url == f"{customer_site}/pricing.html?plan=pro"
            cookies = {c["name"]: c["value"] for c in page.context.cookies(customer_site)}
            assert cookies["_rk_vid"] == carried
            page.goto("about:blank")
            assert _until(lambda: Event.objects.filter(visitor__key=carried).exists())
            assert Event.objects.get().properties["url"] == f"{customer_site}/pricing.html?plan=pro"

            # A browser with Global Privacy Control: no cookie, nothing sent.
            private = browser.new_context()
            private.add_init_script(
                "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"
            )
            page = private.new_page()
            page.goto(f"{customer_site}/lp.html")
            page.wait_for_function("window.renkei !== undefined")
            assert page.evaluate("window.renkei.visitorId()") == ""
            assert private.cookies(customer_site) == []
            page.click("#next")
            page.wait_for_url(f"{customer_site}/pricing.html")
            page.goto("about:blank")
        finally:
            browser.close()
            connection.close()
    assert Event.objects.count() == 1  # only the first browser's page view
