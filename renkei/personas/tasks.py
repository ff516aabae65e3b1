"""Background work of the personas app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.personas.services import contacts_fit_rebuild_all, contacts_fit_refresh


@task()
def persona_fit_rebuild() -> int:
    """Every contact against the active personas. Safe to run twice."""
    return contacts_fit_rebuild_all()


@task()
def persona_fit_refresh(contact_ids: list[int]) -> int:
    """The given contacts only (their data changed). Safe to run twice."""
    return contacts_fit_refresh(contact_ids=contact_ids)
