"""``/api/v1/handoff``: inbox, accept and reject through the API."""

from typing import Any

from django.contrib.auth.models import User

from conftest import ApiClient, api_client_for
from renkei.contacts.models import Contact, LifecycleStage
from renkei.handoff.models import Assignment
from renkei.handoff.routing import mqls_route
from renkei.handoff.services import assignment_reassign
from renkei.handoff.tests.factories import mql


def _lead_for(user: User) -> Assignment:
    lead = mql()
    mqls_route([lead.pk])
    return Assignment.objects.get(contact=lead)


def test_inbox_accept_and_reject(db: Any, sales_rep: User, sales_api: ApiClient) -> None:
    a, b = _lead_for(sales_rep), _lead_for(sales_rep)
    inbox = sales_api.get("/api/v1/handoff/inbox").json()
    assert [row["assignment_id"] for row in inbox] == [a.pk, b.pk]
    assert sales_api.post(f"/api/v1/handoff/assignments/{a.pk}/accept").json()["status"] == (
        "accepted"
    )
    missing = sales_api.post_json(
        f"/api/v1/handoff/assignments/{b.pk}/reject", {"reason_code": "other"}
    )
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["reason_text"]
    unknown = sales_api.post_json(
        f"/api/v1/handoff/assignments/{b.pk}/reject", {"reason_code": "zzz"}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["reason_code"]
    ok = sales_api.post_json(
        f"/api/v1/handoff/assignments/{b.pk}/reject", {"reason_code": "not_now"}
    )
    assert ok.status_code == 200
    stages = dict(Contact.objects.values_list("pk", "lifecycle_stage"))
    assert stages[a.contact_id] == LifecycleStage.SAL
    assert stages[b.contact_id] == LifecycleStage.RECYCLED
    again = sales_api.post(f"/api/v1/handoff/assignments/{a.pk}/accept")
    assert again.status_code == 409
    assert sales_api.post("/api/v1/handoff/assignments/999999/accept").status_code == 404


def test_someone_elses_or_reassigned_lead_is_refused(
    db: Any, sales_rep: User, sales_rep2: User, manager: User, sales_api: ApiClient
) -> None:
    a = _lead_for(sales_rep)
    other = api_client_for(sales_rep2)
    assert other.post(f"/api/v1/handoff/assignments/{a.pk}/accept").status_code == 403
    assignment_reassign(assignment=a, to_user=sales_rep2, actor=manager)
    stale = sales_api.post(f"/api/v1/handoff/assignments/{a.pk}/accept")
    assert stale.status_code == 409


def test_viewers_have_no_inbox(db: Any, viewer_api: ApiClient) -> None:
    assert viewer_api.get("/api/v1/handoff/inbox").status_code == 403
