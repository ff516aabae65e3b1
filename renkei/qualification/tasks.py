"""Background work of the qualification app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.qualification.models import QualificationRun
from renkei.qualification.services import contacts_unflag, qualification_run_execute


@task()
def qualify_all(run_id: int) -> str:
    """Run a queued full evaluation; a run already claimed is left alone."""
    run = QualificationRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    return qualification_run_execute(run=run).status


@task()
def unflag_contacts(contact_ids: list[int]) -> int:
    """Take the flag off contacts no longer at MQL. Safe to run twice."""
    return contacts_unflag(contact_ids=contact_ids)
