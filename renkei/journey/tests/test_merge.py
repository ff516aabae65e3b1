"""Merging two contacts that both have a journey stage (a one-to-one row each)."""

from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from renkei.contacts.services import contact_merge, contact_upsert
from renkei.contacts.tasks import derive_contacts
from renkei.journey.models import ContactJourney
from renkei.journey.services import contacts_journey_refresh

pytestmark = pytest.mark.django_db


def test_merging_two_placed_contacts_keeps_one_place_and_recomputes_it(
    marketer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    winner, _ = contact_upsert(email="a@example.jp", actor=marketer)
    loser, _ = contact_upsert(email="b@example.jp", lifecycle_stage="customer", actor=marketer)
    contacts_journey_refresh()
    assert ContactJourney.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        contact_merge(winner=winner, loser=loser, actor=marketer)
    # The winner keeps its own row (moving the loser's would break the one-to-one key) …
    assert ContactJourney.objects.get().contact_id == winner.pk
    # … and the pipeline queued after commit recomputes it from the merged contact.
    for task in DBTaskResult.objects.filter(task_path="renkei.contacts.tasks.derive_contacts"):
        derive_contacts.call(*task.args_kwargs["args"])
    assert ContactJourney.objects.get(contact=winner).stage.name == "受注"
