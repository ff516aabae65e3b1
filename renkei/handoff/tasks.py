"""Background work of the hand-off, run by the task worker (``renkei db_worker``)."""

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone
from django_tasks import task

from renkei.handoff.models import DeliveryStatus, WebhookDelivery
from renkei.handoff.notify import (
    WEBHOOK_BACKOFF_SECONDS,
    WEBHOOK_MAX_ATTEMPTS,
    WebhookError,
    assignments_notify,
    breach_notify,
    webhook_post,
)
from renkei.handoff.routing import mqls_route


@task()
def route_mqls(contact_ids: list[int]) -> int:
    """Assign new MQLs to reps. Safe to run twice: an assigned contact is skipped."""
    return mqls_route(contact_ids).assigned


@task()
def notify_assignments(assignment_ids: list[int]) -> int:
    """Email the reps their new leads and queue the webhooks."""
    return assignments_notify(assignment_ids)


@task()
def notify_breach(breach_id: int, contact_id: int, user_id: int, kind: str, due_at: str) -> int:
    return breach_notify(
        breach_id=breach_id,
        contact_id=contact_id,
        user_id=user_id,
        kind=kind,
        due_at=datetime.fromisoformat(due_at),
    )


@task()
def webhook_deliver(delivery_id: int) -> str:
    """One attempt; on failure queue the next with exponential back-off (run_after)."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).first()
    if delivery is None:
        return "done"
    # Claim the attempt: a duplicate task for the same attempt finds the count changed.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1)
    if claimed != 1:
        return "claimed"
    attempt = delivery.attempts + 1
    try:
        webhook_post(delivery.url, delivery.payload)
    except WebhookError as exc:
        failed = attempt >= WEBHOOK_MAX_ATTEMPTS
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            last_error=str(exc)[:500],
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
        )
        if failed:
            return "failed"
        wait = timedelta(seconds=WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1))
        webhook_deliver.using(run_after=timezone.now() + wait).enqueue(delivery.pk)
        return "retry"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"
