"""Personas: criteria validation, two-sided approval, fit scores and their explanation."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from conftest import PASSWORD
from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Company, Contact
from renkei.personas.criteria import criteria_from_text, criteria_validate
from renkei.personas.models import ContactFit, ContactPersona, PersonaVersion, VersionStatus
from renkei.personas.selectors import contact_fit_explain
from renkei.personas.services import (
    contacts_fit_rebuild_all,
    contacts_fit_refresh,
    persona_create,
    persona_version_approve,
    persona_version_create,
    persona_version_retire,
    persona_version_update,
)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English; the Japanese wording has its own test."""
    with translation.override("en"):
        yield


MANAGERS = [
    {"field": "title", "values": ["部長"], "weight": 60},
    {"field": "industry", "values": ["it"], "weight": 40},
]


def _company(**fields: Any) -> Company:
    return Company.objects.create(name_normalized=fields.get("name", "c"), **fields)


def _contact(n: int, company: Company | None = None, **fields: Any) -> Contact:
    email = f"p{n}@example.jp"
    return Contact.objects.create(email=email, email_normalized=email, company=company, **fields)


def _active(
    criteria: list[dict[str, Any]], name: str, marketer: User, sales: User
) -> PersonaVersion:
    version = persona_create(name=name, criteria=criteria, actor=marketer)
    persona_version_approve(version=version, side="marketing", actor=marketer)
    return persona_version_approve(version=version, side="sales", actor=sales)


# ---- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "fragment"),
    [
        ({"field": "age", "values": ["x"], "weight": 10}, "unknown field “age”"),
        ({"field": "industry", "values": ["mining"], "weight": 10}, "“mining”"),
        ({"field": "prefecture", "values": ["東京"], "weight": 10}, None),
        ({"field": "prefecture", "values": ["ムー県"], "weight": 10}, "unknown prefecture"),
        ({"field": "title", "values": ["", " "], "weight": 10}, "at least one value"),
        ({"field": "employees", "min": "500", "max": "100", "weight": 10}, "above the maximum"),
        ({"field": "title", "values": ["部長"], "weight": 0}, "weight"),
        ({"field": "title", "values": ["部長"], "weight": 101}, "weight"),
        ({"field": "stage", "values": ["hot"], "weight": 10}, "“hot”"),
        ({"field": "property", "key": "", "value": "x", "weight": 10}, "key"),
    ],
)
def test_each_bad_criterion_is_refused_naming_it(
    criterion: dict[str, Any], fragment: str | None
) -> None:
    good = {"field": "title", "values": ["部長"], "weight": 10}
    if fragment is None:
        assert criteria_validate([good, criterion])[1]["values"] == ["東京都"]
        return
    with pytest.raises(ValidationError) as error:
        criteria_validate([good, criterion])
    message = " ".join(error.value.messages)
    assert "Criterion 2" in message and fragment in message


def test_an_empty_persona_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one criterion"):
        criteria_validate([])


def test_text_format_errors_name_the_line_and_round_trip() -> None:
    with pytest.raises(ValidationError, match="Criterion 2"):
        criteria_from_text("30 | title | 部長\n20 | employees | 900-100")
    with pytest.raises(ValidationError, match="Criterion 1"):
        criteria_from_text("title 部長")
    parsed = criteria_from_text("30 | title | 部長、本部長\n5 | property | plan=enterprise")
    assert parsed[0]["values"] == ["部長", "本部長"]
    assert parsed[1] == {"field": "property", "weight": 5, "key": "plan", "value": "enterprise"}


# ---- approval ----------------------------------------------------------------------------


def test_sales_only_approval_does_not_activate(db: Any, marketer: User, sales_rep: User) -> None:
    version = persona_create(name="情シス部長", criteria=MANAGERS, actor=marketer)
    version = persona_version_approve(version=version, side="sales", actor=sales_rep)
    assert version.status == VersionStatus.DRAFT and version.approved_by_sales == sales_rep


def test_the_same_user_cannot_approve_both_sides(db: Any, manager: User) -> None:
    version = persona_create(name="P", criteria=MANAGERS, actor=manager)
    version = persona_version_approve(version=version, side="marketing", actor=manager)
    with pytest.raises(ValidationError, match="different person"):
        persona_version_approve(version=version, side="sales", actor=manager)


def test_a_role_approves_only_its_own_side(db: Any, marketer: User, sales_rep: User) -> None:
    version = persona_create(name="P", criteria=MANAGERS, actor=marketer)
    with pytest.raises(ValidationError, match="role"):
        persona_version_approve(version=version, side="sales", actor=marketer)
    with pytest.raises(ValidationError, match="role"):
        persona_version_approve(version=version, side="marketing", actor=sales_rep)


