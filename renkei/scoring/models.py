"""Engagement rules, the per-contact engagement they produce, and full-rescore runs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Operator(models.TextChoices):
    CONTAINS = "contains", _("contains")
    EQUALS = "equals", _("equals")


class EngagementRule(models.Model):
    """Points a contact earns for each event of ``event_type`` (optionally only events whose
    property ``property_key`` contains / equals ``property_value``).

    ``daily_cap`` limits the points one contact earns from this rule per JST day (rounded
    down to whole events); ``half_life_days`` halves an event's points every that many days.
    """

    name = models.CharField(_("name"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=64)
    property_key = models.CharField(_("property"), max_length=64, blank=True)
    operator = models.CharField(_("operator"), max_length=16, choices=Operator.choices, blank=True)
    property_value = models.CharField(_("value"), max_length=200, blank=True)
    points = models.IntegerField(_("points"))
    daily_cap = models.PositiveIntegerField(_("daily cap"), null=True, blank=True)
    half_life_days = models.FloatField(_("half-life (days)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("run_rescore", "Can recompute every contact's scores")]

    def __str__(self) -> str:
        return self.name

    def events_per_day(self) -> int | None:
        """How many events a day count under the cap (None: no cap)."""
        if self.daily_cap is None:
            return None
        return self.daily_cap // abs(self.points)


class EngagementBucket(models.Model):
    """What each rule contributes to the engagement of the contacts whose id divided by
    ``renkei.scoring.store.BUCKET_CONTACTS`` is ``bucket``: packed entries of (contact,
    rule, events counted, points as of ``computed_s``), see ``renkei.scoring.store``.

    A full rescore writes a few thousand of these instead of millions of rows; an
    incremental one rewrites the buckets of its contacts. Points decay from ``computed_s``:
    at a later time they are ``points * 2 ** (-(later - computed_s) / half_life)``, so reads
    never rescan events.
    """

    bucket = models.BigIntegerField(primary_key=True)
    data = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return f"bucket {self.bucket}"


class RescoreRun(models.Model):
    """One full rescore: queued by a user or the command, then run by the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    contacts = models.IntegerField(default=0)
    events = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"rescore {self.pk} ({self.status})"
