"""Reads of the hand-off: the rep's inbox, open leads, fairness, hand-off results for
marketing and marketing's queue. Each is a fixed number of grouped queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from renkei.accounts.roles import SALES
from renkei.handoff.models import (
    DEFAULT_WEIGHT,
    Assignment,
    AssignmentStatus,
    QueueState,
    RejectReason,
    RepSettings,
    RoutingRule,
)
from renkei.personas.models import ContactPersona


def _sla() -> bool:
    return apps.is_installed("renkei.sla")


def inbox_leads(user: Any, limit: int = 200) -> list[Assignment]:
    """The rep's open leads, most urgent first: the earliest open SLA deadline (when the
    SLA app runs), then the oldest hand-off. Each carries ``sla_due`` and ``hours_left``
    (business hours, negative when late)."""
    qs = Assignment.objects.filter(user=user, status=AssignmentStatus.OPEN).select_related(
        "contact", "contact__company"
    )
    if _sla():
        from renkei.sla.selectors import open_deadline_subquery

        qs = qs.annotate(sla_due=open_deadline_subquery("contact_id")).order_by(
            F("sla_due").asc(nulls_last=True), "assigned_at", "id"
        )
    else:
        qs = qs.order_by("assigned_at", "id")
    leads = list(qs[:limit])
    calendar = None
    if _sla() and any(getattr(a, "sla_due", None) for a in leads):
        from renkei.sla.calendar import business_between
        from renkei.sla.selectors import calendar_get

        calendar = calendar_get()
        now = timezone.now()
        for a in leads:
            due = getattr(a, "sla_due", None)
            a.hours_left = (  # type: ignore[attr-defined]
                round(business_between(calendar, now, due), 1) if due else None
            )
    for a in leads:
        a.__dict__.setdefault("sla_due", None)
        a.__dict__.setdefault("hours_left", None)
    return leads


def open_assignments(user_id: int | None = None, limit: int = 200) -> QuerySet[Assignment]:
    qs = Assignment.objects.filter(status=AssignmentStatus.OPEN).select_related(
        "contact", "contact__company", "user"
    )
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs.order_by("assigned_at", "id")[:limit]


def routing_rules() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("persona").prefetch_related("reps")


def reps_with_settings() -> list[Any]:
    """Active sales reps with their settings (defaults when none) and open-lead counts."""
    users = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=SALES)
        .select_related("rep_settings", "rep_settings__team")
        .annotate(
            open_leads=Subquery(
                Assignment.objects.filter(user_id=OuterRef("pk"), status=AssignmentStatus.OPEN)
                .values("user_id")
                .annotate(n=Count("id"))
                .values("n")[:1]
            )
        )
        .order_by("username")
    )
    for u in users:
        u.settings_row = getattr(u, "rep_settings", None)  # type: ignore[attr-defined]
    return users


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the site's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


@dataclass
class FairnessRow:
    user: Any
    leads: int
    weight: int
    share: float  # of the leads in the period
    weight_share: float  # of the total weight of the reps shown

    @property
    def difference(self) -> float:
        return self.share - self.weight_share


def fairness(start: date, end: date) -> list[FairnessRow]:
    """Leads handed to each rep in the period (routed, not re-assignments) against the
    rep's share of the total weight. Two queries."""
    low, high = period_bounds(start, end)
    counts = dict(
        Assignment.objects.filter(assigned_at__gte=low, assigned_at__lt=high)
        .exclude(method="manual")
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    users = list(
        get_user_model()
        .objects.filter(Q(is_active=True, groups__name=SALES) | Q(pk__in=counts.keys()))
        .select_related("rep_settings")
        .distinct()
        .order_by("username")
    )
    weights = {
        u.pk: (u.rep_settings.weight if hasattr(u, "rep_settings") else DEFAULT_WEIGHT)
        for u in users
    }
    total_leads = sum(counts.values()) or 1
    total_weight = sum(weights.values()) or 1
    return [
        FairnessRow(
            user=u,
            leads=counts.get(u.pk, 0),
            weight=weights[u.pk],
            share=counts.get(u.pk, 0) / total_leads,
            weight_share=weights[u.pk] / total_weight,
        )
        for u in users
    ]


DIMENSIONS = ("campaign", "source", "persona")


@dataclass
class ResultRow:
    label: str
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


def handoff_results(start: date, end: date, by: str) -> list[ResultRow]:
    """Acceptance rate and rejection reasons of leads decided in the period, per first
    campaign, source or best persona. One grouped query."""
    low, high = period_bounds(start, end)
    qs = Assignment.objects.filter(
        decided_at__gte=low,
        decided_at__lt=high,
        status__in=[AssignmentStatus.ACCEPTED, AssignmentStatus.REJECTED],
    )
    if by == "campaign":
        qs = qs.annotate(label=F("contact__first_campaign__name"))
    elif by == "source":
        qs = qs.annotate(label=F("contact__source"))
    else:
        qs = qs.annotate(
            label=Subquery(
                ContactPersona.objects.filter(contact_id=OuterRef("contact_id")).values(
                    "version__persona__name"
                )[:1]
            )
        )
    rows: dict[str, ResultRow] = {}
    grouped = qs.values("label", "status", "reason_code").annotate(n=Count("id")).order_by()
    for g in grouped:
        label = g["label"] or ""
        row = rows.setdefault(label, ResultRow(label=label))
        if g["status"] == AssignmentStatus.ACCEPTED:
            row.accepted += g["n"]
        else:
            row.rejected += g["n"]
            row.reasons[g["reason_code"]] = row.reasons.get(g["reason_code"], 0) + g["n"]
    return sorted(rows.values(), key=lambda r: (-r.decided, r.label))


def reason_labels() -> dict[str, str]:
    return {code: str(label) for code, label in RejectReason.choices}


def queue_entries(limit: int = 500) -> QuerySet[Assignment]:
    """Marketing's queue: data-quality rejections waiting to be fixed or dismissed."""
    return (
        Assignment.objects.filter(queue_state=QueueState.PENDING)
        .select_related("contact", "contact__company", "user")
        .order_by("decided_at", "id")[:limit]
    )


def rep_counts_by_status(user_ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Assignment.objects.filter(user_id__in=user_ids)
        .values("user_id", "status")
        .annotate(n=Count("id"))
    ):
        out[row["user_id"]][row["status"]] = row["n"]
    return out


def rep_settings_for(user: Any) -> RepSettings | None:
    return RepSettings.objects.filter(user=user).first()
