"""The SLA between marketing and sales: the business calendar, the versioned agreement,
per-lead clocks and the breaches found on them.

``BusinessCalendar`` is one row (pk 1), edited by managers and admins; ``CompanyHoliday``
rows are its days off besides Japanese public holidays. ``SlaAgreement`` rows are versions:
editable while draft, active once a marketing-side and a different sales-side user have
approved (at most one active, enforced by the database). ``SlaClock`` rows are started per
assignment (``renkei.handoff``'s ``leads_assigned``) and kind; ``SlaBreach`` records each
clock found past due by the scan.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renkei.sla.calendar import CalendarSpec, HolidayRange

CALENDAR_ID = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessCalendar(models.Model):
    """Working time for SLA clocks. ``hours`` maps a weekday ("0" = Monday … "6") to its
    working windows in minutes after midnight, e.g. [[540, 720], [780, 1080]]."""

    name = models.CharField(_("name"), max_length=120, default="営業カレンダー")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Tokyo")
    hours = models.JSONField(_("working hours"), default=dict)
    public_holidays = models.BooleanField(_("Japanese public holidays are days off"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def spec(self, holidays: list["CompanyHoliday"] | None = None) -> CalendarSpec:
        if holidays is None:
            holidays = list(self.company_holidays.all())
        return CalendarSpec(
            time_zone=self.time_zone,
            windows={
                int(day): tuple((int(lo), int(hi)) for lo, hi in windows)
                for day, windows in (self.hours or {}).items()
            },
            public_holidays=self.public_holidays,
            holidays=tuple(HolidayRange(h.start, h.end, h.every_year) for h in holidays),
        )


class CompanyHoliday(models.Model):
    """Company days off (年末年始, お盆): a date range, once or every year."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="company_holidays"
    )
    name = models.CharField(_("name"), max_length=120)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    every_year = models.BooleanField(_("every year"), default=True)

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("company holiday")
        verbose_name_plural = _("company holidays")

    def __str__(self) -> str:
        return self.name

    @property
    def wraps(self) -> bool:
        return self.every_year and (self.end.month, self.end.day) < (
            self.start.month,
            self.start.day,
        )


class SlaStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Active")
    RETIRED = "retired", _("Retired")


class SlaPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class SlaAgreement(models.Model):
    """One version of the marketing–sales SLA.

    Marketing's side: ``mql_commitment`` MQLs per ``period`` with at least
    ``min_acceptance_rate`` % accepted by sales; optionally per persona in
    ``persona_commitments`` ([{"persona": id, "mqls": n, "min_acceptance_rate": pct}]).
    Sales' side, per lead: first touch within ``first_touch_hours`` business hours of
    assignment, at least ``attempts_required`` touches within ``attempts_days`` business
    days, accept/reject within ``decision_hours`` business hours.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    notes = models.TextField(_("notes"), blank=True)
    period = models.CharField(
        _("period"), max_length=8, choices=SlaPeriod.choices, default=SlaPeriod.MONTH
    )
    mql_commitment = models.PositiveIntegerField(_("MQLs per period"))
    min_acceptance_rate = models.PositiveSmallIntegerField(_("minimum acceptance rate (%)"))
    persona_commitments = models.JSONField(_("commitments per persona"), default=list, blank=True)
    first_touch_hours = models.DecimalField(
        _("first touch within (business hours)"), max_digits=6, decimal_places=2
    )
    attempts_required = models.PositiveSmallIntegerField(_("attempts (at least)"))
    attempts_days = models.PositiveSmallIntegerField(_("attempts within (business days)"))
    decision_hours = models.DecimalField(
        _("accept/reject within (business hours)"), max_digits=6, decimal_places=2
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SlaStatus.choices, default=SlaStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by_marketing = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_sales = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("SLA agreement")
        verbose_name_plural = _("SLA agreements")
        permissions = [
            ("approve_slaagreement", "Can approve an SLA version"),
            ("view_sla_compliance", "Can see SLA compliance"),
        ]
        constraints = [
            # The database itself refuses two active versions.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="approved"), name="sla_one_active"
            ),
            models.CheckConstraint(
                condition=Q(first_touch_hours__gt=0)
                & Q(decision_hours__gt=0)
                & Q(attempts_required__gte=1)
                & Q(attempts_days__gte=1)
                & Q(min_acceptance_rate__lte=100),
                name="sla_possible_terms",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA v{self.number}"

    @property
    def is_active(self) -> bool:
        return self.status == SlaStatus.APPROVED


class ClockKind(models.TextChoices):
    FIRST_TOUCH = "first_touch", _("First touch")
    ATTEMPTS = "attempts", _("Attempts")
    DECISION = "decision", _("Accept/reject decision")


class CloseReason(models.TextChoices):
    REASSIGNED = "reassigned", _("Re-assigned")
    REJECTED = "rejected", _("Rejected or left the funnel")


OPEN = Q(met_at__isnull=True, breached_at__isnull=True, closed_at__isnull=True)
# Still owed to the lead: open, or breached and not yet met late.
OWED = Q(met_at__isnull=True, closed_at__isnull=True)


class SlaClock(models.Model):
    """One commitment on one assignment. Open while not met, breached or closed; a breached
    clock can still be met late (``met_at`` after ``due_at``)."""

    assignment_id = models.BigIntegerField()  # renkei.handoff's assignment (no FK: app order)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(
        SlaAgreement, null=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ClockKind.choices)
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    attempts_required = models.PositiveSmallIntegerField(default=1)
    attempts_count = models.PositiveSmallIntegerField(default=0)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(
        max_length=16, choices=CloseReason.choices, blank=True, default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment_id", "kind"], name="sla_clock_once"),
        ]
        indexes = [
            # The breach scan: open clocks by deadline, nothing else in the index.
            models.Index(fields=["due_at"], condition=OPEN, name="sla_clock_open_due"),
            models.Index(fields=["contact", "started_at"], name="sla_clock_contact"),
            models.Index(fields=["started_at", "user"], name="sla_clock_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.contact_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.breached_at is None and self.closed_at is None


class SlaBreach(models.Model):
    """A clock found past its deadline by the scan (one per clock)."""

    clock = models.OneToOneField(SlaClock, on_delete=models.CASCADE, related_name="breach")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ClockKind.choices)
    due_at = models.DateTimeField(_("due"))
    found_at = models.DateTimeField(_("found"))

    class Meta:
        ordering = ["-found_at", "-id"]
        indexes = [models.Index(fields=["due_at", "user"], name="sla_breach_due_user")]

    def __str__(self) -> str:
        return f"breach {self.kind} #{self.contact_id}"
