"""Background work of the journey app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.journey.services import contacts_journey_refresh


@task()
def refresh_journey(contact_ids: list[int] | None = None) -> int:
    """Safe to run twice: it recomputes from the contacts and their events."""
    return contacts_journey_refresh(contact_ids=contact_ids)
