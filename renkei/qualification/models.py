"""The MQL decision: one qualification policy, each contact's qualification, the runs.

A contact qualifies when (its best persona fit ≥ ``fit_threshold`` and its engagement
score ≥ ``engagement_threshold``) or it has a hand-raise event (a demo request …) within
the last ``hand_raise_window_days``. ``ContactQualification`` is derived data kept by
``services``: why a contact became MQL, and since when an MQL has been below the policy.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_HAND_RAISE_TYPES = ["demo_request", "contact_request"]


def default_hand_raise_types() -> list[str]:
    return list(DEFAULT_HAND_RAISE_TYPES)


class QualificationPolicy(models.Model):
    """The one policy (row id 1), created by a data migration and after every migrate."""

    fit_threshold = models.PositiveSmallIntegerField(_("persona fit at least"), default=60)
    engagement_threshold = models.IntegerField(_("engagement score at least"), default=40)
    hand_raise_event_types = models.JSONField(
        _("hand-raise event types"), default=default_hand_raise_types, blank=True
    )
    hand_raise_window_days = models.PositiveIntegerField(_("hand-raise window (days)"), default=90)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("qualification policy")
        verbose_name_plural = _("qualification policies")
        permissions = [("run_qualification", "Can run the qualification of every contact")]

    def __str__(self) -> str:
        return f"fit ≥ {self.fit_threshold} and engagement ≥ {self.engagement_threshold}"


class ContactQualification(models.Model):
    """Why and when a contact became MQL by the policy, and whether it is below it now.

    ``qualified_at`` is empty for a contact that reached MQL another way (by hand, an
    import) and was found below the policy. ``below_policy_since`` flags an MQL whose
    score decayed or fit fell below the policy: flagged, never demoted.
    """

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    qualified_at = models.DateTimeField(_("qualified"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    fit = models.PositiveSmallIntegerField(_("fit"), null=True, blank=True)
    score = models.IntegerField(_("score"), null=True, blank=True)
    below_policy_since = models.DateTimeField(_("below the policy since"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked"))

    class Meta:
        indexes = [
            # The flagged list and its count read only the flagged rows, newest id first.
            models.Index(
                fields=["contact"],
                condition=Q(below_policy_since__isnull=False),
                name="qualification_flagged",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.reason}"


class QualificationRun(models.Model):
    """One full evaluation of every contact: queued by a user, a rebuild or the command."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=32, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    contacts = models.IntegerField(default=0)
    qualified = models.IntegerField(default=0)
    flagged = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"qualification {self.pk} ({self.status})"
