"""The deals pages: board, move endpoint (JSON and plain form), list, detail, forms."""

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import PASSWORD
from renkei.deals.models import Deal, DealStatus, PipelineStage
from renkei.deals.services import pipeline_create, pipeline_default
from renkei.deals.tests.factories import contact, deal, stage

pytestmark = pytest.mark.django_db
JSON: dict[str, Any] = {"HTTP_ACCEPT": "application/json"}


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _many(owner: User, n: int, stage_name: str = "初回商談") -> None:
    target = stage(stage_name)
    Deal.objects.bulk_create(
        Deal(
            name=f"案件{i}",
            pipeline_id=target.pipeline_id,
            stage=target,
            amount=1000 * i,
            owner=owner,
            expected_close_date=date(2025, 1 + i % 12, 1),
        )
        for i in range(n)
    )


def test_board_shows_cards_totals_and_formatted_yen(sales_rep: User) -> None:
    deal(sales_rep, amount=1_200_000, expected_close_date=date(2025, 10, 31))
    deal(sales_rep, name="二件目", amount=300_000)
    page = login(sales_rep).get("/deals/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "¥1,200,000" in html and "¥1,500,000" in html and "2025-10-31" in html
    assert 'draggable="true"' in html and "deals_board.js" in html
    assert "初回商談" in html and "受注" in html


def test_board_queries_do_not_grow_with_deals_and_columns_are_limited(
    sales_rep: User, monkeypatch: Any
) -> None:
    from renkei.deals import selectors

    client = login(sales_rep)
    _many(sales_rep, 5)
    client.get("/deals/")
    with CaptureQueriesContext(connection) as few:
        client.get("/deals/")
    _many(sales_rep, 200)
    _many(sales_rep, 30, "見積")
    monkeypatch.setattr(selectors, "BOARD_PER_COLUMN", 20)
    monkeypatch.setattr(
        selectors.deal_board, "__kwdefaults__", {"owner_id": None, "per_column": 20}
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get("/deals/")
    assert len(many) <= len(few) + 1  # one more column with cards
    html = page.content.decode()
    assert html.count('class="deal-card card"') == 40
    assert "185 more deals" in html or "ほか 185 件" in html


def test_move_by_json_answers_new_totals(sales_rep: User) -> None:
    created = deal(sales_rep, amount=500)
    target = stage("提案")
    answer = login(sales_rep).post(
        f"/deals/{created.pk}/move/",
        {"stage": target.pk, "expected_stage": created.stage_id},
        **JSON,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["stage"] == target.pk
    assert body["columns"][str(target.pk)] == {"count": 1, "total": "¥500"}


def test_stale_move_is_409_with_a_message(sales_rep: User) -> None:
    created = deal(sales_rep)
    client = login(sales_rep)
    seen = created.stage_id
    client.post(f"/deals/{created.pk}/move/", {"stage": stage("見積").pk, "expected_stage": seen})
    answer = client.post(
        f"/deals/{created.pk}/move/", {"stage": stage("交渉").pk, "expected_stage": seen}, **JSON
    )
    assert answer.status_code == 409
    assert "見積" in answer.json()["message"]
    plain = client.post(
        f"/deals/{created.pk}/move/", {"stage": stage("交渉").pk, "expected_stage": seen}
    )
    assert plain.status_code == 409
    assert "見積" in plain.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stage": "abc"}, "stage"),
        ({"stage": 999999}, "stage"),
        ({"stage": "LOST"}, "lost_reason"),
        ({"stage": "OTHER"}, "stage"),
    ],
)
def test_bad_moves_are_400_naming_the_field(
    sales_rep: User, manager: User, data: dict[str, Any], field: str
) -> None:
    created = deal(sales_rep)
    if data["stage"] == "LOST":
        data = {"stage": stage("失注").pk}
    elif data["stage"] == "OTHER":
        data = {"stage": stage("提案", pipeline_create(name="別", actor=manager)).pk}
    answer = login(sales_rep).post(f"/deals/{created.pk}/move/", data, **JSON)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_move_without_js_redirects_back(sales_rep: User) -> None:
    created = deal(sales_rep)
    answer = login(sales_rep).post(
        f"/deals/{created.pk}/move/",
        {"stage": stage("受注").pk, "expected_stage": created.stage_id, "next": "/deals/"},
    )
    assert answer.status_code == 302 and answer["Location"] == "/deals/"
    created.refresh_from_db()
    assert created.status == DealStatus.WON


def test_move_needs_post_and_ownership(sales_rep: User, sales_rep2: User, marketer: User) -> None:
    created = deal(sales_rep2)
    assert login(sales_rep2).get(f"/deals/{created.pk}/move/").status_code == 405
    data = {"stage": stage("提案").pk}
    assert login(sales_rep).post(f"/deals/{created.pk}/move/", data).status_code == 403
    assert login(sales_rep).post(f"/deals/{created.pk}/move/", data, **JSON).status_code == 403
    assert login(marketer).post(f"/deals/{created.pk}/move/", data).status_code == 403
    assert login(marketer).get("/deals/").status_code == 200
    assert login(marketer).get(f"/deals/{created.pk}/").status_code == 200


def test_close_form_lost_without_reason_is_a_field_error(sales_rep: User) -> None:
    created = deal(sales_rep)
    client = login(sales_rep)
    answer = client.post(f"/deals/{created.pk}/close/", {"outcome": "lost"})
    assert answer.status_code == 400
    assert answer.context["close_form"].errors["lost_reason"]
    answer = client.post(
        f"/deals/{created.pk}/close/", {"outcome": "lost", "lost_reason": "price", "note": "高い"}
    )
    assert answer.status_code == 302
    page = client.get(f"/deals/{created.pk}/").content.decode()
    assert "失注" in page and "高い" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-100"),
        ("amount", "12.5"),
        ("amount", "abc"),
        ("expected_close_date", "31/12/2025"),
        ("contacts", "nobody@example.jp"),
        ("company", "999999"),
    ],
)
def test_new_deal_form_bad_input_names_the_field(sales_rep: User, field: str, value: str) -> None:
    data = {"name": "案件", "pipeline": pipeline_default().pk, "amount": "0", field: value}
    answer = login(sales_rep).post("/deals/new/", data)
    assert answer.status_code == 400
    assert field in answer.context["form"].errors
    assert Deal.objects.count() == 0


