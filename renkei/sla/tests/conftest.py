"""Helpers of the SLA tests: an active agreement, contacts, assignments, queued tasks."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from renkei.contacts.models import Contact
from renkei.contacts.tasks import derive_contacts
from renkei.handoff.signals import leads_assigned
from renkei.sla.models import SlaAgreement
from renkei.sla.services import agreement_approve, agreement_create

JST = ZoneInfo("Asia/Tokyo")
TERMS: dict[str, Any] = {
    "period": "month",
    "mql_commitment": 40,
    "min_acceptance_rate": 60,
    "first_touch_hours": "2",
    "attempts_required": 3,
    "attempts_days": 3,
    "decision_hours": "8",
    "notes": "",
}


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English; the Japanese catalogue has its own test."""
    with translation.override("en"):
        yield


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def active_sla(marketer: User, manager: User, **terms: Any) -> SlaAgreement:
    agreement = agreement_create(terms={**TERMS, **terms}, actor=marketer)
    agreement_approve(agreement=agreement, side="marketing", actor=marketer)
    return agreement_approve(agreement=agreement, side="sales", actor=manager)


def contact(n: int, stage: str = "mql") -> Contact:
    email = f"lead{n}@example.jp"
    return Contact.objects.create(email=email, email_normalized=email, lifecycle_stage=stage)


def assign(
    contact: Contact, user: User, assignment_id: int, at: datetime, previous: User | None = None
) -> None:
    leads_assigned.send(
        sender=None,
        assignments=[
            {
                "contact_id": contact.pk,
                "user_id": user.pk,
                "assignment_id": assignment_id,
                "assigned_at": at,
                "previous_user_id": previous.pk if previous else None,
            }
        ],
    )


def run_queued_derive() -> None:
    """Run the derived-data tasks queued so far, as the worker would."""
    for task in DBTaskResult.objects.filter(
        task_path="renkei.contacts.tasks.derive_contacts"
    ).order_by("enqueued_at", "id"):
        derive_contacts.call(*task.args_kwargs["args"])
        task.delete()


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)
