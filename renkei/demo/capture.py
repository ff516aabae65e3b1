"""The demo site's web forms and capture settings: what a marketer of the demo company
would have set up, so the form pages and the hosted forms have something to show.

Small and deterministic: two forms with keys derived from the seed, created through the
capture services (and so audited like any form); existing forms and settings are kept.
"""

import base64
import hashlib
from urllib.parse import urlsplit

from renkei.campaigns.models import Campaign
from renkei.capture.models import CaptureSettings, WebForm
from renkei.capture.rules import FieldSpec, redirect_allowed
from renkei.capture.services import capture_settings_update, webform_create
from renkei.demo.vocabulary import SELLER_SITE

DEMO_DOMAIN = urlsplit(SELLER_SITE).hostname.removeprefix("www.")  # type: ignore[union-attr]

_CONSENT_JA = (
    "ご入力いただいた個人情報は、株式会社連携デモのプライバシーポリシーに従って取り扱い、"
    "資料送付とご連絡のためにのみ利用します。"
)
_CONSENT_EN = (
    "We handle your personal data under Renkei Demo Inc.'s privacy policy and use it only "
    "to send the material and contact you."
)
_SIZES = (
    "1-49 | 1〜49名 | 1-49\n50-299 | 50〜299名 | 50-299\n"
    "300-999 | 300〜999名 | 300-999\n1000+ | 1,000名以上 | 1,000 or more"
)

# (slug, form name, heading ja / en, campaign name, fields, redirect path or "")
DEMO_FORMS: tuple[tuple[str, str, str, str, str, tuple[FieldSpec, ...], str], ...] = (
    (
        "whitepaper",
        "ホワイトペーパー請求フォーム",
        "資料請求：営業とマーケティング連携の教科書",
        "Download: the sales-marketing alignment handbook",
        "ホワイトペーパー：営業とマーケティング連携の教科書",
        (
            FieldSpec("会社名", "text", "company_name", "Company", required=True),
            FieldSpec("部署", "text", "department", "Department"),
            FieldSpec("役職", "text", "title", "Job title"),
            FieldSpec("姓", "text", "family_name", "Family name", required=True),
            FieldSpec("名", "text", "given_name", "Given name", required=True),
            FieldSpec("メールアドレス", "email", "email", "Email", required=True),
            FieldSpec("電話番号", "tel", "phone", "Phone"),
            FieldSpec("従業員数", "select", "property:employees", "Employees", options=_SIZES),
        ),
        "",
    ),
    (
        "webinar",
        "ウェビナー申込フォーム",
        "ウェビナー申込：はじめてのリードスコアリング",
        "Webinar registration: lead scoring for beginners",
        "はじめてのリードスコアリング",
        (
            FieldSpec("会社名", "text", "company_name", "Company", required=True),
            FieldSpec("姓", "text", "family_name", "Family name", required=True),
            FieldSpec("名", "text", "given_name", "Given name", required=True),
            FieldSpec("メールアドレス", "email", "email", "Email", required=True),
            FieldSpec(
                "事前のご質問", "textarea", "property:webinar_question", "Questions for the speaker"
            ),
        ),
        "/seminar/thanks/",
    ),
)


def demo_form_key(seed: int, slug: str) -> str:
    """The same seed gives the same form keys (and so the same hosted-page URLs)."""
    digest = hashlib.sha256(f"renkei-demo-form:{seed}:{slug}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def demo_capture_ensure(*, seed: int) -> int:
    """Allow the demo site as an origin and redirect domain (unless an admin set capture
    up already) and create the demo forms that do not exist yet; returns how many."""
    current = CaptureSettings.current()
    if not current.origin_list and not current.redirect_domain_list:
        capture_settings_update(
            actor=None,
            allowed_origins=[SELLER_SITE],
            allowed_redirect_domains=[DEMO_DOMAIN],
            honour_do_not_track=current.honour_do_not_track,
        )
    domains = CaptureSettings.current().redirect_domain_list
    existing = set(WebForm.objects.values_list("name", flat=True))
    created = 0
    for slug, name, title_ja, title_en, campaign_name, fields, redirect in DEMO_FORMS:
        if name in existing:
            continue
        campaign = Campaign.objects.filter(name=campaign_name).order_by("-id").first()
        redirect_url = SELLER_SITE + redirect if redirect else ""
        if not redirect_allowed(redirect_url, domains):
            redirect_url = ""  # an admin's own settings do not allow the demo site
        form = webform_create(
            actor=None,
            name=name,
            fields=fields,
            campaign=campaign,
            title_ja=title_ja,
            title_en=title_en,
            consent_text_ja=_CONSENT_JA,
            consent_text_en=_CONSENT_EN,
            ask_email_opt_in=True,
            opt_in_label_ja="連携デモからのお知らせをメールで受け取る",
            opt_in_label_en="Email me news from Renkei Demo",
            thanks_message_ja="お申し込みありがとうございます。担当者よりご連絡いたします。",
            thanks_message_en="Thank you. We will be in touch shortly.",
            redirect_url=redirect_url,
        )
        # A fixed key instead of a random one: demo links stay valid from seed to seed.
        WebForm.objects.filter(pk=form.pk).update(key=demo_form_key(seed, slug))
        created += 1
    return created
