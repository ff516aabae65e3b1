"""Campaign pages: everyone reads; marketing, managers and admins create and edit."""

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry
from renkei.campaigns.models import Campaign
from renkei.campaigns.services import campaign_create

LIST = reverse("campaigns:list")
NEW = reverse("campaigns:create")
TRADE_SHOW = {
    "name": "展示会 2026 春",
    "channel": "trade_show",
    "utm_source": "expo",
    "utm_medium": "offline",
    "utm_campaign": "expo2026",
    "cost": "1500000",
    "starts_on": "2026-04-10",
    "ends_on": "2026-04-12",
}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_everyone_sees_the_campaigns_with_cost_in_yen(viewer: User, marketer: User) -> None:
    campaign_create(actor=marketer, name="ウェビナー", channel="webinar", cost=120000)
    response = _client(viewer).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "ウェビナー" in html and "¥120,000" in html
    assert NEW not in html  # no "new campaign" button for a viewer


def test_marketer_creates_a_campaign_and_it_is_audited(marketer: User) -> None:
    response = _client(marketer).post(NEW, TRADE_SHOW)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.channel, campaign.cost, campaign.utm_campaign) == (
        "trade_show",
        1_500_000,
        "expo2026",
    )
    assert AuditEntry.objects.filter(action="campaign.create", actor=marketer).exists()


def test_sales_and_viewer_may_not_create_or_edit(
    sales_rep: User, viewer: User, marketer: User
) -> None:
    campaign = campaign_create(actor=marketer, name="広告", channel="ads")
    edit = reverse("campaigns:edit", args=[campaign.pk])
    for user in (sales_rep, viewer):
        client = _client(user)
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, TRADE_SHOW).status_code == 403
        assert client.post(edit, TRADE_SHOW).status_code == 403
    assert Campaign.objects.count() == 1


def test_end_before_start_and_negative_cost_are_form_errors(marketer: User) -> None:
    client = _client(marketer)
    response = client.post(NEW, {**TRADE_SHOW, "ends_on": "2026-04-01"})
    assert "ends_on" in response.context["form"].errors
    response = client.post(NEW, {**TRADE_SHOW, "cost": "-5", "channel": "tv"})
    assert {"cost", "channel"} <= set(response.context["form"].errors)
    assert not Campaign.objects.exists()


def test_manager_edits_a_campaign(manager: User, db: Any) -> None:
    campaign = campaign_create(actor=manager, name="セミナー", channel="seminar")
    client = _client(manager)
    url = reverse("campaigns:edit", args=[campaign.pk])
    assert client.get(url).context["form"].initial["name"] == "セミナー"
    response = client.post(url, {**TRADE_SHOW, "name": "セミナー（大阪）", "channel": "seminar"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "セミナー（大阪）" and campaign.cost == 1_500_000
