"""A contact's fit follows its data: every write of a contact or its company — by hand, by
the API, by an import, by a form submission, by event ingestion — queues the pipeline,
and the queued ``derive_contacts`` task recomputes the fit."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_tasks_db.models import DBTaskResult

from renkei.capture.rules import FieldSpec
from renkei.capture.services import SubmissionContext, webform_create, webform_submit
from renkei.contacts.derived import EVENTS, PROPERTIES, derived_steps
from renkei.contacts.models import Contact
from renkei.contacts.services import (
    company_update,
    company_upsert,
    contact_update,
    contact_upsert,
)
from renkei.contacts.tasks import derive_contacts
from renkei.events.services import EventInput, events_record
from renkei.imports.services import import_job_configure, import_job_create, import_job_start
from renkei.personas.models import ContactFit, ContactPersona, PersonaVersion
from renkei.personas.services import persona_create, persona_version_approve

pytestmark = pytest.mark.django_db

MANAGERS = [
    {"field": "title", "values": ["部長"], "weight": 60},
    {"field": "industry", "values": ["it"], "weight": 40},
]


@pytest.fixture
def managers(marketer: User, sales_rep: User) -> PersonaVersion:
    version = persona_create(name="IT部門の部長", criteria=MANAGERS, actor=marketer)
    persona_version_approve(version=version, side="marketing", actor=marketer)
    return persona_version_approve(version=version, side="sales", actor=sales_rep)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the callbacks of the block as if its transaction committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _derive_tasks() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path="renkei.contacts.tasks.derive_contacts").order_by(
            "enqueued_at", "id"
        )
    )


def _run_queued() -> int:
    """Run the queued pipeline tasks as the worker would; returns how many ran."""
    tasks = _derive_tasks()
    for task in tasks:
        derive_contacts.call(*task.args_kwargs["args"])
    DBTaskResult.objects.filter(pk__in=[t.pk for t in tasks]).delete()
    return len(tasks)


def _fit(contact: Contact, version: PersonaVersion) -> int | None:
    row = ContactFit.objects.filter(contact=contact, version=version).first()
    return row.fit if row else None


def _best(contact: Contact) -> int | None:
    row = ContactPersona.objects.filter(contact=contact).first()
    return row.version_id if row else None


def test_persona_fit_runs_on_property_changes_between_engagement_and_journey() -> None:
    on_properties = [step.name for step in derived_steps(PROPERTIES)]
    assert "persona_fit" in on_properties
    assert on_properties.index("persona_fit") < on_properties.index("journey")
    assert "persona_fit" not in [step.name for step in derived_steps(EVENTS)]


def test_a_title_edit_to_bucho_changes_the_fit_and_best_persona(
    managers: PersonaVersion, marketer: User, on_commit: Any
) -> None:
    with on_commit():
        contact, _ = contact_upsert(email="kacho@example.jp", title="課長", actor=marketer)
    assert _run_queued() == 1
    assert (_fit(contact, managers), _best(contact)) == (0, None)

    with on_commit():
        contact_update(contact=contact, title="情報システム部 部長", actor=marketer)
    assert _run_queued() == 1
    assert (_fit(contact, managers), _best(contact)) == (60, managers.pk)


def test_an_edit_on_the_contact_page_changes_the_fit(
    managers: PersonaVersion, marketer: User, client: Any, on_commit: Any
) -> None:
    contact, _ = contact_upsert(email="page@example.jp", title="課長", actor=marketer)
    client.force_login(marketer)
    with on_commit():
        response = client.post(
            f"/contacts/{contact.pk}/edit/", {"email": contact.email, "title": "営業部長"}
        )
    assert response.status_code == 302
    assert _run_queued() == 1
    assert _fit(contact, managers) == 60


def test_a_company_industry_edit_refreshes_its_contacts_fits(
    managers: PersonaVersion, marketer: User, on_commit: Any
) -> None:
    company, _ = company_upsert(name="株式会社さくら", industry="retail", actor=marketer)
    with on_commit():
        bucho, _ = contact_upsert(
            email="a@sakura.jp", title="部長", company=company, actor=marketer
        )
        staff, _ = contact_upsert(
            email="b@sakura.jp", title="担当", company=company, actor=marketer
        )
        elsewhere, _ = contact_upsert(email="c@other.jp", title="部長", actor=marketer)
    _run_queued()
    assert [_fit(c, managers) for c in (bucho, staff, elsewhere)] == [60, 0, 60]

    with on_commit():
        company_update(company=company, industry="it", actor=marketer)
    tasks = _derive_tasks()
    assert [sorted(t.args_kwargs["args"][0]) for t in tasks] == [sorted([bucho.pk, staff.pk])]
    _run_queued()
    assert [_fit(c, managers) for c in (bucho, staff, elsewhere)] == [100, 40, 60]
    assert _best(staff) == managers.pk


def test_an_import_of_2500_rows_queues_three_tasks_and_fits_every_contact(
    managers: PersonaVersion, marketer: User, on_commit: Any
) -> None:
    lines = ["email,title"] + [
        f"m{n}@example.jp,{'部長' if n % 2 else '主任'}" for n in range(2500)
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    job = import_job_create(chunks=[data], filename="list.csv", size=len(data), actor=marketer)
    import_job_configure(job=job, actor=marketer, mapping=job.mapping, rules={})
    with on_commit():
        import_job_start(job=job, run_inline=True)
    assert Contact.objects.count() == 2500
    # The import writes 2,000 rows a chunk, each queued once: 1,000 + 1,000, then 500.
    assert [len(t.args_kwargs["args"][0]) for t in _derive_tasks()] == [1000, 1000, 500]
    assert _run_queued() == 3
    assert ContactFit.objects.filter(version=managers).count() == 2500
    assert ContactPersona.objects.filter(version=managers, fit=60).count() == 1250

    job = import_job_create(chunks=[data], filename="again.csv", size=len(data), actor=marketer)
    import_job_configure(job=job, actor=marketer, mapping=job.mapping, rules={})
    with on_commit():
        import_job_start(job=job, run_inline=True)  # unchanged: nothing to recompute
    assert _derive_tasks() == []


def test_a_form_submission_fits_the_contact(
    managers: PersonaVersion, marketer: User, on_commit: Any
) -> None:
    form = webform_create(
        actor=marketer,
        name="資料請求",
        fields=[
            FieldSpec("メールアドレス", "email", "email", "Email", required=True),
            FieldSpec("役職", "text", "title", "Title"),
        ],
    )
    with on_commit():
        result = webform_submit(
            form=form,
            answers={"email": "form@example.jp", "title": "経営企画部長"},
            context=SubmissionContext(at=datetime(2026, 4, 1, tzinfo=UTC)),
        )
    _run_queued()
    assert _fit(result.contact, managers) == 60


def test_a_contact_created_by_an_event_gets_its_fit(
    marketer: User, sales_rep: User, on_commit: Any
) -> None:
    version = persona_create(
        name="新規リード", criteria=[{"field": "stage", "values": ["lead"], "weight": 1}],
        actor=marketer,
    )  # fmt: skip
    persona_version_approve(version=version, side="marketing", actor=marketer)
    version = persona_version_approve(version=version, side="sales", actor=sales_rep)
    item = EventInput(
        index=0,
        client_event_id="e-1",
        type="page_view",
        occurred_at=datetime(2026, 4, 1, tzinfo=UTC),
        properties={"url": "https://example.jp/"},
        email="visitor@example.jp",
    )
    with on_commit():
        assert events_record(items=[item], actor=None).accepted == 1
    contact = Contact.objects.get(email_normalized="visitor@example.jp")
    triggers = sorted(t.args_kwargs["args"][1] for t in _derive_tasks())
    assert triggers == [EVENTS, PROPERTIES]
    _run_queued()
    assert (_fit(contact, version), _best(contact)) == (100, version.pk)
