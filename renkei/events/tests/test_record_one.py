from typing import Any

from django_tasks_db.models import DBTaskResult

from renkei.contacts.services import contact_upsert
from renkei.events.services import event_record_one


def test_logged_activity_names_its_author_and_schedules_last_activity(
    sales_rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    contact, _ = contact_upsert(email="kenji@example.jp", actor=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        event = event_record_one(
            contact=contact, type="call", properties={"body": "折り返し希望"}, actor=sales_rep
        )
    assert event.properties == {"body": "折り返し希望", "logged_by": "sales1"}
    queued = DBTaskResult.objects.filter(task_path__endswith="derive_contacts")
    assert [task.args_kwargs["args"] for task in queued] == [[[contact.pk], "events"]]
