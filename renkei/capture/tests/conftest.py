"""Fixtures of the capture tests: a typical Japanese B2B form, its campaign, and capture
settings that allow one origin and one redirect domain."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from renkei.campaigns.models import Campaign
from renkei.campaigns.services import campaign_create
from renkei.capture.models import CaptureSettings, WebForm
from renkei.capture.rules import FieldSpec
from renkei.capture.services import capture_settings_update, webform_create

ALLOWED_ORIGIN = "https://www.sakura-kogyo.co.jp"
ALLOWED_DOMAIN = "sakura-kogyo.co.jp"

FIELDS = [
    FieldSpec("会社名", "text", "company_name", "Company", required=True),
    FieldSpec("姓", "text", "family_name", "Family name", required=True),
    FieldSpec("名", "text", "given_name", "Given name"),
    FieldSpec("メールアドレス", "email", "email", "Email", required=True),
    FieldSpec("電話番号", "tel", "phone", "Phone"),
    FieldSpec("従業員規模", "select", "property:company_size", "Company size",
              options="small | 50名未満 | Under 50\nlarge | 50名以上 | 50 or more"),
    FieldSpec("ご相談内容", "textarea", "property:inquiry", "Your question"),
    FieldSpec("資料を郵送希望", "checkbox", "property:wants_brochure", "Send a brochure"),
]  # fmt: skip


@pytest.fixture
def capture_settings(db: Any) -> CaptureSettings:
    return capture_settings_update(
        actor=None,
        allowed_origins=[ALLOWED_ORIGIN],
        allowed_redirect_domains=[ALLOWED_DOMAIN],
        honour_do_not_track=False,
    )


@pytest.fixture
def campaign(db: Any) -> Campaign:
    return campaign_create(
        actor=None, name="資料請求 LP 2026", channel="web", utm_campaign="lp2026"
    )


@pytest.fixture
def webform(capture_settings: CaptureSettings, campaign: Campaign, marketer: User) -> WebForm:
    return webform_create(
        actor=marketer,
        name="資料請求フォーム",
        fields=FIELDS,
        campaign=campaign,
        title_ja="資料請求",
        title_en="Request a brochure",
        consent_text_ja="個人情報の取り扱いに同意します。",
        consent_text_en="I agree to the handling of my personal data.",
        ask_email_opt_in=True,
        opt_in_label_ja="メールマガジンを受け取る",
        opt_in_label_en="Send me the newsletter",
        thanks_message_ja="お問い合わせありがとうございました。",
        thanks_message_en="Thank you for your request.",
    )


@pytest.fixture
def english() -> Any:
    """Messages in English, for tests that read them (the site default is Japanese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def found(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text``; the test fails when it is absent."""
    match = re.search(pattern, text, re.S)
    assert match is not None, f"{pattern!r} not found"
    return match.group(1)