def test_activation_retires_the_previous_version_and_is_audited(
    db: Any, marketer: User, sales_rep: User, manager: User
) -> None:
    first = _active(MANAGERS, "P", marketer, sales_rep)
    assert first.status == VersionStatus.APPROVED
    second = persona_version_create(persona=first.persona, criteria=MANAGERS, actor=marketer)
    second = persona_version_update(
        version=second, criteria=MANAGERS[:1], actor=marketer, description="narrower"
    )
    persona_version_approve(version=second, side="marketing", actor=manager)
    second = persona_version_approve(version=second, side="sales", actor=sales_rep)
    first.refresh_from_db()
    assert (second.number, second.status, first.status) == (2, "approved", "retired")
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    for action in ("persona.create", "persona.version_create", "persona.version_update",
                   "persona.version_approve", "persona.version_retire"):  # fmt: skip
        assert action in actions
    with pytest.raises(ValidationError):
        persona_version_update(version=second, criteria=MANAGERS, actor=marketer)


def test_editing_a_draft_withdraws_its_approvals(db: Any, marketer: User) -> None:
    version = persona_create(name="P", criteria=MANAGERS, actor=marketer)
    version = persona_version_approve(version=version, side="marketing", actor=marketer)
    version = persona_version_update(version=version, criteria=MANAGERS[:1], actor=marketer)
    assert version.approved_by_marketing is None


@pytest.mark.django_db(transaction=True)
def test_activation_enqueues_a_full_rebuild(marketer: User, sales_rep: User) -> None:
    if not isinstance(task_backends["default"], DatabaseBackend):
        pytest.skip("TASKS_BACKEND is not django_tasks_db")
    _active(MANAGERS, "P", marketer, sales_rep)
    assert DBTaskResult.objects.filter(
        task_path="renkei.personas.tasks.persona_fit_rebuild"
    ).exists()


# ---- fit scores ----------------------------------------------------------------------------


def test_fit_matches_japanese_keywords_in_any_width(
    db: Any, marketer: User, sales_rep: User
) -> None:
    it = _company(industry="it", employee_count=300, prefecture="大阪府")
    version = _active(
        [
            {"field": "title", "values": ["ＩＴ部長"], "weight": 50},
            {"field": "department", "values": ["ｼｽﾃﾑ"], "weight": 30},
            {"field": "prefecture", "values": ["大阪"], "weight": 20},
        ],
        "P", marketer, sales_rep,
    )  # fmt: skip
    full = _contact(1, it, title="IT部長", department="情報システム部")
    half = _contact(2, None, title="ｉｔ部長代理", department="総務")
    none = _contact(3, None, title="課長")
    assert contacts_fit_rebuild_all() == 3
    fits = dict(ContactFit.objects.filter(version=version).values_list("contact_id", "fit"))
    assert fits == {full.pk: 100, half.pk: 50, none.pk: 0}
    assert not ContactPersona.objects.filter(contact=none).exists()


def test_best_persona_ties_go_to_the_persona_created_first(
    db: Any, marketer: User, sales_rep: User
) -> None:
    older = _active(
        [{"field": "title", "values": ["部長"], "weight": 10}], "A", marketer, sales_rep
    )
    newer = _active(
        [{"field": "title", "values": ["部長"], "weight": 90}], "B", marketer, sales_rep
    )
    better = _active([{"field": "stage", "values": ["mql"], "weight": 1}], "C", marketer, sales_rep)
    tie = _contact(1, title="部長")
    mql = _contact(2, title="部長", lifecycle_stage="mql")
    contacts_fit_rebuild_all()
    assert ContactPersona.objects.get(contact=tie).version_id == older.pk
    assert ContactPersona.objects.get(contact=mql).version_id == older.pk  # 100 everywhere
    assert {newer.pk, better.pk} <= set(ContactFit.objects.values_list("version_id", flat=True))


def test_refresh_recomputes_only_the_given_contacts(
    db: Any, marketer: User, sales_rep: User
) -> None:
    version = _active(MANAGERS, "P", marketer, sales_rep)
    a, b = _contact(1, title="課長"), _contact(2, title="課長")
    contacts_fit_rebuild_all()
    Contact.objects.filter(pk__in=[a.pk, b.pk]).update(title="部長")
    assert contacts_fit_refresh(contact_ids=[a.pk, 999999]) == 1
    fits = dict(ContactFit.objects.filter(version=version).values_list("contact_id", "fit"))
    assert fits == {a.pk: 60, b.pk: 0}
    persona_version_retire(version=version, actor=marketer)
    contacts_fit_rebuild_all()
    assert not ContactFit.objects.exists() and not ContactPersona.objects.exists()


