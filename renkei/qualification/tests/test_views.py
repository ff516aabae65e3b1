"""The qualification page: everyone reads it; marketing, managers and admins change the
policy and start a full evaluation; the contact page shows the decision and the flag."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.contacts.services import contact_change_stage
from renkei.qualification.models import ContactQualification, QualificationRun
from renkei.qualification.selectors import qualification_policy
from renkei.qualification.services import contacts_qualify
from renkei.qualification.tests.factories import engaged, events, lead, persona, webinar_rule

INDEX = reverse("qualification:index")
EDIT = reverse("qualification:policy_edit")
RUN = reverse("qualification:run")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
VALID = {
    "fit_threshold": "70",
    "engagement_threshold": "50",
    "hand_raise_event_types": "demo_request、contact_request, meeting",
    "hand_raise_window_days": "60",
    "active": "on",
}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_is_required(db: Any) -> None:
    response = Client().get(INDEX)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role", ["viewer", "sales_rep"])
def test_viewers_and_sales_see_the_policy_but_may_not_change_it(
    role: str, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(role))
    response = client.get(INDEX, HTTP_ACCEPT_LANGUAGE="ja")
    html = response.content.decode()
    assert response.status_code == 200
    assert "MQL 判定基準" in html and "demo_request" in html
    assert EDIT not in html and RUN not in html
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, VALID).status_code == 403
    assert client.post(RUN).status_code == 403
    assert qualification_policy().fit_threshold == 60
    assert not QualificationRun.objects.exists()


def test_the_page_speaks_japanese(viewer: User) -> None:
    html = _client(viewer).get(INDEX, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    for text in ("現在の MQL 数", "過去 30 日に MQL 認定", "基準を下回る MQL はありません。"):
        assert text in html


@pytest.mark.parametrize("user", ["marketer", "manager", "admin_user"])
def test_marketing_managers_and_admins_change_the_policy(
    user: str, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(user))
    assert client.get(EDIT).status_code == 200
    response = client.post(EDIT, VALID)
    assert response.status_code == 302
    policy = qualification_policy()
    assert (policy.fit_threshold, policy.engagement_threshold) == (70, 50)
    assert policy.hand_raise_event_types == ["demo_request", "contact_request", "meeting"]
    assert policy.hand_raise_window_days == 60


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"fit_threshold": "abc"}, "fit_threshold", "整数"),
        ({"fit_threshold": "120"}, "fit_threshold", "0 から 100"),
        ({"engagement_threshold": "-1"}, "engagement_threshold", "0 から 1000000"),
        ({"hand_raise_event_types": "demo-request"}, "hand_raise_event_types", "demo_request"),
        ({"hand_raise_window_days": "0"}, "hand_raise_window_days", "1 から 3650"),
        ({"hand_raise_window_days": ""}, "hand_raise_window_days", "必須"),
    ],
)
def test_form_errors_name_the_field(
    marketer: User, data: dict[str, str], field: str, fragment: str
) -> None:
    response = _client(marketer).post(EDIT, VALID | data, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert fragment in " ".join(errors[field])
    assert qualification_policy().fit_threshold == 60


def test_the_run_button_is_post_only_and_queues_a_run(
    marketer: User, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    client = _client(marketer)
    assert client.get(RUN).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RUN).status_code == 302
    run = QualificationRun.objects.get()
    assert (run.status, run.requested_by, run.trigger) == ("queued", marketer, "ui")
    assert DBTaskResult.objects.filter(task_path="renkei.qualification.tasks.qualify_all").exists()
    html = client.get(INDEX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Last full evaluation" in html and "queued" in html


def _flagged(n: int, sales_rep: User, start: int = 1000) -> list[Any]:
    contacts = []
    for i in range(n):
        contact = lead(start + i, title="担当")
        contact_change_stage(contact=contact, to_stage="mql", actor=sales_rep)
        contacts.append(contact)
    contacts_qualify(contact_ids=[c.pk for c in contacts], now=NOW)
    return contacts


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    return len(queries)


def test_flagged_mqls_are_listed_linked_without_n_plus_1(
    viewer: User, sales_rep: User, settings: Any
) -> None:
    client = _client(viewer)
    first = _flagged(2, sales_rep)
    few = _page_queries(client)
    _flagged(8, sales_rep, start=2000)
    assert _page_queries(client) == few
    html = client.get(INDEX).content.decode()
    assert reverse("contacts:detail", args=[first[0].pk]) in html
    assert ContactQualification.objects.filter(below_policy_since__isnull=False).count() == 10


def test_flagged_mqls_come_in_keyset_pages(viewer: User, sales_rep: User) -> None:
    from renkei.qualification import views

    contacts = _flagged(3, sales_rep)
    client = _client(viewer)
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        first = client.get(INDEX)
        assert [r.contact.pk for r in first.context["flagged"]] == [
            contacts[2].pk,
            contacts[1].pk,
        ]
        cursor = first.context["next_cursor"]
        second = client.get(INDEX, {"after": cursor})
        assert [r.contact.pk for r in second.context["flagged"]] == [contacts[0].pk]
        assert second.context["next_cursor"] is None
        assert client.get(INDEX, {"after": "x'"}).status_code == 200  # bad cursor: page 1
    finally:
        views.PAGE_SIZE = original


def test_the_contact_page_shows_why_it_qualified(
    viewer: User, marketer: User, sales_rep: User
) -> None:
    persona(marketer, sales_rep)
    webinar_rule(points=45)
    yamada = lead(1)
    engaged(yamada, NOW)
    contacts_qualify(contact_ids=[yamada.pk], now=NOW)
    detail = reverse("contacts:detail", args=[yamada.pk])
    html = _client(viewer).get(detail, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "MQL 判定" in html
    assert "適合度 72 (基準 60 以上) かつ エンゲージメント 45点 (基準 40 以上)" in html
    assert "基準を下回っています（降格はしません）" not in html


def test_the_contact_page_warns_when_below_the_policy(viewer: User, sales_rep: User) -> None:
    (flagged,) = _flagged(1, sales_rep)
    detail = reverse("contacts:detail", args=[flagged.pk])
    html = _client(viewer).get(detail, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "基準を下回っています（降格はしません）" in html
    raised = lead(2, title="担当")
    events(raised, ("demo_request", datetime.now(tz=UTC)))
    html = (
        _client(viewer)
        .get(reverse("contacts:detail", args=[raised.pk]), HTTP_ACCEPT_LANGUAGE="ja")
        .content.decode()
    )
    assert "まだ基準による MQL 認定はありません。" in html


def test_previewing_a_policy_change_shows_its_effect_and_saves_nothing(
    marketer: User,
) -> None:
    from renkei.scoring.backtest import snapshot_build

    webinar_rule(points=45)
    hot, _cold = lead(1), lead(2)
    engaged(hot, NOW)  # 45 points; no persona, so a fit of 0
    snapshot_build(now=NOW)
    data = VALID | {"fit_threshold": "0", "engagement_threshold": "40", "action": "preview"}
    response = _client(marketer).post(EDIT, data, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    result = response.context["preview"].result
    # Now (fit 60 or more) nobody qualifies; with fit 0 allowed, the engaged lead does.
    assert (result.before.would_become_mql, result.after.would_become_mql) == (0, 1)
    assert "既存データでのバックテスト" in response.content.decode()
    assert qualification_policy().fit_threshold == 60  # nothing saved


def test_a_policy_preview_with_a_bad_field_names_it(marketer: User) -> None:
    data = VALID | {"fit_threshold": "120", "action": "preview"}
    response = _client(marketer).post(EDIT, data, HTTP_ACCEPT_LANGUAGE="ja")
    assert list(response.context["form"].errors) == ["fit_threshold"]
    assert response.context["preview"] is None


def test_switching_the_policy_off_previews_no_new_mqls(marketer: User) -> None:
    from renkei.scoring.backtest import snapshot_build

    events(lead(1, title="担当"), ("demo_request", NOW))
    snapshot_build(now=NOW)
    data = {k: v for k, v in VALID.items() if k != "active"} | {"action": "preview"}
    result = _client(marketer).post(EDIT, data).context["preview"].result
    assert result.after.qualifying == 0
