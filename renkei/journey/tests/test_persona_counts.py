"""The journey page counts the contacts of each stage per active persona, with totals, in
a fixed number of queries."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.contacts.services import contact_upsert
from renkei.journey.models import JourneyStage
from renkei.journey.selectors import journey_stage_persona_counts
from renkei.journey.services import contacts_journey_refresh, journey_stage_create
from renkei.personas.models import PersonaVersion
from renkei.personas.services import (
    contacts_fit_rebuild_all,
    persona_create,
    persona_version_approve,
    persona_version_retire,
)

pytestmark = pytest.mark.django_db


def _persona(name: str, keyword: str, marketer: User, sales: User) -> PersonaVersion:
    version = persona_create(
        name=name, criteria=[{"field": "title", "values": [keyword], "weight": 1}], actor=marketer
    )
    persona_version_approve(version=version, side="marketing", actor=marketer)
    return persona_version_approve(version=version, side="sales", actor=sales)


def _contacts(marketer: User, prefix: str = "c", **per_stage_and_title: int) -> None:
    """``lead__部長=2`` makes two leads titled 部長 (``none`` for no title)."""
    n = 0
    for key, count in per_stage_and_title.items():
        stage, title = key.split("__")
        for _ in range(count):
            n += 1
            contact_upsert(
                email=f"{prefix}{n}@example.jp",
                lifecycle_stage=stage,
                title="" if title == "none" else title,
                actor=marketer,
            )


def _stage(name: str) -> JourneyStage:
    return JourneyStage.objects.get(name=name)


@pytest.fixture
def placed(marketer: User, sales_rep: User) -> dict[str, PersonaVersion]:
    bucho = _persona("部長", "部長", marketer, sales_rep)
    it = _persona("情シス", "情報システム", marketer, sales_rep)
    _contacts(
        marketer,
        lead__部長=3,  # 興味・関心
        lead__情報システム担当=2,
        lead__none=1,
        customer__部長=1,  # 受注
        customer__none=4,
    )
    contacts_fit_rebuild_all()
    contacts_journey_refresh()
    return {"bucho": bucho, "it": it}


def test_counts_per_stage_and_persona_with_totals(placed: dict[str, PersonaVersion]) -> None:
    bucho, it = placed["bucho"].persona_id, placed["it"].persona_id
    counts = journey_stage_persona_counts()
    assert [p.pk for p in counts.personas] == [bucho, it]  # oldest persona first
    interest, won = _stage("興味・関心").pk, _stage("受注").pk
    assert counts.counts == {
        (interest, bucho): 3,
        (interest, it): 2,
        (interest, None): 1,
        (won, bucho): 1,
        (won, None): 4,
    }
    assert (counts.stage_total(interest), counts.stage_total(won)) == (6, 5)
    assert counts.persona_total(bucho) == 4 and counts.persona_total(None) == 5
    assert counts.total == 11
    assert counts.count(_stage("商談").pk, bucho) == 0


def test_a_retired_persona_loses_its_column_and_its_contacts_count_as_none(
    placed: dict[str, PersonaVersion], marketer: User
) -> None:
    # Before the rebuild that retiring queues, the contacts still point at the old version.
    persona_version_retire(version=placed["it"], actor=marketer)
    counts = journey_stage_persona_counts()
    assert [p.pk for p in counts.personas] == [placed["bucho"].persona_id]
    assert counts.count(_stage("興味・関心").pk, None) == 3
    assert counts.total == 11


def test_the_page_shows_the_table_with_totals(
    placed: dict[str, PersonaVersion], viewer: User
) -> None:
    client = Client()
    client.force_login(viewer)
    response = client.get(reverse("journey:index"))
    assert response.status_code == 200
    rows = {row["stage"].name: row for row in response.context["rows"]}
    assert rows["興味・関心"]["by_persona"] == [3, 2]
    assert (rows["興味・関心"]["no_persona"], rows["興味・関心"]["count"]) == (1, 6)
    assert rows["受注"]["by_persona"] == [1, 0] and rows["認知"]["by_persona"] == [0, 0]
    assert response.context["persona_totals"] == [4, 2]
    assert (response.context["no_persona_total"], response.context["total"]) == (5, 11)
    html = response.content.decode()
    table = html[html.index('id="journey-personas"') :]
    assert "ペルソナなし" in table and "情シス" in table
    interest = table[table.index(f'data-stage="{_stage("興味・関心").pk}"') :]
    cells = interest[: interest.index("</tr>")]
    assert [c.split(">")[-1] for c in cells.split("</td>")[:-1]] == ["3", "2", "1", "6"]
    footer = table[table.index('data-stage="total"') :]
    assert ">11</td>" in footer[: footer.index("</tr>")]


def test_without_an_active_persona_everyone_is_no_persona(marketer: User, viewer: User) -> None:
    _contacts(marketer, lead__部長=2)
    contacts_journey_refresh()
    client = Client()
    client.force_login(viewer)
    response = client.get(reverse("journey:index"))
    assert response.context["personas"] == []
    assert response.context["no_persona_total"] == 2 == response.context["total"]
    assert "承認" in response.content.decode()  # how to get a persona column


def test_the_page_makes_the_same_queries_whatever_the_personas_and_stages(
    marketer: User, sales_rep: User, viewer: User
) -> None:
    client = Client()
    client.force_login(viewer)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("journey:index")).status_code == 200
        return len(queries)

    _persona("部長", "部長", marketer, sales_rep)
    _contacts(marketer, lead__部長=2, customer__none=1)
    contacts_fit_rebuild_all()
    contacts_journey_refresh()
    few = page_queries()

    for n in range(4):
        _persona(f"P{n}", f"役職{n}", marketer, sales_rep)
        journey_stage_create(actor=marketer, name=f"追加{n}", position=70 + n)
    _contacts(marketer, "more", lead__役職1=5, subscriber__役職2=3)
    contacts_fit_rebuild_all()
    contacts_journey_refresh()
    assert page_queries() == few
