"""CSV imports of contacts: the job that tracks one file, and the mapping presets users save."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A running import saves progress every 2,000 rows (about a second); after this long
# without progress its worker is gone.
STALE_AFTER = timedelta(minutes=10)


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for the mapping")
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One uploaded CSV file and what importing it did.

    The file is stored under ``RENKEI_IMPORT_DIR`` with a random name (``stored_name``)
    and is never served directly; so is the error report. ``mapping`` holds one target per
    column of ``header`` (see ``renkei.imports.mapping``), ``rules`` which side wins per
    field for existing contacts. Counts are saved after every chunk, so the job page shows
    progress while it runs.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Saved with every chunk: a running job whose progress stopped long ago lost its
    # worker (killed, restarted) and may be run again.
    progress_at = models.DateTimeField(null=True, blank=True, editable=False)
    original_filename = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=64, unique=True, editable=False)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    encoding = models.CharField(_("encoding"), max_length=32)
    delimiter = models.CharField(_("delimiter"), max_length=4)
    header = models.JSONField(_("header"), default=list)
    mapping = models.JSONField(_("mapping"), default=list)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    preset_name = models.CharField(_("preset"), max_length=100, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
        verbose_name=_("campaign"),
    )
    exchange_date = models.DateField(_("exchange date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    message = models.TextField(_("message"), blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_errors = models.PositiveIntegerField(_("errors"), default=0)
    events_recorded = models.PositiveIntegerField(_("events recorded"), default=0)
    error_report_name = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def retryable(self) -> bool:
        """Failed, or running with no progress for ``STALE_AFTER``: it may run again
        (imports are idempotent, so the rows already imported come out unchanged)."""
        if self.status == ImportStatus.FAILED:
            return True
        last = self.progress_at or self.started_at
        return (
            self.status == ImportStatus.RUNNING
            and last is not None
            and last < timezone.now() - STALE_AFTER
        )

    @property
    def preset_label(self) -> str:
        """The preset's name as users know it: a built-in's label, or the saved name."""
        from renkei.imports.mapping import BUILTIN_PRESETS  # mapping loads the services

        builtin = BUILTIN_PRESETS.get(self.preset_name)
        return str(builtin.label) if builtin else self.preset_name

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.rows_processed / self.rows_total))


class MappingPreset(models.Model):
    """A mapping a user saved: column header (as written in the file) → target.

    Shown next to the built-in presets (HubSpot, Salesforce, business-card app), which
    live in code, not in this table.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    mapping = models.JSONField(_("mapping"), default=dict)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mapping preset")
        verbose_name_plural = _("mapping presets")

    def __str__(self) -> str:
        return self.name
