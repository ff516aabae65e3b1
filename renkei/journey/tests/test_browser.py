"""Real Chromium: the journey path is laid out horizontally and a stage is edited."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from conftest import CHROMIUM, PASSWORD
from renkei.contacts.services import contact_upsert
from renkei.journey.models import JourneyStage
from renkei.journey.services import contacts_journey_refresh

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
# The default stages come back after a transactional test's flush (post_migrate).
@pytest.mark.django_db(transaction=True)
def test_journey_path_and_stage_edit_in_chromium(
    live_server: Any, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    for i, lifecycle in enumerate(["customer", "customer", "lead"]):
        contact_upsert(email=f"p{i}@example.jp", actor=marketer, lifecycle_stage=lifecycle)
    contacts_journey_refresh()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                locale="ja-JP", viewport={"width": 1600, "height": 900}
            ).new_page()
            page.goto(f"{live_server.url}/journey/")
            page.fill("#id_username", marketer.username)
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("カスタマージャーニー")
            cards = page.locator("li[data-stage]")
            expect(cards).to_have_count(6)
            boxes = [cards.nth(i).bounding_box() for i in range(6)]
            assert all(b is not None for b in boxes)
            # A horizontal path: one row, left to right in position order.
            assert len({round(b["y"]) for b in boxes if b}) == 1
            xs = [b["x"] for b in boxes if b]
            assert xs == sorted(xs)
            won = page.locator("li[data-stage]", has_text="受注")
            expect(won.locator("[data-count]")).to_have_text("2")
            page.screenshot(path="/tmp/renkei-journey.png", full_page=True)

            page.locator("li[data-stage]", has_text="比較・検討").get_by_text("編集").click()
            page.fill("#id_entry_signals", "page_view url contains /pricing\nteleport")
            page.click("#stage-form button[type=submit]")
            expect(page.locator(".invalid-feedback")).to_contain_text("2 行目")
            page.fill("#id_entry_signals", "page_view url contains /pricing\nmeeting")
            page.click("#stage-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("カスタマージャーニー")
        finally:
            browser.close()
    stage = JourneyStage.objects.get(name="比較・検討")
    assert stage.entry_signals[-1] == {"kind": "event", "type": "meeting"}
