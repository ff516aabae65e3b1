"""Hand-off to sales: teams, reps' routing settings, routing rules, assignments and the
webhook deliveries that announce them.

An ``Assignment`` is one hand-off of one MQL to one rep. At most one per contact is open
(the database refuses a second): two workers routing the same MQL assign it once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renkei.contacts.models import Industry


class Team(models.Model):
    """A sales team (営業チーム): its manager gets escalations; its webhook gets hand-offs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class RepSettings(models.Model):
    """How a sales rep takes leads: capacity (open leads at most), weight in the round
    robin, out of office, team and personal webhook. Reps without a row use the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rep_settings",
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reps",
        verbose_name=_("team"),
    )
    capacity = models.PositiveIntegerField(_("capacity (open leads)"), default=30)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    out_of_office_until = models.DateField(_("out of office until"), null=True, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("rep settings")
        verbose_name_plural = _("rep settings")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.capacity} × {self.weight}"


DEFAULT_CAPACITY = 30
DEFAULT_WEIGHT = 1


class RoutingRule(models.Model):
    """One ordered routing rule: conditions (all given ones must hold) and the reps who
    share the matching leads by weighted round robin (none chosen: every active rep)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    prefectures = models.JSONField(_("prefectures"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    employees_min = models.PositiveIntegerField(_("employees from"), null=True, blank=True)
    employees_max = models.PositiveIntegerField(_("employees to"), null=True, blank=True)
    persona = models.ForeignKey(
        "personas.Persona",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("best persona"),
    )
    reps = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("reps")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    def industry_labels(self) -> list[str]:
        """The industries by their names in the current language (codes unknown to the
        list of industries as they are)."""
        names = dict(Industry.choices)
        return [str(names.get(code, code)) for code in self.industries]


class AssignmentMethod(models.TextChoices):
    NAMED_ACCOUNT = "named_account", _("Named account")
    RULE = "rule", _("Routing rule")
    ROUND_ROBIN = "round_robin", _("Round robin (all reps)")
    MANUAL = "manual", _("Assigned by a manager")


class AssignmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    REASSIGNED = "reassigned", _("Re-assigned")


class RejectReason(models.TextChoices):
    WRONG_DATA = "wrong_data", _("Wrong contact data")
    NOT_DECISION_MAKER = "not_decision_maker", _("Not the decision maker")
    NO_BUDGET = "no_budget", _("No budget")
    NOT_NOW = "not_now", _("No need now")
    COMPETITOR = "competitor", _("Competitor")
    STUDENT_JOB_SEEKER = "student_job_seeker", _("Student / job seeker")
    DUPLICATE = "duplicate", _("Duplicate")
    OTHER = "other", _("Other")


class QueueState(models.TextChoices):
    """A data-quality rejection waits in marketing's queue until marketing resolves it."""

    NONE = "", _("Not queued")
    PENDING = "pending", _("Waiting for marketing")
    RETURNED = "returned", _("Fixed, returned to lead")
    DISMISSED = "dismissed", _("Dismissed")


class Assignment(models.Model):
    """One hand-off of a contact to a rep, the rule that chose the rep, and the rep's
    decision (accept → SAL, reject with a reason)."""

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("method"), max_length=16, choices=AssignmentMethod.choices)
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_name = models.CharField(_("rule"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.OPEN,
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason_code = models.CharField(
        _("reason"), max_length=32, choices=RejectReason.choices, blank=True
    )
    reason_text = models.TextField(_("reason details"), blank=True)
    queue_state = models.CharField(
        _("marketing queue"), max_length=16, choices=QueueState.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            # The database itself refuses a second open hand-off of one contact.
            models.UniqueConstraint(
                fields=["contact"], condition=Q(status="open"), name="assignment_one_open"
            )
        ]
        indexes = [
            models.Index(fields=["contact", "assigned_at"], name="assignment_contact_time"),
            models.Index(fields=["user", "status", "assigned_at"], name="assignment_user_status"),
            models.Index(fields=["assigned_at"], name="assignment_time"),
            models.Index(fields=["queue_state", "decided_at"], name="assignment_queue"),
        ]
        permissions = [
            ("work_lead", "Can accept or reject leads assigned to them"),
            ("reassign_lead", "Can re-assign a lead to another rep"),
            ("view_handoff_results", "Can see hand-off results and marketing's queue"),
            ("resolve_queue", "Can resolve marketing's queue of rejected leads"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.user_id} ({self.status})"


class RoutingTally(models.Model):
    """How many leads a rep got from one rule's round robin (rule 0: all reps). The
    weighted round robin picks the rep furthest below their weight share."""

    rule_key = models.PositiveIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule_key", "user"], name="routing_tally_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_key}/{self.user_id}: {self.count}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One outgoing webhook message, retried with back-off until sent or given up.

    ``key`` makes scheduling idempotent: the same hand-off is announced once per URL.
    """

    key = models.CharField(max_length=200, unique=True)
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
