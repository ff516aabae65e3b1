"""Background work of the scoring app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.scoring.models import RescoreRun
from renkei.scoring.services import contacts_rescore, rescore_run_execute


@task()
def rescore_contacts(contact_ids: list[int]) -> int:
    """Safe to run twice: it recomputes from the events."""
    return contacts_rescore(contact_ids=contact_ids).contacts


@task()
def rescore_all(run_id: int) -> str:
    """Run a queued full rescore; a run already claimed is left alone."""
    run = RescoreRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    return rescore_run_execute(run=run).status
