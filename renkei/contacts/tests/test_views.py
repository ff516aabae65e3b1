"""The contacts and companies pages: who sees and changes what, filters, forms, escaping."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.contacts import views
from renkei.contacts.models import Company, Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services import contact_change_stage, contact_scores_set, contact_upsert
from renkei.events.models import Event
from renkei.events.services import event_record_one

LIST = reverse("contacts:list")


def _contact(email: str, actor: Any = None, **data: Any) -> Contact:
    score = data.pop("score", None)
    contact, _ = contact_upsert(email=email, actor=actor, **data)
    if score is not None:  # the scoring app's result, set here as it would
        contact_scores_set({contact.pk: score})
    return contact


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _listed(response: Any) -> set[str]:
    return {c.email for c in response.context["contacts"]}


@pytest.fixture
def people(marketer: User, sales_rep: User) -> dict[str, Contact]:
    """Three contacts at two companies, at different stages, one owned by sales_rep."""
    taro = _contact(
        "taro@abc.co.jp",
        marketer,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        company_name="株式会社ABC",
        title="部長",
        score=80,
    )
    hanako = _contact(
        "hanako@abc.co.jp",
        marketer,
        family_name="佐藤",
        given_name="花子",
        family_name_kana="サトウ",
        given_name_kana="ハナコ",
        company_name="株式会社ABC",
        lifecycle_stage=LifecycleStage.MQL,
        score=40,
    )
    jiro = _contact(
        "jiro@xyz.jp",
        marketer,
        family_name="鈴木",
        given_name="次郎",
        company_name="XYZ合同会社",
        lifecycle_stage=LifecycleStage.SQL,
        score=10,
    )
    Contact.objects.filter(pk=jiro.pk).update(owner=sales_rep)
    return {"taro": taro, "hanako": hanako, "jiro": jiro}


# ---- access ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", LIST, "/contacts/companies/", "/campaigns/", "/account/tokens/"]
)
def test_anonymous_visitor_is_sent_to_login(db: Any, url: str) -> None:
    response = Client().get(url, follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/?next=")


def test_home_redirects_to_contacts_list(viewer: User) -> None:
    response = _client(viewer).get("/")
    assert response.status_code == 302 and response["Location"] == LIST


def test_anonymous_post_to_a_change_is_sent_to_login_and_changes_nothing(
    people: dict[str, Contact],
) -> None:
    taro = people["taro"]
    url = reverse("contacts:stage", args=[taro.pk])
    response = Client().post(url, {"to_stage": "customer"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    taro.refresh_from_db()
    assert taro.lifecycle_stage == LifecycleStage.LEAD


# ---- list -----------------------------------------------------------------------------


def test_list_shows_name_family_first_with_kana_company_stage_and_owner(
    viewer: User, people: dict[str, Contact]
) -> None:
    response = _client(viewer).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<meta charset="utf-8">' in html
    assert "山田 太郎" in html and "ヤマダ タロウ" in html
    assert "株式会社ABC" in html
    assert "stage-mql" in html and "部長" in html
    assert "sales1" in html  # jiro's owner
    assert _listed(response) == {"taro@abc.co.jp", "hanako@abc.co.jp", "jiro@xyz.jp"}


def test_free_text_finds_japanese_names_kana_in_hiragana_and_company(
    viewer: User, people: dict[str, Contact]
) -> None:
    client = _client(viewer)
    assert _listed(client.get(LIST, {"q": "山田"})) == {"taro@abc.co.jp"}
    assert _listed(client.get(LIST, {"q": "さとう"})) == {"hanako@abc.co.jp"}
    assert _listed(client.get(LIST, {"q": "xyz"})) == {"jiro@xyz.jp"}


def test_stage_filter_takes_several_stages(viewer: User, people: dict[str, Contact]) -> None:
    response = _client(viewer).get(LIST, {"stage": ["mql", "sql"]})
    assert _listed(response) == {"hanako@abc.co.jp", "jiro@xyz.jp"}


def test_owner_filter_finds_an_owner_and_contacts_without_owner(
    viewer: User, sales_rep: User, people: dict[str, Contact]
) -> None:
    client = _client(viewer)
    assert _listed(client.get(LIST, {"owner": sales_rep.pk})) == {"jiro@xyz.jp"}
    assert _listed(client.get(LIST, {"owner": "0"})) == {"taro@abc.co.jp", "hanako@abc.co.jp"}


def test_company_score_and_created_filters(viewer: User, people: dict[str, Contact]) -> None:
    client = _client(viewer)
    abc = people["taro"].company
    assert abc is not None and people["hanako"].company_id == abc.pk  # deduplicated
    response = client.get(LIST, {"company": abc.pk})
    assert _listed(response) == {"taro@abc.co.jp", "hanako@abc.co.jp"}
    assert "株式会社ABC" in response.content.decode()  # the company filter is shown by name
    assert _listed(client.get(LIST, {"score_min": 20, "score_max": 50})) == {"hanako@abc.co.jp"}
    today = str(timezone.localdate())
    assert len(_listed(client.get(LIST, {"created_from": today, "created_to": today}))) == 3
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    assert _listed(client.get(LIST, {"created_from": tomorrow})) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"score_min": 50, "score_max": 10}, "score_max"),
        ({"score_min": "many"}, "score_min"),
        ({"stage": "hot"}, "stage"),
        ({"created_from": "2026-13-45"}, "created_from"),
        ({"created_from": "2026-05-01", "created_to": "2026-04-01"}, "created_to"),
        ({"company": 999_999}, "company"),
        ({"owner": "abc"}, "owner"),
        ({"after": "-3"}, "after"),
    ],
)
def test_invalid_filter_shows_an_error_naming_the_field(
    viewer: User, people: dict[str, Contact], params: dict[str, Any], field: str
) -> None:
    response = _client(viewer).get(LIST, params)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert f"<strong>{form.fields[field].label}</strong>" in response.content.decode()
    assert response.context["contacts"] == []


def test_next_page_link_continues_where_the_page_ended(
    viewer: User, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        _contact(f"p{i}@example.jp", marketer, family_name=f"社員{i}")
    client = _client(viewer)
    seen: list[str] = []
    response = client.get(LIST, {"q": "社員"})
    while True:
        seen += [c.email for c in response.context["contacts"]]
        cursor = response.context["next_cursor"]
        if cursor is None:
            break
        assert f"after={cursor}" in response.content.decode()
        response = client.get(LIST, {"q": "社員", "after": cursor})
    assert seen == [f"p{i}@example.jp" for i in reversed(range(5))]


def test_match_count_is_capped_instead_of_counting_everything(
    viewer: User, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    for i in range(5):
        _contact(f"c{i}@example.jp", marketer)
    response = _client(viewer).get(LIST)
    assert response.context["matches"] == 4  # at most cap + 1 rows are counted
    assert "該当 3 件以上" in response.content.decode()


def test_list_queries_do_not_grow_with_rows(
    viewer: User, django_assert_max_num_queries: Any
) -> None:
    owners = [User.objects.create_user(f"rep{i}") for i in range(10)]
    for i in range(40):
        contact = _contact(f"n{i}@example.jp", None, company_name=f"会社{i}", family_name="佐々木")
        Contact.objects.filter(pk=contact.pk).update(owner=owners[i % 10])
    client = _client(viewer)
    with django_assert_max_num_queries(10):
        response = client.get(LIST, {"q": "佐々木"})
    assert len(response.context["contacts"]) == 40


# ---- contact page ---------------------------------------------------------------------


def test_contact_page_shows_properties_and_timeline_newest_first(
    viewer: User, sales_rep: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    now = timezone.now()
    event_record_one(contact=taro, type="webinar_attended", occurred_at=now - timedelta(days=2))
    contact_change_stage(contact=taro, to_stage="mql", actor=sales_rep, reason="展示会で名刺交換")
    event_record_one(
        contact=taro,
        type="call",
        occurred_at=now + timedelta(minutes=1),
        properties={"body": "架電"},
    )
    response = _client(viewer).get(reverse("contacts:detail", args=[taro.pk]))
    html = response.content.decode()
    assert "ヤマダ タロウ" in html and "株式会社ABC" in html
    kinds = [
        (item.kind, item.event.type if item.event else item.transition.to_stage)
        for item in response.context["timeline"]
    ]
    assert kinds == [
        ("event", "call"),
        ("transition", "mql"),
        ("transition", "lead"),
        ("event", "webinar_attended"),
    ]
    assert "展示会で名刺交換" in html and "架電" in html


def test_timeline_older_link_pages_through_history(
    viewer: User, people: dict[str, Contact], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "TIMELINE_PAGE_SIZE", 3)
    taro = people["taro"]
    when = timezone.now() - timedelta(hours=1)
    for _ in range(6):  # one shared timestamp: the cursor must still not skip any
        event_record_one(contact=taro, type="page_view", occurred_at=when)
    client = _client(viewer)
    url = reverse("contacts:detail", args=[taro.pk])
    response = client.get(url)
    seen = []
    while True:
        seen += [(item.kind, item.id) for item in response.context["timeline"]]
        cursor = response.context["timeline_next"]
        if cursor is None:
            break
        assert len(response.context["timeline"]) == 3
        response = client.get(reverse("contacts:timeline", args=[taro.pk]), {"before": str(cursor)})
    assert len(seen) == 7 and len(set(seen)) == 7  # 6 events and the creation, each once
    assert client.get(url, {"before": "garbage"}).status_code == 200


def test_viewer_sees_timeline_but_no_change_forms(viewer: User, people: dict[str, Contact]) -> None:
    response = _client(viewer).get(reverse("contacts:detail", args=[people["taro"].pk]))
    assert response.status_code == 200
    for name in ("stage_form", "owner_form", "activity_form"):
        assert name not in response.context
    assert 'id="stage-form"' not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("contacts:stage", "post", {"to_stage": "customer"}),
        ("contacts:owner", "post", {"owner": ""}),
        ("contacts:activity", "post", {"type": "note", "body": "x"}),
        ("contacts:edit", "get", {}),
        ("contacts:edit", "post", {"email": "x@example.jp"}),
        ("contacts:delete", "post", {}),
    ],
)
def test_viewer_gets_403_on_every_change(
    viewer: User, people: dict[str, Contact], name: str, method: str, data: dict[str, Any]
) -> None:
    taro = people["taro"]
    response = getattr(_client(viewer), method)(reverse(name, args=[taro.pk]), data)
    assert response.status_code == 403
    taro.refresh_from_db()
    assert taro.lifecycle_stage == LifecycleStage.LEAD and taro.email == "taro@abc.co.jp"


def test_sales_changes_stage_and_the_transition_keeps_actor_and_reason(
    sales_rep: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    response = _client(sales_rep).post(
        reverse("contacts:stage", args=[taro.pk]), {"to_stage": "sal", "reason": "受入"}
    )
    assert response.status_code == 302
    taro.refresh_from_db()
    assert taro.lifecycle_stage == "sal"
    transition = LifecycleTransition.objects.filter(contact=taro).first()
    assert transition is not None
    assert (transition.from_stage, transition.to_stage) == ("lead", "sal")
    assert (transition.actor, transition.reason, transition.source) == (sales_rep, "受入", "ui")


def test_moving_backwards_without_reason_is_a_form_error(
    sales_rep: User, people: dict[str, Contact]
) -> None:
    jiro = people["jiro"]  # SQL
    url = reverse("contacts:stage", args=[jiro.pk])
    response = _client(sales_rep).post(url, {"to_stage": "lead", "reason": "  "})
    assert response.status_code == 200
    assert "reason" in response.context["stage_form"].errors
    jiro.refresh_from_db()
    assert jiro.lifecycle_stage == "sql"
    ok = _client(sales_rep).post(url, {"to_stage": "lead", "reason": "予算凍結"})
    assert ok.status_code == 302


def test_unknown_stage_is_a_form_error(sales_rep: User, people: dict[str, Contact]) -> None:
    url = reverse("contacts:stage", args=[people["taro"].pk])
    response = _client(sales_rep).post(url, {"to_stage": "hot"})
    assert "to_stage" in response.context["stage_form"].errors


def test_sales_assigns_owner_but_marketing_may_not(
    sales_rep: User, sales_rep2: User, marketer: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    url = reverse("contacts:owner", args=[taro.pk])
    assert _client(marketer).post(url, {"owner": sales_rep2.pk}).status_code == 403
    assert _client(sales_rep).post(url, {"owner": sales_rep2.pk}).status_code == 302
    taro.refresh_from_db()
    assert taro.owner == sales_rep2


def test_logged_call_appears_on_the_timeline(sales_rep: User, people: dict[str, Contact]) -> None:
    taro = people["taro"]
    client = _client(sales_rep)
    response = client.post(
        reverse("contacts:activity", args=[taro.pk]), {"type": "call", "body": "来週訪問"}
    )
    assert response.status_code == 302
    event = Event.objects.get(contact=taro)
    assert event.type == "call" and event.properties["body"] == "来週訪問"
    page = client.get(reverse("contacts:detail", args=[taro.pk])).content.decode()
    assert "来週訪問" in page


def test_empty_activity_is_a_form_error(sales_rep: User, people: dict[str, Contact]) -> None:
    url = reverse("contacts:activity", args=[people["taro"].pk])
    response = _client(sales_rep).post(url, {"type": "call", "body": ""})
    assert "body" in response.context["activity_form"].errors
    assert not Event.objects.exists()


def test_edit_personal_data_and_bad_phone_names_the_field(
    marketer: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    url = reverse("contacts:edit", args=[taro.pk])
    client = _client(marketer)
    form = client.get(url).context["form"]
    data = {k: v or "" for k, v in form.initial.items()}
    bad = client.post(url, {**data, "phone": "電話なし"})
    assert bad.status_code == 200 and "phone" in bad.context["form"].errors
    good = client.post(url, {**data, "phone": "03-1234-5678", "title": "本部長"})
    assert good.status_code == 302
    taro.refresh_from_db()
    assert (taro.phone, taro.title) == ("+81312345678", "本部長")
    assert taro.company is not None and taro.company.name == "株式会社ABC"  # unchanged


def test_editing_to_another_contacts_email_is_a_form_error(
    marketer: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    url = reverse("contacts:edit", args=[taro.pk])
    response = _client(marketer).post(url, {"email": "HANAKO@abc.co.jp"})
    assert "email" in response.context["form"].errors


def test_create_contact_and_duplicate_email_is_refused(marketer: User, db: Any) -> None:
    client = _client(marketer)
    url = reverse("contacts:create")
    data = {"email": "new@example.jp", "family_name": "高橋", "lifecycle_stage": "lead"}
    response = client.post(url, data)
    contact = Contact.objects.get(email_normalized="new@example.jp")
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    again = client.post(url, {**data, "email": "ＮＥＷ@example.jp"})
    assert "email" in again.context["form"].errors
    assert Contact.objects.count() == 1


def test_only_manager_and_admin_delete_a_contact(
    sales_rep: User, manager: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    url = reverse("contacts:delete", args=[taro.pk])
    assert _client(sales_rep).post(url).status_code == 403
    assert _client(manager).get(url).status_code == 200  # the confirmation
    assert _client(manager).post(url).status_code == 302
    assert not Contact.objects.filter(pk=taro.pk).exists()


def test_script_in_user_data_is_escaped_everywhere(sales_rep: User, marketer: User) -> None:
    evil = "<script>alert(1)</script>"
    contact = _contact("evil@example.jp", marketer, family_name=evil, company_name=evil)
    event_record_one(contact=contact, type="note", properties={"body": evil, evil: evil})
    client = _client(sales_rep)
    for url in (LIST, reverse("contacts:detail", args=[contact.pk])):
        html = client.get(url).content.decode()
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---- companies ------------------------------------------------------------------------


def test_company_list_filters_and_company_page_lists_its_contacts(
    viewer: User, people: dict[str, Contact]
) -> None:
    client = _client(viewer)
    url = reverse("contacts:company_list")
    names = {c.name for c in client.get(url).context["companies"]}
    assert names == {"株式会社ABC", "XYZ合同会社"}
    assert {c.name for c in client.get(url, {"q": "ｘｙｚ"}).context["companies"]} == {
        "XYZ合同会社"
    }
    assert client.get(url, {"industry": "spaceflight"}).context["form"].errors
    abc = people["taro"].company
    assert abc is not None
    page = client.get(reverse("contacts:company_detail", args=[abc.pk]))
    assert {c.email for c in page.context["contacts"]} == {"taro@abc.co.jp", "hanako@abc.co.jp"}


def test_company_edit_is_role_gated_and_validated(
    viewer: User, marketer: User, people: dict[str, Contact]
) -> None:
    abc = people["taro"].company
    assert abc is not None
    url = reverse("contacts:company_edit", args=[abc.pk])
    assert _client(viewer).get(url).status_code == 403
    client = _client(marketer)
    bad = client.post(url, {"name": "ABC", "prefecture": "火星"})
    assert "prefecture" in bad.context["form"].errors
    ok = client.post(url, {"name": "株式会社ABC", "industry": "it", "prefecture": "東京都"})
    assert ok.status_code == 302
    abc.refresh_from_db()
    assert (abc.industry, abc.prefecture) == ("it", "東京都")


def test_company_create_and_delete(marketer: User, manager: User, db: Any) -> None:
    response = _client(marketer).post(
        reverse("contacts:company_create"), {"name": "㈱テスト", "domain": "https://www.test.jp/"}
    )
    company = Company.objects.get()
    assert company.domain == "test.jp"
    assert response["Location"] == reverse("contacts:company_detail", args=[company.pk])
    delete = reverse("contacts:company_delete", args=[company.pk])
    assert _client(marketer).post(delete).status_code == 403
    assert _client(manager).post(delete).status_code == 302
    assert not Company.objects.exists()


def test_contact_page_queries_do_not_grow_with_history(
    sales_rep: User, people: dict[str, Contact], django_assert_max_num_queries: Any
) -> None:
    taro = people["taro"]
    for i in range(60):
        event_record_one(contact=taro, type="page_view", properties={"url": f"/p/{i}"})
    client = _client(sales_rep)
    url = reverse("contacts:detail", args=[taro.pk])
    # The panels later apps add (consents, persona fit, journey, engagement with its top
    # events, MQL decision, deals, SLA clocks) cost a fixed few more.
    with django_assert_max_num_queries(18):
        response = client.get(url)
    assert len(response.context["timeline"]) == views.TIMELINE_PAGE_SIZE


def test_missing_contact_and_company_are_404(viewer: User, db: Any) -> None:
    client = _client(viewer)
    assert client.get(reverse("contacts:detail", args=[999_999])).status_code == 404
    assert client.get(reverse("contacts:company_detail", args=[999_999])).status_code == 404


def test_get_on_a_form_target_goes_back_to_the_contact_page(
    sales_rep: User, people: dict[str, Contact]
) -> None:
    taro = people["taro"]
    response = _client(sales_rep).get(reverse("contacts:stage", args=[taro.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[taro.pk])


def test_every_broken_filter_is_reported_at_once(viewer: User, db: Any) -> None:
    params: dict[str, Any] = {"score_min": 50, "score_max": 10, "created_from": "2026-99-01"}
    errors = _client(viewer).get(LIST, params).context["form"].errors
    assert {"score_max", "created_from"} <= set(errors)
