"""Background work of the scoring app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.scoring.backtest import snapshot_build
from renkei.scoring.models import RescoreRun
from renkei.scoring.services import contacts_rescore, rescore_run_execute


@task()
def rescore_contacts(contact_ids: list[int]) -> int:
    """Safe to run twice: it recomputes from the events."""
    return contacts_rescore(contact_ids=contact_ids).contacts


@task()
def rescore_all(run_id: int) -> str:
    """Run a queued full rescore; a run already claimed is left alone. The backtest
    snapshot is rebuilt after it, so previews see the same data as the scores."""
    run = RescoreRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    status = rescore_run_execute(run=run).status
    if status == RescoreRun.Status.DONE:
        backtest_snapshot_refresh.enqueue()
    return status


@task()
def backtest_snapshot_refresh(extra_keys: list[str] | None = None) -> int:
    """Rebuild the backtest snapshot from every contact and event (keeping also the event
    properties in ``extra_keys``); returns the events kept."""
    return snapshot_build(extra_keys=extra_keys or ()).events
