"""A real ``db_worker`` process runs a queued import."""

from typing import Any

import pytest
from django.db import connection
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from renkei.contacts.models import Contact
from renkei.imports.models import ImportJob, ImportStatus
from renkei.imports.services import import_job_configure, import_job_create, import_job_start
from renkei.tests.test_worker import run_worker


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_queued_import(transactional_db: Any, monkeypatch: Any) -> None:
    if not isinstance(task_backends["default"], DatabaseBackend):
        pytest.skip("TASKS_BACKEND is not django_tasks_db: there is no queue for a worker")
    from django.conf import settings

    monkeypatch.setenv("RENKEI_IMPORT_DIR", str(settings.RENKEI_IMPORT_DIR))
    data = ("email,family_name\r\n" + "".join(f"p{i}@x.jp,山田\r\n" for i in range(30))).encode()
    job = import_job_create(chunks=[data], filename="a.csv", size=len(data), actor=None)
    import_job_configure(job=job, actor=None, mapping=["email", "family_name"], rules={})
    assert import_job_start(job=job, run_inline=False) is False
    queued = DBTaskResult.objects.get(task_path="renkei.imports.tasks.run_import")
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.PENDING

    worker = run_worker("--batch", "--no-startup-delay", "--interval", "0", "--no-reload")
    assert worker.returncode == 0, worker.stdout + worker.stderr

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    assert (job.rows_processed, job.rows_created) == (30, 30)
    assert Contact.objects.count() == 30
    done = DBTaskResult.objects.get(pk=queued.pk)
    assert done.status == "SUCCESSFUL" and done.return_value == "done"
    assert connection.vendor in ("sqlite", "postgresql")
