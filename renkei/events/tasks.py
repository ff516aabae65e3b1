"""Background work of the events app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.events.services import contacts_refresh_last_activity


@task()
def refresh_last_activity(contact_ids: list[int]) -> int:
    """Safe to run twice: it recomputes from the events."""
    return contacts_refresh_last_activity(contact_ids=contact_ids)
