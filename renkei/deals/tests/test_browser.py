"""Real Chromium: drag a card to another column of the board; the deal moves, the totals
follow, and a stale card (moved meanwhile elsewhere) shows the server's message."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from conftest import CHROMIUM, PASSWORD
from renkei.deals.models import Deal
from renkei.deals.services import deal_move
from renkei.deals.tests.factories import deal, stage
from renkei.tests.test_browser import LAUNCH_ARGS


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_drag_a_card_between_stages_in_chromium(
    live_server: Any, sales_rep: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    first = deal(sales_rep, name="さくら案件", amount=1_200_000)
    second = deal(sales_rep, name="ふじ案件", amount=300_000)
    proposal = stage("提案")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                locale="ja-JP", viewport={"width": 1600, "height": 900}
            ).new_page()
            page.goto(f"{live_server.url}/login/?next=/deals/")
            page.fill("#id_username", "sales1")
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("商談")
            card = page.locator(f".deal-card[data-deal-id='{first.pk}']")
            target = page.locator(f".deal-column[data-stage-id='{proposal.pk}']")
            card.drag_to(target)
            expect(target.locator(f".deal-card[data-deal-id='{first.pk}']")).to_have_count(1)
            expect(target.locator(".column-total")).to_have_text("¥1,200,000")
            assert Deal.objects.get(pk=first.pk).stage_id == proposal.pk

            # Someone else moves the second deal; dragging the stale card is refused.
            deal_move(deal=second, to_stage=stage("見積"), actor=sales_rep)
            page.locator(f".deal-card[data-deal-id='{second.pk}']").drag_to(target)
            expect(page.locator("#board-error")).to_contain_text("見積")
            assert Deal.objects.get(pk=second.pk).stage.name == "見積"
            page.screenshot(path="/tmp/renkei-deals-board.png", full_page=True)
        finally:
            browser.close()
