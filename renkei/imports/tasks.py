"""Background work of the imports app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.imports.services import import_job_run


@task()
def run_import(job_id: int) -> str:
    """Safe to run twice: a job that is not pending (running, done, failed) is left alone."""
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "skipped"
