"""Capture services: building forms, capture settings, and what a submission stores."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign
from renkei.capture.models import CaptureSettings, FormField, FormSubmission, WebForm
from renkei.capture.rules import FieldSpec
from renkei.capture.services import (
    OPT_IN,
    SubmissionContext,
    capture_settings_update,
    webform_create,
    webform_delete,
    webform_submit,
    webform_update,
)
from renkei.capture.tests.conftest import FIELDS
from renkei.contacts.models import Company, Consent, Contact
from renkei.contacts.services import FirstTouch, contact_upsert, contacts_stamp_first_touch
from renkei.events.models import Event, Visitor
from renkei.events.services import EventInput, events_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

EMAIL_ONLY = [FieldSpec("メールアドレス", "email", "email", "Email")]
CTX = SubmissionContext(
    language="ja",
    page_url="https://www.sakura-kogyo.co.jp/lp/brochure?utm_source=google",
    referrer="https://www.google.co.jp/",
    utm={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "lp2026"},
    ip="203.0.113.7",
    user_agent="Mozilla/5.0 (test)",
)


def _answers(**extra: Any) -> dict[str, Any]:
    return {
        "company_name": "株式会社さくら工業",
        "family_name": "山田",
        "given_name": "太郎",
        "email": "taro@sakura-kogyo.co.jp",
        "phone": "03-1234-5678",
        "property:company_size": "small",
        "property:inquiry": "導入費用を知りたい",
        "property:wants_brochure": True,
        OPT_IN: True,
        **extra,
    }


# ---- building forms ---------------------------------------------------------------------


def test_a_form_is_created_with_its_fields_in_order_an_unguessable_key_and_an_audit_entry(
    webform: WebForm, marketer: User
) -> None:
    targets = list(webform.fields.order_by("position").values_list("target", flat=True))
    assert targets == [spec.target for spec in FIELDS]
    assert len(webform.key) >= 22 and webform.key.replace("-", "").replace("_", "").isalnum()
    assert WebForm.objects.exclude(pk=webform.pk).filter(key=webform.key).count() == 0
    entry = AuditEntry.objects.get(action="webform.create", object_id=webform.pk)
    assert entry.actor_id == marketer.pk
    assert entry.changes["fields"][1][3] == "email:email*"


def test_the_email_field_is_always_required(capture_settings: CaptureSettings) -> None:
    form = webform_create(actor=None, name="f", fields=EMAIL_ONLY)
    assert FormField.objects.get(form=form, target="email").required is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([FieldSpec("姓", "text", "family_name")], "email field"),
        ([*EMAIL_ONLY, FieldSpec("メール2", "email", "property:email2")], "exactly one field"),
        ([*EMAIL_ONLY, FieldSpec("姓", "text", "family_name")] * 1
         + [FieldSpec("姓", "text", "family_name")], "already stored there"),
        ([*EMAIL_ONLY, FieldSpec("同意", "checkbox", "department")], "checkbox"),
        ([*EMAIL_ONLY, FieldSpec("規模", "select", "property:size")], "at least one option"),
        ([*EMAIL_ONLY, FieldSpec("x", "text", "property:Bad Key")], "custom property key"),
        ([*EMAIL_ONLY, FieldSpec("x", "text", "owner_id")], "Unknown target"),
        ([*EMAIL_ONLY, FieldSpec("", "text", "title")], "label"),
        ([*EMAIL_ONLY, FieldSpec("x", "radio", "title")], "Unknown field type"),
    ],
)  # fmt: skip
def test_a_form_with_broken_fields_is_refused_naming_the_field(
    capture_settings: CaptureSettings, fields: list[FieldSpec], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        webform_create(actor=None, name="壊れたフォーム", fields=fields)
    assert message in " ".join(caught.value.message_dict["fields"])
    assert not WebForm.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/thanks",
        "https://sakura-kogyo.co.jp.evil.example/",
        "https://evilsakura-kogyo.co.jp/",
        "https://sakura-kogyo.co.jp@evil.example/",
        "https://evil.example\\@sakura-kogyo.co.jp/",
        "javascript:alert(1)//sakura-kogyo.co.jp",
        "//evil.example/",
        "/relative/path",
    ],
)
def test_a_redirect_outside_the_allowed_domains_is_refused_when_saving(
    capture_settings: CaptureSettings, url: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        webform_create(actor=None, name="f", fields=EMAIL_ONLY, redirect_url=url)
    assert "sakura-kogyo.co.jp" in caught.value.message_dict["redirect_url"][0]


@pytest.mark.parametrize(
    "url", ["https://sakura-kogyo.co.jp/thanks", "https://www.sakura-kogyo.co.jp/thanks?x=1"]
)
def test_a_redirect_on_an_allowed_domain_or_subdomain_is_saved(
    capture_settings: CaptureSettings, url: str
) -> None:
    form = webform_create(actor=None, name="f", fields=EMAIL_ONLY, redirect_url=url)
    assert form.redirect_url == url


def test_updating_replaces_the_fields_and_audits_the_change(
    webform: WebForm, manager: User
) -> None:
    new_fields = [FieldSpec("役職", "text", "title"), *EMAIL_ONLY]
    webform_update(form=webform, actor=manager, fields=new_fields, name="改訂版", is_active=False)
    webform.refresh_from_db()
    assert webform.name == "改訂版" and webform.is_active is False
    assert list(webform.fields.values_list("target", flat=True)) == ["title", "email"]
    entry = AuditEntry.objects.get(action="webform.update", object_id=webform.pk)
    assert entry.changes["name"] == ["資料請求フォーム", "改訂版"]
    assert entry.changes["fields"][1] == ["title:text", "email:email*"]


def test_deleting_a_form_keeps_its_contacts_and_events(webform: WebForm, marketer: User) -> None:
    result = webform_submit(form=webform, answers=_answers(), context=CTX)
    webform_delete(form=webform, actor=marketer)
    assert not WebForm.objects.exists() and not FormSubmission.objects.exists()
    assert Contact.objects.filter(pk=result.contact.pk).exists()
    assert Event.objects.filter(type="form_submit", contact=result.contact).exists()
    assert AuditEntry.objects.filter(action="webform.delete").exists()


# ---- capture settings -------------------------------------------------------------------


def test_capture_settings_are_normalised_deduplicated_and_audited(admin_user: User) -> None:
    current = capture_settings_update(
        actor=admin_user,
        allowed_origins=["HTTPS://WWW.Example.co.jp/", "https://www.example.co.jp", ""],
        allowed_redirect_domains=["*.Example.co.jp", "https://lp.example.jp/path"],
        honour_do_not_track=True,
    )
    assert current.origin_list == ["https://www.example.co.jp"]
    assert current.redirect_domain_list == ["example.co.jp", "lp.example.jp"]
    assert CaptureSettings.current().honour_do_not_track is True
    assert AuditEntry.objects.filter(action="capture_settings.update").count() == 1


def test_bad_capture_settings_lines_are_refused_with_their_line_number(db: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        capture_settings_update(
            actor=None,
            allowed_origins=["https://ok.example.jp", "ftp://files.example.jp", "https://a.jp/x"],
            allowed_redirect_domains=["not a domain"],
            honour_do_not_track=False,
        )
    errors = caught.value.message_dict
    assert (
        errors["allowed_origins"][0].startswith("Line 2")
        and "Line 3" in errors["allowed_origins"][1]
    )
    assert errors["allowed_redirect_domains"][0].startswith("Line 1")
    assert CaptureSettings.current().origin_list == []


# ---- submissions ------------------------------------------------------------------------


def test_a_submission_creates_a_lead_with_company_properties_and_source_form(
    webform: WebForm,
) -> None:
    result = webform_submit(form=webform, answers=_answers(), context=CTX)
    contact = Contact.objects.select_related("company").get(pk=result.contact.pk)
    assert result.created is True
    assert (contact.family_name, contact.given_name) == ("山田", "太郎")
    assert contact.phone == "+81312345678"
    assert contact.source == "form" and contact.lifecycle_stage == "lead"
    assert contact.company is not None and contact.company.name == "株式会社さくら工業"
    assert contact.properties == {
        "company_size": "small",
        "inquiry": "導入費用を知りたい",
        "wants_brochure": True,
    }
    webform.refresh_from_db()
    assert webform.submission_count == 1 and webform.last_submitted_at is not None
    submission = FormSubmission.objects.get()
    assert submission.contact_id == contact.pk and submission.page_url == CTX.page_url


def test_the_same_email_in_another_case_or_width_updates_the_same_contact(
    webform: WebForm,
) -> None:
    first = webform_submit(form=webform, answers=_answers(), context=CTX)
    second = webform_submit(
        form=webform,
        answers=_answers(email="ＴＡＲＯ＠Sakura-Kogyo.co.jp", title="部長", given_name=""),
        context=CTX,
    )
    assert second.contact.pk == first.contact.pk and second.created is False
    assert Contact.objects.count() == 1
    contact = Contact.objects.get()
    assert contact.given_name == "太郎"  # an empty answer keeps what is stored
    assert FormSubmission.objects.count() == 2
    webform.refresh_from_db()
    assert webform.submission_count == 2


def test_company_spellings_of_kabushiki_gaisha_find_one_company(webform: WebForm) -> None:
    webform_submit(form=webform, answers=_answers(), context=CTX)
    webform_submit(
        form=webform,
        answers=_answers(email="hanako@sakura-kogyo.co.jp", company_name="㈱さくら工業"),
        context=CTX,
    )
    webform_submit(
        form=webform,
        answers=_answers(email="jiro@sakura-kogyo.co.jp", company_name="（株）さくら工業"),
        context=CTX,
    )
    assert Company.objects.count() == 1
    assert set(Contact.objects.values_list("company_id", flat=True)) == {Company.objects.get().pk}


def test_an_existing_company_is_only_filled_in_never_overwritten(
    capture_settings: CaptureSettings,
) -> None:
    fields = [*EMAIL_ONLY, FieldSpec("会社", "text", "company_name"),
              FieldSpec("会社電話", "tel", "company_phone"),
              FieldSpec("住所", "text", "company_address")]  # fmt: skip
    form = webform_create(actor=None, name="f", fields=fields)
    company = Company.objects.create(
        name="株式会社さくら工業", name_normalized="さくら工業", phone="+81312345678"
    )
    answers = {"email": "a@sakura-kogyo.co.jp", "company_name": "株式会社さくら工業",
               "company_phone": "06-1111-2222", "company_address": "東京都港区1-1"}  # fmt: skip
    webform_submit(form=form, answers=answers, context=CTX)
    company.refresh_from_db()
    assert company.phone == "+81312345678" and company.address == "東京都港区1-1"


def test_the_form_submit_event_keeps_every_answer_the_page_utm_and_campaign(
    webform: WebForm, campaign: Campaign
) -> None:
    result = webform_submit(form=webform, answers=_answers(), context=CTX)
    event = Event.objects.get(type="form_submit")
    assert event.contact_id == result.contact.pk and event.campaign_id == campaign.pk
    props = event.properties
    assert props["form_id"] == webform.pk and props["form_name"] == "資料請求フォーム"
    assert props["page_url"] == CTX.page_url and props["referrer"] == "https://www.google.co.jp/"
    assert props["utm_source"] == "google" and props["utm_campaign"] == "lp2026"
    assert props["email"] == "taro@sakura-kogyo.co.jp" and props["family_name"] == "山田"
    assert props["property:inquiry"] == "導入費用を知りたい"
    assert props["property:wants_brochure"] is True and props[OPT_IN] is True
    assert props["language"] == "ja"


def test_consent_is_recorded_with_the_text_shown_time_page_ip_and_browser(
    webform: WebForm,
) -> None:
    at = timezone.now().replace(microsecond=0)
    ctx = SubmissionContext(**{**CTX.__dict__, "language": "en", "at": at})
    result = webform_submit(form=webform, answers=_answers(**{OPT_IN: False}), context=ctx)
    consents = {c.kind: c for c in Consent.objects.filter(contact=result.contact)}
    opt_in, policy = consents["email_opt_in"], consents["privacy_policy"]
    assert opt_in.granted is False and opt_in.text == "Send me the newsletter"
    assert policy.granted is True
    assert policy.text == "I agree to the handling of my personal data."
    for consent in (opt_in, policy):
        assert consent.occurred_at == at and consent.source == f"form:{webform.pk}"
        assert consent.source_url == CTX.page_url and consent.ip == "203.0.113.7"
        assert consent.user_agent == "Mozilla/5.0 (test)"


def test_no_consent_is_recorded_when_the_form_asks_none(capture_settings: Any) -> None:
    form = webform_create(actor=None, name="f", fields=EMAIL_ONLY)
    result = webform_submit(form=form, answers={"email": "a@example.jp"}, context=CTX)
    assert not Consent.objects.filter(contact=result.contact).exists()


def test_the_submission_becomes_the_first_touch_with_campaign_and_utm(
    webform: WebForm, campaign: Campaign
) -> None:
    result = webform_submit(form=webform, answers=_answers(), context=CTX)
    contact = Contact.objects.get(pk=result.contact.pk)
    assert contact.first_campaign_id == campaign.pk and contact.first_touch_at is not None
    touch = contact.first_touch or {}
    assert touch["utm_source"] == "google" and touch["url"] == CTX.page_url
    assert touch["referrer"] == "https://www.google.co.jp/"


def test_an_earlier_known_touch_stays_the_first(webform: WebForm) -> None:
    contact, _ = contact_upsert(email="taro@sakura-kogyo.co.jp", actor=None)
    earlier = timezone.now() - timedelta(days=30)
    contacts_stamp_first_touch(
        touches={contact.pk: FirstTouch(at=earlier, utm={"utm_source": "expo"})}
    )
    webform_submit(form=webform, answers=_answers(), context=CTX)
    contact.refresh_from_db()
    assert contact.first_touch_at == earlier
    assert (contact.first_touch or {}).get("utm_source") == "expo"


def test_the_visitors_earlier_page_views_join_the_contact(webform: WebForm) -> None:
    visitor_key = "v-0123456789abcdef"
    events_record(
        items=[
            EventInput(index=i, client_event_id=f"pv-{i}", type="page_view",
                       occurred_at=timezone.now() - timedelta(hours=3 - i),
                       properties={"url": f"https://www.sakura-kogyo.co.jp/p{i}"},
                       visitor_key=visitor_key)
            for i in range(3)
        ],
        actor=None,
    )  # fmt: skip
    ctx = SubmissionContext(**{**CTX.__dict__, "visitor_key": visitor_key})
    result = webform_submit(form=webform, answers=_answers(), context=ctx)
    visitor = Visitor.objects.get(key=visitor_key)
    assert visitor.contact_id == result.contact.pk
    assert Event.objects.filter(contact=result.contact, type="page_view").count() == 3
    assert Event.objects.filter(contact=result.contact, type="form_submit").count() == 1


def test_a_bad_answer_rolls_back_the_whole_submission(webform: WebForm) -> None:
    with pytest.raises(ValidationError) as caught:
        webform_submit(form=webform, answers=_answers(phone="12"), context=CTX)
    assert "phone" in caught.value.message_dict
    assert not Contact.objects.exists() and not Company.objects.exists()
    assert not Event.objects.exists() and not FormSubmission.objects.exists()
    webform.refresh_from_db()
    assert webform.submission_count == 0


def test_script_in_an_answer_is_stored_as_plain_text(webform: WebForm) -> None:
    script = "<script>alert(1)</script>"
    result = webform_submit(
        form=webform, answers=_answers(family_name=script, **{"property:inquiry": script}),
        context=CTX,
    )  # fmt: skip
    contact = Contact.objects.get(pk=result.contact.pk)
    assert contact.family_name == script and contact.properties["inquiry"] == script
    assert Event.objects.get(type="form_submit").properties["family_name"] == script
