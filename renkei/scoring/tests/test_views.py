"""Scoring pages: everyone reads; marketing, managers and admins change rules and start a
full rescore; sales and viewers get 403."""

from io import StringIO
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from renkei.scoring.models import EngagementRule, RescoreRun
from renkei.scoring.services import engagement_rule_create
from renkei.scoring.tests.factories import contact, events, rule

LIST = reverse("scoring:rule_list")
NEW = reverse("scoring:rule_create")
RESCORE = reverse("scoring:rescore")
PRICING = {
    "name": "料金ページ閲覧",
    "event_type": "page_view",
    "property_key": "url",
    "operator": "contains",
    "property_value": "/pricing",
    "points": "10",
    "daily_cap": "30",
    "half_life_days": "30",
    "active": "on",
}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_everyone_sees_the_rules_escaped(viewer: User) -> None:
    engagement_rule_create(
        actor=None, name="<b>展示会</b>", event_type="trade_show_visit", points=25
    )
    response = _client(viewer).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;展示会&lt;/b&gt;" in html and "<b>展示会" not in html
    assert NEW not in html and RESCORE not in html


def test_login_is_required(db: Any) -> None:
    response = Client().get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_marketer_creates_a_rule(marketer: User) -> None:
    response = _client(marketer).post(NEW, PRICING)
    assert response.status_code == 302
    rule = EngagementRule.objects.get()
    assert (rule.points, rule.daily_cap, rule.half_life_days, rule.property_value) == (
        10,
        30,
        30.0,
        "/pricing",
    )


def test_form_errors_name_the_field(marketer: User) -> None:
    client = _client(marketer)
    for change, field, text in [
        ({"event_type": "pageview"}, "event_type", "page_view"),
        ({"points": "0"}, "points", "non-zero"),
        ({"half_life_days": "-1"}, "half_life_days", "half-life"),
        ({"property_value": ""}, "property_value", "value"),
        ({"points": "abc"}, "points", ""),
    ]:
        response = client.post(NEW, PRICING | change, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert text in " ".join(response.context["form"].errors[field])
    assert not EngagementRule.objects.exists()


def test_sales_and_viewer_may_not_change_rules_or_rescore(sales_rep: User, viewer: User) -> None:
    existing = rule(points=3)
    for user in (sales_rep, viewer):
        client = _client(user)
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, PRICING).status_code == 403
        assert (
            client.post(reverse("scoring:rule_edit", args=[existing.pk]), PRICING).status_code
            == 403
        )
        assert client.post(reverse("scoring:rule_delete", args=[existing.pk])).status_code == 403
        assert client.post(RESCORE).status_code == 403
    assert EngagementRule.objects.get().points == 3
    assert not RescoreRun.objects.exists()


def test_manager_edits_and_deletes_a_rule(manager: User) -> None:
    existing = rule(points=3)
    client = _client(manager)
    edit = reverse("scoring:rule_edit", args=[existing.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, PRICING | {"points": "-5", "daily_cap": ""}).status_code == 302
    assert EngagementRule.objects.get().points == -5
    assert client.post(reverse("scoring:rule_delete", args=[existing.pk])).status_code == 302
    assert not EngagementRule.objects.exists()


def test_rescore_is_post_only_and_queues_a_run(
    marketer: User, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    client = _client(marketer)
    assert client.get(RESCORE).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESCORE).status_code == 302
    run = RescoreRun.objects.get()
    assert (run.status, run.requested_by) == ("queued", marketer)
    assert "queued" in client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert DBTaskResult.objects.filter(task_path="renkei.scoring.tasks.rescore_all").exists()


def test_the_task_runs_a_queued_rescore_once(marketer: User) -> None:
    from renkei.scoring.services import rescore_run_enqueue
    from renkei.scoring.tasks import rescore_all

    lead = contact()
    rule(points=7)
    events(lead, ("page_view", lead.created_at, {}))
    run = rescore_run_enqueue(actor=marketer)
    assert rescore_all.call(run.pk) == "done"
    assert rescore_all.call(run.pk) == "done"  # already claimed: left alone
    run.refresh_from_db()
    lead.refresh_from_db()
    assert (run.contacts, run.events, lead.score) == (1, 1, 7)


def test_rescore_command_prints_what_it_did(db: Any) -> None:
    lead = contact()
    rule(points=2)
    events(lead, ("page_view", lead.created_at, {}), ("page_view", lead.created_at, {}))
    out = StringIO()
    call_command("rescore", stdout=out)
    assert "rescored 1 contacts from 2 events" in out.getvalue()
    lead.refresh_from_db()
    assert lead.score == 4
    assert RescoreRun.objects.get().status == "done"


def test_explain_json_lists_each_rule(viewer: User) -> None:
    lead = contact()
    rule_id = rule(name="visits", points=2).pk
    events(lead, ("page_view", lead.created_at, {}))
    call_command("rescore", stdout=StringIO())
    body = _client(viewer).get(reverse("scoring:contact_explain", args=[lead.pk])).json()
    assert body["score"] == 2
    assert body["rules"] == [{"rule_id": rule_id, "rule": "visits", "events": 1, "points": 2.0}]


def test_the_page_speaks_japanese_first(viewer: User) -> None:
    html = _client(viewer).get(LIST, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "エンゲージメントスコア" in html and "ルールはまだありません。" in html
