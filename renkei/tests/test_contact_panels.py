"""The contact page shows the cards later apps register (persona fit, journey stage)
without the contacts app importing them."""

from typing import Any

import pytest

from conftest import PASSWORD
from renkei.contacts.services import contact_upsert
from renkei.events.services import event_record_one
from renkei.journey.services import contacts_journey_refresh
from renkei.personas.services import (
    contacts_fit_rebuild_all,
    persona_create,
    persona_version_approve,
)
from renkei.scoring.services import contacts_rescore, engagement_rule_create

pytestmark = pytest.mark.django_db


def test_contact_page_shows_persona_fit_and_journey_stage(
    client: Any, marketer: Any, sales_rep: Any
) -> None:
    contact, _ = contact_upsert(
        email="bucho@example.jp", actor=marketer, family_name="山田", title="情報システム部長"
    )
    version = persona_create(
        name="情シス部長",
        criteria=[{"field": "title", "values": ["部長"], "weight": 60},
                  {"field": "industry", "values": ["it"], "weight": 40}],
        actor=marketer,
    )  # fmt: skip
    persona_version_approve(version=version, side="marketing", actor=marketer)
    persona_version_approve(version=version, side="sales", actor=sales_rep)
    contacts_fit_rebuild_all()
    rule = engagement_rule_create(
        actor=marketer, name="料金ページ閲覧", event_type="page_view", points=10,
        property_key="url", operator="contains", property_value="/pricing",
    )  # fmt: skip
    for path in ("/pricing", "/pricing/enterprise", "/about"):
        event_record_one(contact=contact, type="page_view", properties={"url": path})
    contacts_rescore(contact_ids=[contact.pk])
    assert rule.pk
    contacts_journey_refresh(contact_ids=[contact.pk])
    client.login(username=marketer.username, password=PASSWORD)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    fit = page.split("ペルソナ適合度")[1].split("</ul>")[0] if "ペルソナ適合度" in page else ""
    assert "情シス部長" in fit and ">60<" in fit
    assert "部長" in fit and "✓" in fit and "✗" in fit  # met and missed, in words
    journey = page.split('id="contact-journey-panel"')[1].split("</div>\n</div>")[0]
    assert "比較・検討" in journey  # a /pricing page view: the consideration stage
    engagement = page.split('id="contact-engagement-panel"')[1].split("</ul>")[0]
    assert "料金ページ閲覧" in engagement and "× 2" in engagement
