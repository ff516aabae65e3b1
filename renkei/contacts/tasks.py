"""Background work of the contacts app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.contacts.derived import contacts_derive


@task()
def derive_contacts(contact_ids: list[int], trigger: str) -> dict[str, object]:
    """The derived-data pipeline for these contacts. Safe to run twice: every step
    recomputes from the contacts and their events."""
    return {
        name: result if isinstance(result, (int, str, type(None))) else str(result)
        for name, result in contacts_derive(contact_ids=contact_ids, trigger=trigger).items()
    }
