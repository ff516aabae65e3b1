"""Real Chromium through Playwright: log in, filter the contacts list, open a contact.

The live server runs in a thread of this process and shares the file-based SQLite test
database, so the contacts created here are what the browser sees.
"""

import os
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from conftest import CHROMIUM, PASSWORD
from renkei.contacts import views as contact_views
from renkei.contacts.models import Contact
from renkei.contacts.services import (
    contact_assign_owner,
    contact_change_stage,
    contact_scores_set,
    contact_upsert,
)
from renkei.events.services import contacts_refresh_last_activity, event_record_one

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = "/tmp/renkei-contacts.png"

# email, family, given, family kana, given kana, company, title, stage, score
PEOPLE = [
    ("taro@sakura-kogyo.co.jp", "山田", "太郎", "ヤマダ", "タロウ",
     "株式会社さくら工業", "営業部長", "lead", 62),
    ("hanako@fuji-soft.jp", "佐藤", "花子", "サトウ", "ハナコ",
     "富士ソフト㈱", "情報システム課長", "mql", 81),
    ("ichiro@kawasaki-butsuryu.jp", "鈴木", "一郎", "スズキ", "イチロウ",
     "川崎物流株式会社", "代表取締役", "sql", 90),
    ("misaki@nagoya-denki.co.jp", "高橋", "美咲", "タカハシ", "ミサキ",
     "名古屋電機株式会社", "マーケティング部", "mql", 55),
    ("ken@osaka-kensetsu.jp", "田中", "健", "タナカ", "ケン",
     "大阪建設株式会社", "購買担当", "subscriber", 12),
]  # fmt: skip


def _seed(sales_rep: User, marketer: User) -> Contact:
    now = timezone.now()
    contacts = {}
    for email, family, given, fkana, gkana, company, title, stage, score in PEOPLE:
        contact, _ = contact_upsert(
            email=email,
            actor=marketer,
            family_name=family,
            given_name=given,
            family_name_kana=fkana,
            given_name_kana=gkana,
            company_name=company,
            title=title,
            lifecycle_stage=stage,
            source="展示会",
        )
        contact_scores_set({contact.pk: score})
        event_record_one(
            contact=contact,
            type="trade_show_visit",
            occurred_at=now - timedelta(days=score % 7 + 1),
            properties={"booth": "A-12"},
        )
        contacts[email] = contact
    taro = contacts["taro@sakura-kogyo.co.jp"]
    contact_change_stage(contact=taro, to_stage="mql", actor=sales_rep, reason="資料請求あり")
    contact_change_stage(contact=taro, to_stage="lead", actor=sales_rep, reason="予算未確定")
    contact_assign_owner(contact=taro, owner=sales_rep, actor=sales_rep)
    contact_assign_owner(
        contact=contacts["ichiro@kawasaki-butsuryu.jp"], owner=sales_rep, actor=sales_rep
    )
    contacts_refresh_last_activity(contact_ids=[c.pk for c in contacts.values()])
    return taro


def _names(page: Any) -> list[str]:
    return page.locator(
        "#contacts-table tbody tr[data-contact-id] td:first-child a"
    ).all_inner_texts()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_login_filter_and_open_a_contact_in_chromium(
    live_server: Any, sales_rep: User, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    taro = _seed(sales_rep, marketer)
    # The sync API runs an event loop in this thread; Django's ORM refuses to run inside
    # one unless told it is safe (the test thread makes no queries while the browser runs).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(f"{live_server.url}/contacts/")
            expect(page).to_have_url(f"{live_server.url}/login/?next=/contacts/")
            page.fill("#id_username", "sales1")
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            expect(page.locator("h1")).to_have_text("コンタクト")
            assert len(_names(page)) == 5
            page.screenshot(path=SCREENSHOT, full_page=True)

            page.fill("#id_q", "山田")
            page.click("#contact-filters button[type=submit]")
            expect(page.locator("#contacts-table tbody tr[data-contact-id]")).to_have_count(1)
            assert _names(page) == ["山田 太郎"]

            page.fill("#id_q", "")
            page.check("#contact-filters input[name=stage][value=mql]")
            page.click("#contact-filters button[type=submit]")
            expect(page.locator("#contacts-table tbody tr[data-contact-id]")).to_have_count(2)
            assert sorted(_names(page)) == ["佐藤 花子", "高橋 美咲"]
            assert "stage=mql" in page.url

            page.goto(f"{live_server.url}/contacts/?q=やまだ")
            page.click("text=山田 太郎")
            expect(page).to_have_url(f"{live_server.url}/contacts/{taro.pk}/")
            expect(page.locator("#contact-name")).to_have_text("山田 太郎")
            timeline = page.locator("#timeline")
            expect(timeline.locator("[data-kind=event]")).to_have_count(1)
            expect(timeline.locator("[data-kind=event]")).to_contain_text("展示会来場")
            expect(timeline.locator("[data-kind=transition]")).to_have_count(3)
            expect(timeline).to_contain_text("予算未確定")
            page.screenshot(path="/tmp/renkei-contact.png", full_page=True)

            # "Older" loads the next timeline page in place (htmx), without navigating.
            monkeypatch.setattr(contact_views, "TIMELINE_PAGE_SIZE", 2)
            page.reload()
            items = timeline.locator(".timeline-item")
            expect(items).to_have_count(2)
            timeline.get_by_text("さらに古い履歴").click()
            expect(items).to_have_count(4)
            expect(timeline.get_by_text("さらに古い履歴")).to_have_count(0)
            assert page.url == f"{live_server.url}/contacts/{taro.pk}/"
        finally:
            browser.close()
    assert os.path.getsize(SCREENSHOT) > 10_000
