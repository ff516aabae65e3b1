"""Every score explains itself: the sentence, each rule's share, the events that count most
(cap and decay applied per event) and the persona fits — on the contact page, in
explain.json and in the API, which answer the same JSON."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from conftest import ApiClient, api_client_for
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.events.models import Event
from renkei.personas.services import persona_create, persona_version_approve
from renkei.scoring import engine
from renkei.scoring.explain import contact_event_points, contact_score_explain
from renkei.scoring.services import contacts_rescore
from renkei.scoring.tests.factories import contact, events, rule

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
DAY = timedelta(days=1)
API = "/api/v1/contacts/{}/score-explanation"


def _pricing(points: int = 8, **extra: Any) -> Any:
    return rule(name="料金ページ閲覧", points=points, property_key="url",
                operator="contains", property_value="/pricing", **extra)  # fmt: skip


def _webinar() -> Any:
    return rule(name="ウェビナー参加", event_type="webinar_attended", points=20)


def _lead_with_activity() -> Contact:
    lead = contact()
    _pricing()
    _webinar()
    events(
        lead,
        *[("page_view", NOW - DAY * d, {"url": "https://ex.jp/pricing/"}) for d in (1, 2, 3)],
        ("webinar_attended", NOW - DAY, {"webinar": "MQLの定義をそろえる"}),
        ("page_view", NOW - DAY, {"url": "https://ex.jp/blog/"}),
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    lead.refresh_from_db()
    return lead


def _persona(marketer: User, sales_rep: User) -> None:
    version = persona_create(
        name="情シス部長",
        criteria=[{"field": "title", "values": ["部長"], "weight": 60},
                  {"field": "industry", "values": ["it"], "weight": 40}],
        actor=marketer,
    )  # fmt: skip
    persona_version_approve(version=version, side="marketing", actor=marketer)
    persona_version_approve(version=version, side="sales", actor=sales_rep)


# ---- the sentence ----------------------------------------------------------------------------


def test_the_japanese_sentence_names_the_top_rule_and_the_best_persona(
    marketer: User, sales_rep: User
) -> None:
    lead = _lead_with_activity()
    Contact.objects.filter(pk=lead.pk).update(title="情報システム部長")
    _persona(marketer, sales_rep)
    with translation.override("ja"):
        summary = contact_score_explain(lead, now=NOW).summary
    assert summary == (
        "エンゲージメント 44点：料金ページ閲覧 3回（+24）、ウェビナー参加 1回（+20）。"
        "最も適合するペルソナ「情シス部長」（適合度 60）。"
    )


def test_the_english_sentence_says_the_same(db: Any) -> None:
    lead = _lead_with_activity()
    with translation.override("en"):
        summary = contact_score_explain(lead, now=NOW).summary
    assert summary == (
        "Engagement 44 points: 料金ページ閲覧 3 times (+24), ウェビナー参加 1 time (+20)."
    )


def test_the_sentence_leads_with_the_rule_that_counts_most(db: Any) -> None:
    lead = contact()
    _pricing(points=2)
    rule(name="展示会来場", event_type="trade_show_visit", points=50)
    events(
        lead,
        *[("page_view", NOW - DAY * d, {"url": "/pricing"}) for d in range(5)],
        ("trade_show_visit", NOW - DAY, {"show": "Japan IT Week"}),
    )
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    with translation.override("ja"):
        summary = contact_score_explain(lead, now=NOW).summary
    assert summary.startswith(
        "エンゲージメント 60点：展示会来場 1回（+50）、料金ページ閲覧 5回（+10）"
    )


def test_no_activity_and_no_fitting_persona_are_said_plainly(
    marketer: User, sales_rep: User
) -> None:
    lead = contact()
    _persona(marketer, sales_rep)
    with translation.override("ja"):
        explanation = contact_score_explain(lead, now=NOW)
    assert explanation.score == 0 and not explanation.rules and not explanation.top_events
    assert explanation.summary == (
        "エンゲージメント 0点：スコア対象の行動はまだありません。適合するペルソナはまだありません。"
    )
    with translation.override("en"):
        summary = contact_score_explain(lead, now=NOW).summary
    assert summary == "Engagement 0 points: no scored activity yet. No persona fits yet."


# ---- per-event arithmetic --------------------------------------------------------------------


def test_per_event_points_add_up_to_the_rule_lines_and_the_stored_score(db: Any) -> None:
    lead = contact()
    rules = [
        _pricing(points=7, daily_cap=14, half_life_days=10),
        rule(name="visits", points=1, daily_cap=3, half_life_days=3.5),
        rule(name="unsubscribe", event_type="mail:unsubscribe", points=-15, half_life_days=60),
        _webinar(),
    ]
    jst_midnight = datetime(2026, 5, 30, 15, 0, tzinfo=UTC)
    events(
        lead,
        *[("page_view", jst_midnight - timedelta(hours=h), {"url": "/pricing"}) for h in range(5)],
        *[("page_view", jst_midnight + timedelta(hours=h), {"url": "/pricing/"}) for h in range(4)],
        *[("page_view", NOW - DAY * d, {"url": "/blog"}) for d in range(0, 40, 3)],
        ("mail:unsubscribe", NOW - DAY * 20, {}),
        ("webinar_attended", NOW - DAY * 90, {}),
        ("email_open", NOW, {}),  # no rule: never read
    )  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    lead.refresh_from_db()
    for when in (NOW, NOW + DAY * 9):
        explanation = contact_score_explain(lead, now=when)
        points = contact_event_points(lead.pk, engine.active_rules(), now=when)
        for line in explanation.rules:
            rows, weights = points.by_rule[line.rule_id]
            assert len(rows) == line.events
            assert weights.sum() == pytest.approx(line.points, abs=1e-6)
        assert set(points.by_rule) == {r.id for r in rules}
        assert round(points.totals().sum()) == explanation.score
    assert contact_score_explain(lead, now=NOW).score == lead.score


def test_events_past_the_daily_cap_count_nothing_and_are_not_top(db: Any) -> None:
    lead = contact()
    _pricing(points=10, daily_cap=10)  # one event a JST day counts
    events(lead, *[("page_view", NOW - timedelta(minutes=m), {"url": "/pricing"})
                   for m in (30, 20, 10)])  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    first = Event.objects.order_by("occurred_at")[0]
    explanation = contact_score_explain(lead, now=NOW)
    assert explanation.score == 10
    assert [(e.event_id, e.points) for e in explanation.top_events] == [(first.pk, 10.0)]
    assert explanation.rules[0].events == 1


def test_each_event_is_decayed_by_its_own_age(db: Any) -> None:
    lead = contact()
    _pricing(points=8, half_life_days=10)
    events(lead, ("page_view", NOW - DAY * 10, {"url": "/pricing", "title": "料金"}),
                 ("page_view", NOW - DAY * 20, {"url": "/pricing", "title": "旧料金"}),
                 ("page_view", NOW + DAY, {"url": "/pricing", "title": "未来"}))  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    top = contact_score_explain(lead, now=NOW).top_events
    assert [(e.label, round(e.points, 6)) for e in top] == [
        ("未来", 8.0),
        ("料金", 4.0),
        ("旧料金", 2.0),
    ]


def test_losses_count_as_much_as_gains_and_ties_go_to_the_newest(db: Any) -> None:
    lead = contact()
    rule(name="visits", points=1)
    rule(name="unsubscribe", event_type="mail:unsubscribe", points=-30)
    events(lead, *[("page_view", NOW - DAY * d, {"url": f"/p{d}"}) for d in range(8)],
           ("mail:unsubscribe", NOW - DAY * 30, {}))  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    top = contact_score_explain(lead, now=NOW).top_events
    assert [(e.type, e.label, e.points) for e in top] == [
        ("mail:unsubscribe", "", -30.0),
        *[("page_view", f"/p{d}", 1.0) for d in range(4)],
    ]
    assert top[0].rules == ["unsubscribe"]


def test_an_event_matching_two_rules_sums_both(db: Any) -> None:
    lead = contact()
    _pricing(points=8)
    rule(name="visits", points=1)
    events(lead, ("page_view", NOW, {"url": "https://ex.jp/pricing?plan=pro"}))
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    (event,) = contact_score_explain(lead, now=NOW).top_events
    assert (event.points, sorted(event.rules), event.label) == (
        9.0,
        ["visits", "料金ページ閲覧"],
        "/pricing",
    )


def test_labels_say_what_the_event_was(db: Any) -> None:
    lead = contact()
    campaign = Campaign.objects.create(name="秋の展示会", channel="trade_show")
    for kind in ("page_view", "form_submit", "email_click", "webinar_attended", "meeting"):
        rule(name=kind, event_type=kind, points=1)
    events(
        lead,
        ("page_view", NOW, {"url": "https://ex.jp/pricing/", "title": "料金 |  Renkei"}),
        ("page_view", NOW - DAY, {"url": "https://ex.jp/case/42?utm_source=x"}),
        ("form_submit", NOW - DAY * 2, {"form_id": 3, "form_name": "資料請求"}),
        ("email_click", NOW - DAY * 3, {"subject": "MQL入門" * 30}),
        ("webinar_attended", NOW - DAY * 4, {"webinar": "ABM入門"}),
    )
    Event.objects.create(client_event_id="m1", type="meeting", occurred_at=NOW - DAY * 5,
                         contact=lead, campaign=campaign, properties={})  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    with translation.override("ja"):
        top = contact_score_explain(lead, now=NOW).top_events
    labels = [(e.type_label, e.label) for e in top]
    assert labels[:3] == [
        ("ページ閲覧", "料金 | Renkei"),
        ("ページ閲覧", "/case/42"),
        ("フォーム送信", "資料請求"),
    ]
    assert len(labels[3][1]) == 80 and labels[3][1].endswith("…")
    assert labels[4][1] == "ABM入門"
    assert len(top) == 5  # the meeting (with its campaign) is sixth


def test_a_campaign_names_an_event_without_properties(db: Any) -> None:
    lead = contact()
    campaign = Campaign.objects.create(name="秋の展示会", channel="trade_show")
    rule(name="meeting", event_type="meeting", points=5)
    Event.objects.create(client_event_id="m1", type="meeting", occurred_at=NOW,
                         contact=lead, campaign=campaign, properties={})  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk], now=NOW)
    assert contact_score_explain(lead, now=NOW).top_events[0].label == "秋の展示会"


def test_the_number_of_queries_does_not_grow_with_events_or_rules(
    marketer: User, sales_rep: User
) -> None:
    _persona(marketer, sales_rep)
    small, big = contact(1), contact(2)
    _pricing()
    events(small, ("page_view", NOW, {"url": "/pricing"}))
    contacts_rescore(contact_ids=[small.pk], now=NOW)
    with CaptureQueriesContext(connection) as few:
        contact_score_explain(small, now=NOW)
    for n in range(8):
        rule(name=f"rule {n}", event_type=f"custom_{n}", points=n + 1, half_life_days=30)
    events(big, *[(f"custom_{n % 8}", NOW - timedelta(hours=n), {"title": f"t{n}"})
                  for n in range(200)])  # fmt: skip
    contacts_rescore(contact_ids=[big.pk], now=NOW)
    with CaptureQueriesContext(connection) as many:
        explanation = contact_score_explain(big, now=NOW)
    assert len(explanation.top_events) == 5 and len(explanation.rules) == 8
    assert len(many) == len(few) <= 8


# ---- API and explain.json ---------------------------------------------------------------------


def test_viewer_reads_the_explanation_and_explain_json_is_the_same(viewer: User) -> None:
    lead = _lead_with_activity()
    body = api_client_for(viewer).get(API.format(lead.pk), HTTP_ACCEPT_LANGUAGE="ja")
    assert body.status_code == 200
    data = body.json()
    assert data["contact_id"] == lead.pk and data["score"] == lead.score == 44
    assert data["summary"].startswith("エンゲージメント")
    assert data["rules"][0] == {
        "rule_id": data["rules"][0]["rule_id"],
        "rule": "料金ページ閲覧",
        "events": 3,
        "points": 24.0,
    }
    assert data["top_events"][0]["type"] == "webinar_attended"
    assert data["top_events"][0]["label"] == "MQLの定義をそろえる"
    assert data["top_events"][0]["points"] == 20.0
    assert data["personas"] == []
    web = Client()
    web.force_login(viewer)
    page = web.get(reverse("scoring:contact_explain", args=[lead.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert page.json() == data


def test_the_api_speaks_the_requested_language(viewer_api: ApiClient) -> None:
    lead = _lead_with_activity()
    english = viewer_api.get(API.format(lead.pk), HTTP_ACCEPT_LANGUAGE="en").json()
    japanese = viewer_api.get(API.format(lead.pk)).json()  # Japanese by default
    assert english["summary"].startswith("Engagement 44 points: 料金ページ閲覧 3 times (+24)")
    assert japanese["summary"].startswith("エンゲージメント 44点：料金ページ閲覧 3回（+24）")


def test_persona_fits_come_with_criteria_met_and_missed(
    marketer: User, sales_rep: User, viewer_api: ApiClient
) -> None:
    lead = contact()
    Contact.objects.filter(pk=lead.pk).update(title="情報システム部長")
    _persona(marketer, sales_rep)
    (persona,) = viewer_api.get(API.format(lead.pk)).json()["personas"]
    assert (persona["persona"], persona["version"], persona["fit"]) == ("情シス部長", 1, 60)
    assert len(persona["met"]) == 1 and "部長" in persona["met"][0]
    assert len(persona["missed"]) == 1


def test_an_unknown_contact_is_a_404_naming_the_id(viewer_api: ApiClient) -> None:
    response = viewer_api.get(API.format(987654))
    assert response.status_code == 404
    assert response.json() == {"detail": "contact_id: no contact with id 987654"}
    assert viewer_api.get(API.format(0)).status_code == 422
    assert viewer_api.get(API.format("abc")).status_code == 422


def test_without_a_token_it_is_401(db: Any) -> None:
    lead = contact()
    response = Client().get(API.format(lead.pk))
    assert response.status_code == 401 and "detail" in response.json()


def test_a_user_without_a_role_gets_403(db: Any) -> None:
    lead = contact()
    nobody = User.objects.create_user(username="nobody", password="x-unused-1")
    response = api_client_for(nobody).get(API.format(lead.pk))
    assert response.status_code == 403
    assert "contacts.view_contact" in response.json()["detail"]


def test_explain_json_needs_a_login_and_knows_unknown_ids(viewer: User) -> None:
    url = reverse("scoring:contact_explain", args=[987654])
    assert Client().get(url).status_code == 302
    web = Client()
    web.force_login(viewer)
    assert web.get(url).status_code == 404


def test_the_openapi_document_describes_the_endpoint(viewer_api: ApiClient) -> None:
    schema = viewer_api.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/contacts/{contact_id}/score-explanation"]["get"]
    assert set(operation["responses"]) == {"200", "401", "403", "404", "422"}
    assert "ScoreExplanationOut" in schema["components"]["schemas"]


# ---- the contact page ------------------------------------------------------------------------


def test_the_contact_page_shows_the_sentence_the_rules_and_the_top_events(
    viewer: User,
) -> None:
    lead = contact()
    _pricing()
    events(lead, ("page_view", datetime(2026, 5, 30, 16, 0, tzinfo=UTC),
                  {"url": "https://ex.jp/pricing/", "title": "<b>料金</b>"}))  # fmt: skip
    contacts_rescore(contact_ids=[lead.pk])
    web = Client()
    web.force_login(viewer)
    page = web.get(f"/contacts/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    panel = page.split('id="contact-engagement-panel"')[1]
    assert "料金ページ閲覧 1回（+" in panel.split("</div>")[1]  # the sentence
    assert "料金ページ閲覧" in panel and "× 1" in panel
    top = panel.split('id="contact-engagement-events"')[1].split("</ul>")[0]
    assert "2026/05/31" in top  # Japan time
    assert "ページ閲覧: &lt;b&gt;料金&lt;/b&gt;" in top and "<b>料金" not in page
    assert "スコアへの影響が大きい行動" in panel
