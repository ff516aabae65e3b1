"""``renkei journey_refresh`` places every contact."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from renkei.contacts.services import contact_upsert
from renkei.journey.models import ContactJourney

pytestmark = pytest.mark.django_db


def test_journey_refresh_command_places_all_contacts(marketer: Any) -> None:
    a, _ = contact_upsert(email="a@example.jp", actor=marketer, lifecycle_stage="lead")
    b, _ = contact_upsert(email="b@example.jp", actor=marketer, lifecycle_stage="customer")
    out = StringIO()
    call_command("journey_refresh", stdout=out)
    assert "2" in out.getvalue()
    placed = dict(ContactJourney.objects.values_list("contact_id", "stage__name"))
    assert placed == {a.pk: "興味・関心", b.pk: "受注"}