@pytest.mark.parametrize("count", [5, 50])
def test_rebuild_query_count_does_not_grow_with_contacts(
    count: int, db: Any, marketer: User, sales_rep: User, django_assert_max_num_queries: Any
) -> None:
    _active(MANAGERS, "P", marketer, sales_rep)
    _active([{"field": "employees", "min": 1, "max": 50, "weight": 5}], "Q", marketer, sales_rep)
    company = _company(industry="it", employee_count=10)
    for n in range(count):
        _contact(n, company, title="部長" if n % 2 else "")
    with django_assert_max_num_queries(12):
        assert contacts_fit_rebuild_all() == count
    with django_assert_max_num_queries(12):
        contacts_fit_refresh(contact_ids=list(Contact.objects.values_list("id", flat=True)))
    assert ContactFit.objects.count() == 2 * count


def test_explanation_lists_met_and_missed_criteria_in_japanese(
    db: Any, marketer: User, sales_rep: User
) -> None:
    _active(MANAGERS, "情シス部長", marketer, sales_rep)
    contact = _contact(1, _company(industry="finance"), title="情報システム部長")
    with translation.override("ja"):
        [explanation] = contact_fit_explain(contact)
    assert explanation.persona == "情シス部長" and explanation.fit == 60
    assert explanation.met == ["役職に「部長」を含む"]
    assert explanation.missed == ["業種がIT・ソフトウェア"]
    with translation.override("en"):
        [english] = contact_fit_explain(contact)
    assert english.met == ["Title contains 「部長」"]


# ---- pages ----------------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_viewer_reads_but_cannot_edit_or_approve(db: Any, viewer: User, marketer: User) -> None:
    version = persona_create(name="P", criteria=MANAGERS, actor=marketer)
    client = _client(viewer)
    assert client.get(reverse("personas:list")).status_code == 200
    assert client.get(reverse("personas:detail", args=[version.persona_id])).status_code == 200
    assert client.get(reverse("personas:new")).status_code == 403
    assert client.get(reverse("personas:version_edit", args=[version.pk])).status_code == 403
    response = client.post(
        reverse("personas:version_approve", args=[version.pk]), {"side": "sales"}
    )
    assert response.status_code == 403
    assert Client().get(reverse("personas:list")).status_code == 302  # anonymous: to login


def test_authoring_and_approving_through_the_pages(
    db: Any, marketer: User, sales_rep: User
) -> None:
    client = _client(marketer)
    bad = client.post(
        reverse("personas:new"),
        {"name": "P", "criteria_text": "30 | title | 部長\n10 | industry | mining"},
    )
    assert bad.status_code == 200 and "条件2（industry）" in bad.content.decode()
    response = client.post(
        reverse("personas:new"),
        {"name": "<b>P</b>", "criteria_text": "30 | title | 部長\n10 | industry | it"},
    )
    version = PersonaVersion.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("personas:detail", args=[version.persona_id])).content.decode()
    assert "&lt;b&gt;P&lt;/b&gt;" in page and "<b>P</b>" not in page
    client.post(reverse("personas:version_approve", args=[version.pk]), {"side": "marketing"})
    _client(sales_rep).post(
        reverse("personas:version_approve", args=[version.pk]), {"side": "sales"}
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    listing = client.get(reverse("personas:list")).content.decode()
    assert "v1" in listing
    edit = client.get(reverse("personas:version_edit", args=[version.pk]))
    assert edit.status_code == 302  # an approved version is not editable
    assert client.get(reverse("personas:version_new", args=[version.persona_id])).status_code == 200


def test_contact_fit_card_escapes_and_marks_criteria(
    db: Any, marketer: User, sales_rep: User
) -> None:
    from django.template.loader import render_to_string

    _active(MANAGERS, "<i>P</i>", marketer, sales_rep)
    contact = _contact(1, title="部長")
    html = render_to_string(
        "personas/_contact_fit.html", {"explanations": contact_fit_explain(contact)}
    )
    assert "&lt;i&gt;P&lt;/i&gt;" in html and "Title contains 「部長」 ✓" in html
    assert "✗" in html and ">60<" in html


def test_persona_fit_command_rebuilds_all(db: Any, marketer: User, sales_rep: User) -> None:
    from io import StringIO

    from django.core.management import call_command

    version = _active(MANAGERS, "P", marketer, sales_rep)
    contact = _contact(1, _company(industry="it"), title="部長")
    out = StringIO()
    call_command("persona_fit", stdout=out)
    assert "1 contacts scored" in out.getvalue()
    assert ContactPersona.objects.get(contact=contact).version_id == version.pk
    assert ContactPersona.objects.get(contact=contact).fit == 100
