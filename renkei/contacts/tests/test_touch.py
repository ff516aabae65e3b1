"""Consent records and first-touch stamping."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override as translation_override

from renkei.campaigns.models import Campaign, Channel
from renkei.contacts.models import Consent, ConsentKind, Contact
from renkei.contacts.services import (
    FirstTouch,
    consent_record,
    contact_consent_current,
    contact_delete,
    contact_upsert,
    contacts_stamp_first_touch,
)

pytestmark = pytest.mark.django_db


def _contact(marketer: Any, email: str = "taro@example.jp") -> Contact:
    contact, _ = contact_upsert(email=email, actor=marketer)
    return contact


def test_first_touch_is_set_when_none_is_known(marketer: Any) -> None:
    contact = _contact(marketer)
    web = Campaign.objects.create(name="Web", channel=Channel.WEB)
    at = timezone.now() - timedelta(days=3)
    touch = FirstTouch(
        at=at,
        campaign_id=web.pk,
        utm={"utm_source": "google", "utm_medium": "cpc", "other": "dropped"},
        url="https://example.jp/lp?utm_source=google",
        referrer="https://www.google.com/",
    )
    assert contacts_stamp_first_touch(touches={contact.pk: touch}) == 1
    contact.refresh_from_db()
    assert contact.first_touch_at == at
    assert contact.first_campaign_id == web.pk
    assert contact.first_touch == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "url": "https://example.jp/lp?utm_source=google",
        "referrer": "https://www.google.com/",
    }


def test_an_earlier_touch_replaces_a_later_one_but_not_the_reverse(marketer: Any) -> None:
    contact = _contact(marketer)
    show = Campaign.objects.create(name="展示会 2026", channel=Channel.TRADE_SHOW)
    ads = Campaign.objects.create(name="Ads", channel=Channel.ADS)
    now = timezone.now()
    contacts_stamp_first_touch(touches={contact.pk: FirstTouch(at=now, campaign_id=show.pk)})
    earlier = FirstTouch(at=now - timedelta(days=30), campaign_id=ads.pk, utm={"utm_source": "x"})
    assert contacts_stamp_first_touch(touches={contact.pk: earlier}) == 1
    later = FirstTouch(at=now - timedelta(days=1), campaign_id=show.pk)
    assert contacts_stamp_first_touch(touches={contact.pk: later}) == 0
    contact.refresh_from_db()
    assert contact.first_campaign_id == ads.pk
    assert contact.first_touch == {"utm_source": "x"}


def test_an_earlier_touch_without_campaign_keeps_the_known_campaign(marketer: Any) -> None:
    contact = _contact(marketer)
    show = Campaign.objects.create(name="展示会", channel=Channel.TRADE_SHOW)
    now = timezone.now()
    contacts_stamp_first_touch(touches={contact.pk: FirstTouch(at=now, campaign_id=show.pk)})
    contacts_stamp_first_touch(touches={contact.pk: FirstTouch(at=now - timedelta(hours=1))})
    contact.refresh_from_db()
    assert contact.first_campaign_id == show.pk
    assert contact.first_touch_at == now - timedelta(hours=1)


def test_consent_keeps_text_time_page_and_ip_and_the_latest_answer_wins(marketer: Any) -> None:
    contact = _contact(marketer)
    consent_record(
        contact=contact,
        kind=ConsentKind.EMAIL_OPT_IN,
        granted=True,
        text="メールマガジンの配信に同意します",
        source="form:1",
        source_url="https://example.jp/contact",
        ip="192.0.2.10",
        user_agent="Mozilla/5.0",
    )
    refused = consent_record(contact=contact, kind=ConsentKind.EMAIL_OPT_IN, granted=False)
    current = contact_consent_current(contact=contact, kind=ConsentKind.EMAIL_OPT_IN)
    assert current == refused
    first = Consent.objects.filter(contact=contact).order_by("id").first()
    assert first is not None
    assert first.text == "メールマガジンの配信に同意します"
    assert first.source_url == "https://example.jp/contact"
    assert first.ip == "192.0.2.10"
    assert contact_consent_current(contact=contact, kind=ConsentKind.PRIVACY_POLICY) is None


def test_unknown_consent_kind_and_overlong_text_are_refused_by_field(marketer: Any) -> None:
    contact = _contact(marketer)
    with pytest.raises(ValidationError) as error:
        consent_record(contact=contact, kind="sms", granted=True)
    assert "kind" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consent_record(
            contact=contact, kind=ConsentKind.EMAIL_OPT_IN, granted=True, text="あ" * 5001
        )
    assert "consent_text" in error.value.message_dict
    assert not Consent.objects.exists()


def test_erasing_a_contact_erases_its_consents(marketer: Any, manager: Any) -> None:
    contact = _contact(marketer)
    consent_record(contact=contact, kind=ConsentKind.EMAIL_OPT_IN, granted=True, ip="192.0.2.1")
    contact_delete(contact=contact, actor=manager)
    assert not Consent.objects.exists()


def test_a_merge_keeps_the_earlier_first_touch_of_the_two(marketer: Any) -> None:
    from renkei.contacts.services import contact_merge

    winner, loser = _contact(marketer, "a@example.jp"), _contact(marketer, "b@example.jp")
    show = Campaign.objects.create(name="展示会", channel=Channel.TRADE_SHOW)
    ads = Campaign.objects.create(name="Ads", channel=Channel.ADS)
    now = timezone.now()
    contacts_stamp_first_touch(
        touches={
            winner.pk: FirstTouch(at=now, campaign_id=show.pk),
            loser.pk: FirstTouch(
                at=now - timedelta(days=9), campaign_id=ads.pk, utm={"utm_source": "y"}
            ),
        }
    )
    merged = contact_merge(winner=winner, loser=loser, actor=marketer)
    merged.refresh_from_db()
    assert merged.first_touch_at == now - timedelta(days=9)
    assert merged.first_campaign_id == ads.pk
    assert merged.first_touch == {"utm_source": "y"}


def test_contact_page_shows_first_touch_and_current_consents_escaped(
    client: Any, marketer: Any
) -> None:
    from conftest import PASSWORD

    contact = _contact(marketer)
    at = timezone.now() - timedelta(days=2)
    contacts_stamp_first_touch(
        touches={
            contact.pk: FirstTouch(
                at=at, utm={"utm_source": "google", "utm_medium": "cpc"}, url="https://x.jp/lp"
            )
        }
    )
    consent_record(contact=contact, kind=ConsentKind.EMAIL_OPT_IN, granted=False)
    consent_record(
        contact=contact,
        kind=ConsentKind.EMAIL_OPT_IN,
        granted=True,
        text="<b>同意</b>",
        source="form:3",
        ip="192.0.2.7",
        source_url="https://x.jp/form",
    )
    client.login(username=marketer.username, password=PASSWORD)
    with translation_override("en"):
        page = client.get(f"/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    first_touch = page.split('id="first-touch"')[1].split("</dd>")[0]
    assert "google / cpc / —" in first_touch and "https://x.jp/lp" in first_touch
    consents = page.split('id="consents"')[1].split("</dd>")[0]
    assert consents.count("Email opt-in") == 1  # only the latest answer
    assert "Email opt-in: yes" in consents and "192.0.2.7" in consents
    assert "&lt;b&gt;同意&lt;/b&gt;" in consents and "<b>" not in consents


def test_stamping_many_contacts_costs_the_same_queries_as_one(marketer: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    contacts = [_contact(marketer, f"p{i}@example.jp") for i in range(20)]
    at = timezone.now()
    with CaptureQueriesContext(connection) as one:
        contacts_stamp_first_touch(touches={contacts[0].pk: FirstTouch(at=at)})
    with CaptureQueriesContext(connection) as many:
        changed = contacts_stamp_first_touch(
            touches={c.pk: FirstTouch(at=at, utm={"utm_source": "s"}) for c in contacts[1:]}
        )
    assert changed == 19 and len(many) == len(one)
    stamped = Contact.objects.exclude(pk=contacts[0].pk).filter(first_touch_at=at)
    assert stamped.count() == 19
    assert {(c.first_touch or {}).get("utm_source") for c in stamped} == {"s"}
