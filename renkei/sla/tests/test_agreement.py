"""The SLA agreement: versions, two-sided approval, one active version, impossible terms
refused by field."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from renkei.accounts.models import AuditEntry
from renkei.personas.services import persona_create
from renkei.sla.models import SlaAgreement, SlaStatus
from renkei.sla.services import (
    agreement_approve,
    agreement_create,
    agreement_retire,
    agreement_update,
)
from renkei.sla.tests.conftest import TERMS, active_sla

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_touch_hours", "0"),
        ("first_touch_hours", "-1"),
        ("first_touch_hours", "abc"),
        ("decision_hours", "0"),
        ("decision_hours", "0.001"),
        ("attempts_required", 0),
        ("attempts_days", 0),
        ("mql_commitment", 0),
        ("min_acceptance_rate", 101),
        ("min_acceptance_rate", -5),
        ("period", "year"),
        ("attempts_required", "two"),
    ],
)
def test_impossible_terms_are_refused_by_field(marketer: User, field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as error:
        agreement_create(terms={**TERMS, field: value}, actor=marketer)
    assert list(error.value.message_dict) == [field]
    assert not SlaAgreement.objects.exists()


def test_the_database_refuses_zero_hours_too(marketer: User) -> None:
    agreement = agreement_create(terms=TERMS, actor=marketer)
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaAgreement.objects.filter(pk=agreement.pk).update(first_touch_hours=0)


def test_two_different_people_approve_and_the_old_version_retires(
    marketer: User, manager: User, admin_user: User
) -> None:
    first = active_sla(marketer, manager)
    assert first.status == SlaStatus.APPROVED
    second = agreement_create(terms={**TERMS, "first_touch_hours": "4"}, actor=marketer)
    assert second.number == 2
    agreement_approve(agreement=second, side="marketing", actor=marketer)
    with pytest.raises(ValidationError, match="cannot approve"):
        agreement_approve(agreement=second, side="sales", actor=marketer)
    second = agreement_approve(agreement=second, side="sales", actor=admin_user)
    first.refresh_from_db()
    assert (first.status, second.status) == (SlaStatus.RETIRED, SlaStatus.APPROVED)
    assert SlaAgreement.objects.filter(status=SlaStatus.APPROVED).count() == 1
    assert AuditEntry.objects.filter(action="sla.version_approve").count() == 4


def test_one_person_cannot_approve_both_sides(manager: User) -> None:
    agreement = agreement_create(terms=TERMS, actor=manager)
    agreement_approve(agreement=agreement, side="sales", actor=manager)
    with pytest.raises(ValidationError, match="different person"):
        agreement_approve(agreement=agreement, side="marketing", actor=manager)


def test_roles_per_side(marketer: User, sales_rep: User) -> None:
    agreement = agreement_create(terms=TERMS, actor=marketer)
    with pytest.raises(ValidationError, match="cannot approve"):
        agreement_approve(agreement=agreement, side="sales", actor=marketer)
    with pytest.raises(ValidationError, match="cannot approve"):
        agreement_approve(agreement=agreement, side="marketing", actor=sales_rep)
    with pytest.raises(ValidationError):
        agreement_approve(agreement=agreement, side="both", actor=marketer)


def test_the_database_refuses_two_active_versions(marketer: User, manager: User) -> None:
    active_sla(marketer, manager)
    draft = agreement_create(terms=TERMS, actor=marketer)
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaAgreement.objects.filter(pk=draft.pk).update(status=SlaStatus.APPROVED)


def test_editing_a_draft_withdraws_approvals_and_active_cannot_be_edited(
    marketer: User, manager: User
) -> None:
    draft = agreement_create(terms=TERMS, actor=marketer)
    agreement_approve(agreement=draft, side="marketing", actor=marketer)
    draft = agreement_update(
        agreement=draft, terms={**TERMS, "attempts_required": 5}, actor=manager
    )
    assert draft.approved_by_marketing_id is None and draft.attempts_required == 5
    active = active_sla(marketer, manager)
    with pytest.raises(ValidationError, match="Only a draft"):
        agreement_update(agreement=active, terms=TERMS, actor=marketer)
    agreement_retire(agreement=active, actor=manager)
    with pytest.raises(ValidationError, match="already retired"):
        agreement_retire(agreement=active, actor=manager)


def test_persona_commitments(marketer: User) -> None:
    persona = persona_create(
        name="情シス部長",
        criteria=[{"field": "title", "values": ["部長"], "weight": 100}],
        actor=marketer,
    ).persona
    terms = {
        **TERMS,
        "persona_commitments": [{"persona": persona.pk, "mqls": 10, "min_acceptance_rate": 50}],
    }
    assert agreement_create(terms=terms, actor=marketer).persona_commitments[0]["mqls"] == 10
    for bad in (
        [{"persona": persona.pk + 99, "mqls": 10}],
        [{"persona": persona.pk, "mqls": 0}],
        [{"persona": persona.pk, "mqls": 1}, {"persona": persona.pk, "mqls": 2}],
    ):
        with pytest.raises(ValidationError) as error:
            agreement_create(terms={**TERMS, "persona_commitments": bad}, actor=marketer)
        assert list(error.value.message_dict) == ["persona_commitments"]


def test_pages_draft_approve_and_field_errors(marketer: User, manager: User, viewer: User) -> None:
    client = _client(marketer)
    form = {**TERMS, "persona_text": "", "first_touch_hours": "0"}
    response = client.post(reverse("sla:new"), form)
    assert response.status_code == 200
    assert response.context["form"].errors["first_touch_hours"]
    response = client.post(
        reverse("sla:new"), {**form, "persona_text": "nobody | 3 | 50", "first_touch_hours": "2"}
    )
    assert "persona_text" in response.context["form"].errors
    response = client.post(reverse("sla:new"), {**form, "first_touch_hours": "2"})
    assert response.status_code == 302
    agreement = SlaAgreement.objects.get()
    client.post(reverse("sla:approve", args=[agreement.pk]), {"side": "marketing"})
    _client(manager).post(reverse("sla:approve", args=[agreement.pk]), {"side": "sales"})
    agreement.refresh_from_db()
    assert agreement.is_active
    page = _client(viewer).get(reverse("sla:list"))
    assert (
        page.status_code == 200 and "割り当てから 2 営業時間以内に初回接触" in page.content.decode()
    )
    assert (
        _client(viewer)
        .post(reverse("sla:approve", args=[agreement.pk]), {"side": "sales"})
        .status_code
        == 403
    )
    assert _client(viewer).get(reverse("sla:new")).status_code == 403
    assert client.get(reverse("sla:approve", args=[agreement.pk])).status_code == 405


def test_editing_and_retiring_through_the_pages(marketer: User, manager: User) -> None:
    draft = agreement_create(terms=TERMS, actor=marketer)
    client = _client(manager)
    url = reverse("sla:edit", args=[draft.pk])
    assert client.get(url).context["form"].initial["attempts_days"] == 3
    form = {**TERMS, "persona_text": "", "attempts_days": "0"}
    assert client.post(url, form).context["form"].errors["attempts_days"]
    assert client.post(url, {**form, "attempts_days": "5"}).status_code == 302
    draft.refresh_from_db()
    assert draft.attempts_days == 5
    client.post(reverse("sla:retire", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == SlaStatus.RETIRED
    assert client.get(url).status_code == 302  # a retired version is not editable