def test_stage_of_another_pipeline_in_the_form_is_a_field_error(
    sales_rep: User, manager: User
) -> None:
    other = pipeline_create(name="別", actor=manager)
    data = {"name": "案件", "pipeline": pipeline_default().pk, "stage": stage("提案", other).pk}
    answer = login(sales_rep).post("/deals/new/", data)
    assert answer.status_code == 400
    assert "stage" in answer.context["form"].errors


def test_new_deal_from_a_contact_page(sales_rep: User) -> None:
    person = contact()
    client = login(sales_rep)
    page = client.get(f"/contacts/{person.pk}/")
    assert f"/deals/new/?contact={person.pk}" in page.content.decode()
    form = client.get(f"/deals/new/?contact={person.pk}").context["form"]
    assert form.initial["contacts"] == person.email
    answer = client.post(
        "/deals/new/",
        {
            "name": "さくら案件",
            "pipeline": pipeline_default().pk,
            "amount": "¥1,200,000",
            "expected_close_date": "2025-12-25",
            "contacts": person.email,
            "owner": sales_rep.pk,
        },
    )
    assert answer.status_code == 302
    created = Deal.objects.get()
    assert (created.amount, created.company_id) == (1_200_000, person.company_id)
    detail = client.get(answer["Location"]).content.decode()
    assert "¥1,200,000" in detail and person.email in detail and "初回商談" in detail


def test_edit_is_refused_to_other_reps(sales_rep: User, sales_rep2: User) -> None:
    created = deal(sales_rep2)
    assert login(sales_rep).get(f"/deals/{created.pk}/edit/").status_code == 403
    answer = login(sales_rep2).post(
        f"/deals/{created.pk}/edit/", {"name": "改名", "amount": "1,000"}
    )
    assert answer.status_code == 302
    created.refresh_from_db()
    assert (created.name, created.amount) == ("改名", 1000)


def test_list_filters_and_pages_without_n_plus_one(sales_rep: User, sales_rep2: User) -> None:
    _many(sales_rep, 120)
    _many(sales_rep2, 5)
    client = login(sales_rep)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/deals/list/?owner={sales_rep.pk}&close_month=2025-03")
    assert page.status_code == 200
    assert len(page.context["deals"]) == 10  # 案件2, 14, 26 … of sales_rep in March
    assert len(queries) < 15
    first = client.get("/deals/list/")
    assert len(first.context["deals"]) == 50 and first.context["next_cursor"]
    second = client.get(f"/deals/list/?before={first.context['next_cursor']}")
    assert {d.pk for d in first.context["deals"]}.isdisjoint(d.pk for d in second.context["deals"])
    bad = client.get("/deals/list/?close_month=2025-13")
    assert bad.status_code == 400 and "close_month" in bad.context["form"].errors


def test_pipeline_editing_is_for_managers(manager: User, sales_rep: User) -> None:
    target = stage("提案")
    assert login(sales_rep).get(f"/deals/stages/{target.pk}/edit/").status_code == 403
    assert login(sales_rep).post("/deals/pipelines/", {"name": "x"}).status_code == 403
    client = login(manager)
    answer = client.post(
        f"/deals/stages/{target.pk}/edit/",
        {"name": "提案", "order": 20, "probability": 150},
    )
    assert answer.status_code == 400 and "probability" in answer.context["form"].errors
    answer = client.post(
        f"/deals/stages/{target.pk}/edit/", {"name": "提案", "order": 20, "probability": 40}
    )
    assert answer.status_code == 302
    assert PipelineStage.objects.get(pk=target.pk).probability == 40
    answer = client.post(
        f"/deals/pipelines/{target.pipeline_id}/stages/new/",
        {"name": "トライアル", "order": 25, "probability": 45},
    )
    assert answer.status_code == 302
    assert client.post("/deals/pipelines/", {"name": "代理店"}).status_code == 302
    assert "代理店" in client.get("/deals/pipelines/").content.decode()


def test_pages_are_japanese(sales_rep: User) -> None:
    created = deal(sales_rep)
    client = login(sales_rep)
    client.cookies["django_language"] = "ja"
    html = client.get("/deals/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "商談" in html
    html = client.get(f"/deals/{created.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "履歴" in html
