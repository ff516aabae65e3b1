"""A contact reaching SQL gets a deal. The receiver only queues this app's task
(``stages_changed`` is sent after commit, once per move: one task per 1,000 contacts)."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import StageChange, stages_changed

CHUNK = 1000


@receiver(stages_changed, dispatch_uid="renkei.deals.deal_for_sql")
def on_stages_changed(sender: Any, changes: list[StageChange], **kwargs: Any) -> None:
    ids = [c.contact_id for c in changes if c.to_stage == LifecycleStage.SQL]
    if not ids:
        return
    from renkei.deals.tasks import deals_for_sql

    for start in range(0, len(ids), CHUNK):
        deals_for_sql.enqueue(ids[start : start + CHUNK])
