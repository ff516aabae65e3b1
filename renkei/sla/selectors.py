"""Reads of the SLA app: the calendar, the active agreement, clock deadlines for the
inbox, and the compliance figures (one grouped query per table)."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Min, OuterRef, QuerySet, Subquery

from renkei.sla.models import (
    CALENDAR_ID,
    OPEN,
    OWED,
    BusinessCalendar,
    SlaAgreement,
    SlaClock,
    SlaStatus,
)


def calendar_get() -> BusinessCalendar:
    """The business calendar with its company holidays (created on migrate)."""
    calendar, _ = BusinessCalendar.objects.prefetch_related("company_holidays").get_or_create(
        pk=CALENDAR_ID
    )
    return calendar


def agreement_active() -> SlaAgreement | None:
    return SlaAgreement.objects.filter(status=SlaStatus.APPROVED).first()


def agreements_list() -> QuerySet[SlaAgreement]:
    return SlaAgreement.objects.select_related(
        "created_by", "approved_by_marketing", "approved_by_sales"
    ).order_by("-number")


def open_deadline_subquery(outer: str = "pk") -> Subquery:
    """The earliest deadline of a contact's clocks still owed (open, or breached and not
    yet met: a late lead shows the deadline it missed), to annotate a contact queryset
    (``contacts.annotate(sla_due=open_deadline_subquery()).order_by("sla_due")``)."""
    return Subquery(
        SlaClock.objects.filter(OWED, contact_id=OuterRef(outer))
        .order_by("due_at")
        .values("due_at")[:1]
    )


def clock_deadlines(contact_ids: Iterable[int]) -> dict[int, datetime]:
    """Contact id → earliest deadline of its open clocks (contacts without one left out);
    one query."""
    rows = (
        SlaClock.objects.filter(OPEN, contact_id__in=list(contact_ids))
        .values("contact_id")
        .annotate(due=Min("due_at"))
    )
    return {row["contact_id"]: row["due"] for row in rows}


def clock_deadline(contact_id: int) -> datetime | None:
    """The earliest deadline of the contact's open clocks, or None."""
    return clock_deadlines([contact_id]).get(contact_id)


def contact_clocks(contact_id: int) -> QuerySet[SlaClock]:
    """All clocks of a contact, newest assignment first."""
    return (
        SlaClock.objects.filter(contact_id=contact_id)
        .select_related("user")
        .order_by("-started_at", "kind")
    )
