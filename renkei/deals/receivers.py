"""A contact reaching SQL gets a deal. The receiver only queues this app's task
(``stage_changed`` is sent after commit)."""

from typing import Any

from django.dispatch import receiver

from renkei.contacts.models import LifecycleStage
from renkei.contacts.signals import stage_changed


@receiver(stage_changed, dispatch_uid="renkei.deals.deal_for_sql")
def on_stage_changed(sender: Any, contact_id: int, to_stage: str, **kwargs: Any) -> None:
    if to_stage == LifecycleStage.SQL:
        from renkei.deals.tasks import deals_for_sql

        deals_for_sql.enqueue([contact_id])
