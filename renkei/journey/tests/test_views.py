"""The journey page and the stage edit pages: counts, permissions, form errors, escaping."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from renkei.accounts.models import AuditEntry
from renkei.contacts.services import contact_upsert
from renkei.journey.models import JourneyStage
from renkei.journey.services import contacts_journey_refresh

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _post_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "導入支援",
        "name_en": "Onboarding",
        "position": "55",
        "description": "<b>初期設定</b>",
        "lifecycle_stages": ["customer"],
        "entry_signals": "page_view url contains /docs\ncontact title contains 部長",
        "content_notes": "導入ガイド | https://example.jp/guide",
    }
    data.update(overrides)
    return data


def test_anonymous_users_are_sent_to_login() -> None:
    response = Client().get(reverse("journey:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_viewer_sees_the_path_with_counts_but_cannot_edit(viewer: Any, marketer: Any) -> None:
    for i in range(3):
        contact_upsert(email=f"c{i}@example.jp", actor=marketer, lifecycle_stage="customer")
    contact_upsert(email="s@example.jp", actor=marketer, lifecycle_stage="subscriber")
    contacts_journey_refresh()
    client = _client(viewer)
    response = client.get(reverse("journey:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("認知") < html.index("興味・関心") < html.index("受注") < html.index("継続")
    rows = {row["stage"].name: row["count"] for row in response.context["rows"]}
    assert rows["受注"] == 3 and rows["認知"] == 1 and rows["商談"] == 0
    assert reverse("journey:stage_create") not in html
    stage = JourneyStage.objects.get(name="認知")
    assert client.get(reverse("journey:stage_create")).status_code == 403
    assert (
        client.post(reverse("journey:stage_edit", args=[stage.pk]), _post_data()).status_code == 403
    )
    assert client.post(reverse("journey:stage_delete", args=[stage.pk])).status_code == 403
    assert JourneyStage.objects.count() == 6


def test_index_query_count_is_fixed(viewer: Any, django_assert_max_num_queries: Any) -> None:
    client = _client(viewer)
    # Session, user, permissions (3), the per-persona counts, the active personas, the
    # stages and their campaigns: whatever the number of stages, personas or contacts.
    with django_assert_max_num_queries(9):
        client.get(reverse("journey:index"))


def test_sales_rep_creates_a_stage_shown_escaped_and_audited(sales_rep: Any) -> None:
    client = _client(sales_rep)
    response = client.post(reverse("journey:stage_create"), _post_data())
    assert response.status_code == 302 and response["Location"] == reverse("journey:index")
    stage = JourneyStage.objects.get(name="導入支援")
    assert stage.entry_signals == [
        {"kind": "event", "type": "page_view", "property": "url", "contains": "/docs"},
        {"kind": "property", "field": "title", "op": "contains", "value": "部長"},
    ]
    assert stage.content_notes == [{"title": "導入ガイド", "url": "https://example.jp/guide"}]
    assert AuditEntry.objects.filter(action="journey_stage.create", object_id=stage.pk).exists()
    html = client.get(reverse("journey:index")).content.decode()
    assert "&lt;b&gt;初期設定&lt;/b&gt;" in html and "<b>初期設定" not in html
    assert 'href="https://example.jp/guide"' in html
    # Sales may add and change, not delete.
    assert client.post(reverse("journey:stage_delete", args=[stage.pk])).status_code == 403


def test_edit_form_round_trips_the_text_forms(marketer: Any) -> None:
    stage = JourneyStage.objects.get(name="比較・検討")
    client = _client(marketer)
    response = client.get(reverse("journey:stage_edit", args=[stage.pk]))
    assert "page_view url contains /pricing" in response.content.decode()
    form = response.context["form"]
    data = {k: v for k, v in form.initial.items() if k != "campaigns"}
    data["description"] = "改訂"
    assert client.post(reverse("journey:stage_edit", args=[stage.pk]), data).status_code == 302
    stage.refresh_from_db()
    assert stage.description == "改訂"
    assert stage.entry_signals[0] == {
        "kind": "event",
        "type": "page_view",
        "property": "url",
        "contains": "/pricing",
    }


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"entry_signals": "page_view\nteleport"}, "entry_signals", "2 行目"),
        ({"entry_signals": "page_view url equals /x"}, "entry_signals", "1 行目"),
        ({"lifecycle_stages": ["prospect"]}, "lifecycle_stages", "prospect"),
        ({"position": "10"}, "position", "10"),
        ({"name": "認知"}, "name", ""),
        ({"content_notes": "x | javascript:alert(1)"}, "content_notes", "http"),
        ({"position": "abc"}, "position", ""),
    ],
)
def test_bad_input_is_a_form_error_on_the_field(
    marketer: Any, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    response = _client(marketer).post(reverse("journey:stage_create"), _post_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and fragment in " ".join(errors[field])
    assert not JourneyStage.objects.filter(name="導入支援").exists()


def test_marketer_deletes_a_stage(marketer: Any) -> None:
    stage = JourneyStage.objects.get(name="継続")
    client = _client(marketer)
    assert client.get(reverse("journey:stage_delete", args=[stage.pk])).status_code == 200
    assert client.post(reverse("journey:stage_delete", args=[stage.pk])).status_code == 302
    assert not JourneyStage.objects.filter(pk=stage.pk).exists()
    assert AuditEntry.objects.filter(action="journey_stage.delete", object_id=stage.pk).exists()


def test_contact_journey_tag_shows_the_stored_stage(marketer: Any) -> None:
    from django.template import Context, Template

    contact, _ = contact_upsert(email="t@example.jp", actor=marketer, lifecycle_stage="customer")
    tag = Template("{% load journey %}{% contact_journey contact %}")
    assert "ジャーニーステージ未判定" in tag.render(Context({"contact": contact}))
    contacts_journey_refresh(contact_ids=[contact.pk])
    html = tag.render(Context({"contact": contact}))
    assert "受注" in html and reverse("journey:index") in html
