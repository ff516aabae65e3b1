"""The contacts and companies REST API: upsert, read, filter, page, change, erase, merge."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Company, Contact, LifecycleTransition
from renkei.contacts.services import (
    company_upsert,
    contact_change_stage,
    contact_scores_set,
    contact_upsert,
)
from renkei.events.models import Event
from renkei.events.services import event_record_one

CONTACTS = "/api/v1/contacts"
COMPANIES = "/api/v1/companies"


def names_field(response: Any, field: str) -> bool:
    """The error body names the field: in a ``loc`` of ``detail`` or in its message."""
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return field in detail
    return any(field in [str(p) for p in item.get("loc", [])] for item in detail)


def make_contact(actor: Any, email: str = "taro@example.jp", **data: Any) -> Contact:
    score = data.pop("score", None)
    contact, _ = contact_upsert(email=email, actor=actor, **data)
    if score is not None:  # the scoring app's result, set here as it would
        contact_scores_set({contact.pk: score})
    return contact


# ---- create or update ------------------------------------------------------------------


def test_post_creates_then_updates_by_normalised_email(marketer_api: Any) -> None:
    body = {
        "email": "Taro.Yamada@Example.co.jp",
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "やまだ",
        "given_name_kana": "ﾀﾛｳ",
        "company_name": "株式会社サンプル",
        "company_domain": "sample.co.jp",
        "department": "営業部",
        "title": "部長",
        "phone": "03-1234-5678",
        "prefecture": "東京",
        "properties": {"interest": "MA"},
    }
    created = marketer_api.post_json(CONTACTS, body)
    assert created.status_code == 201, created.content
    assert created.json()["created"] is True
    contact = created.json()["contact"]
    assert contact["full_name"] == "山田 太郎"
    assert (contact["family_name_kana"], contact["given_name_kana"]) == ("ヤマダ", "タロウ")
    assert contact["phone"] == "+81312345678"
    assert contact["prefecture"] == "東京都"
    assert contact["company"]["name"] == "株式会社サンプル"
    assert contact["lifecycle_stage"] == "lead"
    assert contact["source"] == "api"
    assert contact["owner"] is None
    for key in ("created_at", "updated_at", "last_activity_at", "score", "properties"):
        assert key in contact

    updated = marketer_api.post_json(
        CONTACTS, {"email": "ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", "title": "本部長"}
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["created"] is False
    assert updated.json()["contact"]["id"] == contact["id"]
    assert updated.json()["contact"]["title"] == "本部長"
    assert updated.json()["contact"]["family_name"] == "山田"  # not blanked
    assert Contact.objects.count() == 1


def test_post_with_stage_and_owner_needs_those_permissions(
    marketer_api: Any, sales_api: Any, sales_rep: Any
) -> None:
    body = {"email": "a@example.jp", "owner_id": sales_rep.pk}
    assert marketer_api.post_json(CONTACTS, body).status_code == 403  # no assign_owner
    assert not Contact.objects.exists()
    response = sales_api.post_json(CONTACTS, {**body, "lifecycle_stage": "sql"})
    assert response.status_code == 201, response.content
    assert response.json()["contact"]["owner"] == {"id": sales_rep.pk, "username": "sales1"}
    assert response.json()["contact"]["lifecycle_stage"] == "sql"


def test_viewer_may_read_but_not_write(viewer_api: Any, marketer: Any) -> None:
    contact = make_contact(marketer)
    assert viewer_api.get(f"{CONTACTS}/{contact.pk}").status_code == 200
    assert viewer_api.get(CONTACTS).status_code == 200
    assert viewer_api.get(f"{CONTACTS}/{contact.pk}/transitions").status_code == 200
    assert viewer_api.post_json(CONTACTS, {"email": "b@example.jp"}).status_code == 403
    denied = viewer_api.patch_json(f"{CONTACTS}/{contact.pk}", {"title": "x"})
    assert denied.status_code == 403
    assert "contacts.change_contact" in denied.json()["detail"]
    assert viewer_api.delete(f"{CONTACTS}/{contact.pk}").status_code == 403
    assert viewer_api.post_json(COMPANIES, {"name": "A"}).status_code == 403


def test_requests_without_a_valid_token_are_unauthorised(client: Any, db: Any) -> None:
    assert client.get(CONTACTS).status_code == 401
    bad = client.get(CONTACTS, HTTP_AUTHORIZATION="Bearer rk_nope")
    assert bad.status_code == 401


# ---- read ------------------------------------------------------------------------------


def test_get_one_and_unknown_id(viewer_api: Any, marketer: Any) -> None:
    contact = make_contact(marketer, family_name="山田")
    response = viewer_api.get(f"{CONTACTS}/{contact.pk}")
    assert response.status_code == 200
    assert response.json()["family_name"] == "山田"
    assert viewer_api.get(f"{CONTACTS}/{contact.pk + 1000}").status_code == 404
    assert viewer_api.get(f"{CONTACTS}/0").status_code == 422
    assert viewer_api.get(f"{CONTACTS}/99999999999999999999999").status_code == 422


def test_transitions_list_the_stage_history_newest_first(viewer_api: Any, sales_rep: Any) -> None:
    contact = make_contact(sales_rep)
    contact_change_stage(contact=contact, to_stage="sql", actor=sales_rep)
    contact_change_stage(contact=contact, to_stage="lead", actor=sales_rep, reason="予算なし")
    history = viewer_api.get(f"{CONTACTS}/{contact.pk}/transitions").json()
    assert [(t["from_stage"], t["to_stage"]) for t in history] == [
        ("sql", "lead"),
        ("lead", "sql"),
        ("", "lead"),
    ]
    assert history[0]["reason"] == "予算なし"
    assert history[0]["actor"] == {"id": sales_rep.pk, "username": "sales1"}


# ---- list ------------------------------------------------------------------------------


@pytest.fixture
def people(marketer: Any, sales_rep: Any) -> dict[str, Contact]:
    acme, _ = company_upsert(actor=marketer, name="アクメ株式会社", domain="acme.co.jp")
    rows = {
        "yamada": make_contact(
            marketer,
            "yamada@acme.co.jp",
            family_name="山田",
            family_name_kana="ヤマダ",
            company_id=acme.pk,
            score=80,
        ),
        "sato": make_contact(
            marketer, "sato@example.jp", family_name="佐藤", lifecycle_stage="mql", score=40
        ),
        "suzuki": make_contact(
            marketer, "suzuki@example.jp", family_name="鈴木", lifecycle_stage="sql", score=10
        ),
    }
    rows["sato"].owner = sales_rep
    Contact.objects.filter(pk=rows["sato"].pk).update(owner=sales_rep)
    return rows


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_filters(viewer_api: Any, people: dict[str, Contact], sales_rep: Any) -> None:
    yamada, sato, suzuki = people["yamada"].pk, people["sato"].pk, people["suzuki"].pk
    company = people["yamada"].company_id
    assert _ids(viewer_api.get(CONTACTS)) == [suzuki, sato, yamada]
    assert _ids(viewer_api.get(CONTACTS, {"stage": ["mql", "sql"]})) == [suzuki, sato]
    assert _ids(viewer_api.get(CONTACTS, {"owner_id": sales_rep.pk})) == [sato]
    assert _ids(viewer_api.get(CONTACTS, {"owner_id": 0})) == [suzuki, yamada]
    assert _ids(viewer_api.get(CONTACTS, {"company_id": company})) == [yamada]
    assert _ids(viewer_api.get(CONTACTS, {"score_min": 10, "score_max": 40})) == [suzuki, sato]
    assert _ids(viewer_api.get(CONTACTS, {"q": "やまだ"})) == [yamada]  # kana in hiragana
    assert _ids(viewer_api.get(CONTACTS, {"q": "ｱｸﾒ"})) == [yamada]  # company, half-width
    assert _ids(viewer_api.get(CONTACTS, {"q": "SATO@"})) == [sato]  # email, any case
    assert _ids(viewer_api.get(CONTACTS, {"q": "佐藤"})) == [sato]


def test_list_filters_by_creation_time(viewer_api: Any, people: dict[str, Contact]) -> None:
    old = people["yamada"]
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()
    newer = _ids(viewer_api.get(CONTACTS, {"created_from": cutoff}))
    older = _ids(viewer_api.get(CONTACTS, {"created_to": cutoff}))
    assert old.pk not in newer and older == [old.pk]


def test_keyset_pages_walk_every_contact_once(viewer_api: Any, marketer: Any) -> None:
    made = {make_contact(marketer, f"p{i}@example.jp").pk for i in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = viewer_api.get(CONTACTS, params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)


def test_list_runs_a_fixed_number_of_queries(
    viewer_api: Any, marketer: Any, sales_rep: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        company, _ = company_upsert(actor=marketer, name=f"会社{i}")
        contact = make_contact(marketer, f"n{i}@example.jp", company_id=company.pk)
        Contact.objects.filter(pk=contact.pk).update(owner=sales_rep)
    # Token lookup, last-used stamp, the page with company and owner joined: nothing per row.
    with django_assert_max_num_queries(4):
        response = viewer_api.get(CONTACTS, {"limit": 30})
    assert len(response.json()["items"]) == 30
    assert response.json()["items"][0]["owner"]["username"] == "sales1"


# ---- change ----------------------------------------------------------------------------


def test_patch_personal_fields_is_audited(marketer_api: Any, marketer: Any) -> None:
    contact = make_contact(marketer, family_name="山田")
    response = marketer_api.patch_json(
        f"{CONTACTS}/{contact.pk}", {"family_name": "佐藤", "phone": "090-1234-5678"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["family_name"], response.json()["phone"]) == ("佐藤", "+819012345678")
    entry = AuditEntry.objects.get(object_id=contact.pk, action="contact.update")
    assert entry.actor == marketer
    assert entry.changes["family_name"] == ["山田", "佐藤"]


def test_patch_stage_forward_and_backward_with_reason(sales_api: Any, sales_rep: Any) -> None:
    contact = make_contact(sales_rep)
    url = f"{CONTACTS}/{contact.pk}"
    assert sales_api.patch_json(url, {"lifecycle_stage": "sql"}).json()["lifecycle_stage"] == "sql"
    refused = sales_api.patch_json(url, {"lifecycle_stage": "lead"})
    assert refused.status_code == 422
    assert names_field(refused, "reason")
    back = sales_api.patch_json(url, {"lifecycle_stage": "lead", "reason": "予算凍結"})
    assert back.status_code == 200 and back.json()["lifecycle_stage"] == "lead"
    last = LifecycleTransition.objects.filter(contact=contact).first()
    assert last is not None and (last.reason, last.actor, last.source) == (
        "予算凍結",
        sales_rep,
        "api",
    )


def test_patch_owner_needs_assign_owner(
    marketer_api: Any, sales_api: Any, marketer: Any, sales_rep2: Any
) -> None:
    contact = make_contact(marketer)
    url = f"{CONTACTS}/{contact.pk}"
    denied = marketer_api.patch_json(url, {"owner_id": sales_rep2.pk})
    assert denied.status_code == 403 and "contacts.assign_owner" in denied.json()["detail"]
    assigned = sales_api.patch_json(url, {"owner_id": sales_rep2.pk})
    assert assigned.json()["owner"]["id"] == sales_rep2.pk
    cleared = sales_api.patch_json(url, {"owner_id": None})
    assert cleared.json()["owner"] is None
    changes = AuditEntry.objects.filter(object_id=contact.pk, action="contact.owner").values_list(
        "changes", flat=True
    )
    assert sorted(c["owner_id"][1] or 0 for c in changes) == [0, sales_rep2.pk]


def test_failed_patch_changes_nothing(sales_api: Any, sales_rep: Any, sales_rep2: Any) -> None:
    contact = make_contact(sales_rep, lifecycle_stage="sql")
    response = sales_api.patch_json(
        f"{CONTACTS}/{contact.pk}",
        {"title": "部長", "owner_id": sales_rep2.pk, "lifecycle_stage": "lead"},
    )
    assert response.status_code == 422
    contact.refresh_from_db()
    assert (contact.title, contact.owner_id, contact.lifecycle_stage) == ("", None, "sql")


def test_patch_email_taken_by_another_contact_is_a_conflict(
    marketer_api: Any, marketer: Any
) -> None:
    make_contact(marketer, "a@example.jp")
    other = make_contact(marketer, "b@example.jp")
    response = marketer_api.patch_json(f"{CONTACTS}/{other.pk}", {"email": "A@example.jp"})
    assert response.status_code == 409 and names_field(response, "email")


# ---- erase and merge -------------------------------------------------------------------


def test_delete_needs_manager_and_erases_events(
    marketer_api: Any, manager_api: Any, marketer: Any
) -> None:
    contact = make_contact(marketer)
    event_record_one(contact=contact, type="page_view")
    url = f"{CONTACTS}/{contact.pk}"
    assert marketer_api.delete(url).status_code == 403
    response = manager_api.delete(url)
    assert response.status_code == 204 and response.content == b""
    assert not Contact.objects.exists() and not Event.objects.exists()
    assert manager_api.get(url).status_code == 404
    assert manager_api.delete(url).status_code == 404


def test_merge_moves_events_and_transitions(
    marketer_api: Any, sales_api: Any, marketer: Any
) -> None:
    winner = make_contact(marketer, "a@example.jp")
    loser = make_contact(marketer, "b@example.jp", title="部長")
    event_record_one(contact=loser, type="form_submit")
    url = f"{CONTACTS}/{winner.pk}/merge"
    assert sales_api.post_json(url, {"other_id": loser.pk}).status_code == 403
    response = marketer_api.post_json(url, {"other_id": loser.pk})
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "部長"
    assert Event.objects.get().contact_id == winner.pk
    assert LifecycleTransition.objects.filter(contact=winner).count() == 2
    missing = marketer_api.post_json(url, {"other_id": loser.pk})
    assert missing.status_code == 422 and names_field(missing, "other_id")
    itself = marketer_api.post_json(url, {"other_id": winner.pk})
    assert itself.status_code == 422 and names_field(itself, "other_id")


# ---- bad input -------------------------------------------------------------------------


def test_malformed_json_is_400(marketer_api: Any) -> None:
    response = marketer_api.post(CONTACTS, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 12}, "email"),
        ({"email": "a@example.jp", "family_name": ["山田"]}, "family_name"),
        ({"email": "a@example.jp", "properties": "x"}, "properties"),
        ({"email": "a@example.jp", "company_id": "one"}, "company_id"),
        ({"email": "a@example.jp", "company_id": True}, "company_id"),
        ({"email": "a@example.jp", "lifecycle_stage": "hot"}, "lifecycle_stage"),
        ({"email": "a@example.jp", "shoe_size": 27}, "shoe_size"),
        ({"email": "not an email"}, "email"),
        ({"email": "a@example.jp", "family_name": "長" * 101}, "family_name"),
        ({"email": "a@example.jp", "title": "x" * 201}, "title"),
        ({"email": "a@example.jp", "prefecture": "ムー大陸"}, "prefecture"),
        ({"email": "a@example.jp", "phone": "0000"}, "phone"),
        ({"email": "a@example.jp", "phone": "電話"}, "phone"),
        ({"email": "a@example.jp", "properties": {"x": "a\ud800"}}, "properties"),
        ({"family_name": "山田"}, "email"),
    ],
)
def test_bad_contact_fields_are_422_naming_the_field(
    marketer_api: Any, body: dict[str, Any], field: str
) -> None:
    response = marketer_api.post_json(CONTACTS, body)
    assert response.status_code == 422, response.content
    assert names_field(response, field), response.json()
    assert not Contact.objects.exists()


def test_unknown_company_and_owner_are_422_naming_the_field(sales_api: Any, sales_rep: Any) -> None:
    contact = make_contact(sales_rep)
    for body, field in [
        ({"email": "a@example.jp", "company_id": 999_999}, "company_id"),
        ({"email": "a@example.jp", "owner_id": 999_999}, "owner_id"),
    ]:
        response = sales_api.post_json(CONTACTS, body)
        assert response.status_code == 422 and names_field(response, field), response.json()
    patched = sales_api.patch_json(f"{CONTACTS}/{contact.pk}", {"owner_id": 999_999})
    assert patched.status_code == 422 and names_field(patched, "owner_id")
    inactive = User.objects.create_user("gone", is_active=False)
    patched = sales_api.patch_json(f"{CONTACTS}/{contact.pk}", {"owner_id": inactive.pk})
    assert patched.status_code == 422


def test_null_for_a_text_field_is_422(marketer_api: Any, marketer: Any) -> None:
    contact = make_contact(marketer)
    response = marketer_api.patch_json(f"{CONTACTS}/{contact.pk}", {"title": None})
    assert response.status_code == 422 and names_field(response, "title")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "hot"}, "stage"),
        ({"stage": ["lead", "warm"]}, "stage"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "-5"}, "cursor"),
        ({"cursor": "9" * 30}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"score_min": 50, "score_max": 10}, "score_max"),
        ({"score_min": 2**40}, "score_min"),
        ({"owner_id": -1}, "owner_id"),
        ({"company_id": 2**70}, "company_id"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "1700000000"}, "created_from"),  # not a Unix time either
        ({"created_from": "2026-01-01T00:00:00"}, "created_from"),  # no time zone
        ({"created_from": "0001-01-01T00:00:00+09:00"}, "created_from"),  # before year 1 in UTC
        (
            {"created_from": "2026-02-01T00:00:00+09:00", "created_to": "2026-01-01T00:00:00Z"},
            "created_to",
        ),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(
    viewer_api: Any, params: dict[str, Any], field: str
) -> None:
    response = viewer_api.get(CONTACTS, params)
    assert response.status_code == 422, response.content
    assert names_field(response, field), response.json()


def test_filters_with_unknown_ids_give_an_empty_page(viewer_api: Any) -> None:
    page = viewer_api.get(CONTACTS, {"company_id": 999, "owner_id": 999}).json()
    assert page == {"items": [], "next_cursor": None}


# ---- companies -------------------------------------------------------------------------


def test_company_upsert_dedupes_by_domain_then_name(marketer_api: Any) -> None:
    first = marketer_api.post_json(
        COMPANIES,
        {"name": "株式会社サンプル", "domain": "https://www.sample.co.jp/", "industry": "it"},
    )
    assert first.status_code == 201, first.content
    company = first.json()["company"]
    assert (company["domain"], company["industry"]) == ("sample.co.jp", "it")
    by_domain = marketer_api.post_json(COMPANIES, {"name": "Sample", "domain": "sample.co.jp"})
    by_name = marketer_api.post_json(COMPANIES, {"name": "ｻﾝﾌﾟﾙ㈱", "prefecture": "大阪"})
    assert (by_domain.status_code, by_name.status_code) == (200, 200)
    assert by_domain.json()["company"]["id"] == by_name.json()["company"]["id"] == company["id"]
    assert by_name.json()["company"]["prefecture"] == "大阪府"
    assert Company.objects.count() == 1


def test_company_list_filters_and_pages(viewer_api: Any, marketer: Any, sales_rep: Any) -> None:
    a, _ = company_upsert(
        actor=marketer, name="株式会社アルファ", industry="it", prefecture="東京都"
    )
    b, _ = company_upsert(actor=marketer, name="ベータ物産", industry="retail", prefecture="大阪府")
    c, _ = company_upsert(actor=marketer, name="ガンマ㈱", domain="gamma.jp")
    Company.objects.filter(pk=b.pk).update(owner=sales_rep)
    assert _ids(viewer_api.get(COMPANIES)) == [c.pk, b.pk, a.pk]
    assert _ids(viewer_api.get(COMPANIES, {"q": "(株)アルファ"})) == [a.pk]
    assert _ids(viewer_api.get(COMPANIES, {"q": "gamma"})) == [c.pk]
    assert _ids(viewer_api.get(COMPANIES, {"industry": "retail"})) == [b.pk]
    assert _ids(viewer_api.get(COMPANIES, {"prefecture": "東京"})) == [a.pk]
    assert _ids(viewer_api.get(COMPANIES, {"owner_id": sales_rep.pk})) == [b.pk]
    assert _ids(viewer_api.get(COMPANIES, {"owner_id": 0})) == [c.pk, a.pk]
    page = viewer_api.get(COMPANIES, {"limit": 2}).json()
    assert page["next_cursor"] == str(b.pk)
    rest = viewer_api.get(COMPANIES, {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["id"] for r in rest["items"]] == [a.pk] and rest["next_cursor"] is None
    for params, field in [
        ({"industry": "mining"}, "industry"),
        ({"prefecture": "ムー"}, "prefecture"),
        ({"limit": 500}, "limit"),
    ]:
        bad = viewer_api.get(COMPANIES, params)
        assert bad.status_code == 422 and names_field(bad, field), bad.json()


def test_company_patch_owner_and_delete(
    marketer_api: Any, manager_api: Any, marketer: Any, sales_rep: Any
) -> None:
    company, _ = company_upsert(actor=marketer, name="デルタ")
    contact = make_contact(marketer, company_id=company.pk)
    url = f"{COMPANIES}/{company.pk}"
    renamed = marketer_api.patch_json(url, {"name": "デルタ工業", "employee_count": 120})
    assert renamed.status_code == 200, renamed.content
    assert (renamed.json()["name"], renamed.json()["employee_count"]) == ("デルタ工業", 120)
    assert marketer_api.patch_json(url, {"owner_id": sales_rep.pk}).status_code == 403
    owned = manager_api.patch_json(url, {"owner_id": sales_rep.pk})
    assert owned.json()["owner"]["username"] == "sales1"
    assert AuditEntry.objects.filter(object_type="company", action="company.owner").exists()
    assert marketer_api.delete(url).status_code == 403
    assert manager_api.delete(url).status_code == 204
    contact.refresh_from_db()
    assert contact.company_id is None
    assert manager_api.get(url).status_code == 404


def test_bad_company_input_names_the_field(marketer_api: Any, marketer: Any) -> None:
    company_upsert(actor=marketer, name="A", domain="a.jp")
    other, _ = company_upsert(actor=marketer, name="B", domain="b.jp")
    for body, field, status in [
        ({"name": ""}, "name", 422),
        ({"name": "   "}, "name", 422),
        ({"name": "C", "industry": "mining"}, "industry", 422),
        ({"name": "C", "employee_count": -1}, "employee_count", 422),
        ({"name": "C", "employee_count": False}, "employee_count", 422),
        ({"name": "C", "domain": "not a domain!"}, "domain", 422),
        ({"name": "C", "phone": "1"}, "phone", 422),
        ({"name": "C", "website": "x"}, "website", 422),
    ]:
        response = marketer_api.post_json(COMPANIES, body)
        assert response.status_code == status and names_field(response, field), response.json()
    taken = marketer_api.patch_json(f"{COMPANIES}/{other.pk}", {"domain": "A.JP"})
    assert taken.status_code == 409 and names_field(taken, "domain")


# ---- the OpenAPI document --------------------------------------------------------------


def test_openapi_declares_every_status_the_endpoints_return(client: Any, db: Any) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    upsert = schema["paths"]["/api/v1/contacts"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "409", "422"} <= set(upsert)
    assert "404" not in upsert  # nothing in the path to be missing
    erase = schema["paths"]["/api/v1/contacts/{id}"]["delete"]["responses"]
    assert {"204", "401", "403", "404"} <= set(erase)
    listing = schema["paths"]["/api/v1/contacts"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "stage",
        "owner_id",
        "company_id",
        "score_min",
        "score_max",
        "created_from",
        "created_to",
        "q",
        "cursor",
        "limit",
    }


def test_long_source_is_kept_on_the_contact_and_transitions_say_api(marketer_api: Any) -> None:
    source = "展示会 2026 春 東京ビッグサイト ブース A-12 来場者リスト (名刺交換)"
    response = marketer_api.post_json(
        CONTACTS,
        {"email": "a@example.jp", "source": source, "lifecycle_stage": "mql", "reason": "名刺\x00"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact"]["source"] == source
    transition = LifecycleTransition.objects.get()
    assert (transition.source, transition.reason) == ("api", "名刺")
