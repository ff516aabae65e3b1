"""Pipelines, their stages, and deals (商談) moving through them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Pipeline(models.Model):
    """A sales process: an ordered list of stages, at least one won and one lost."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PipelineStage(models.Model):
    """One column of the board. ``probability`` (0–100) weights the forecast; a won or
    lost stage closes the deal that enters it."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    class Meta:
        ordering = ["pipeline_id", "order", "id"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_pipeline_name"),
            models.CheckConstraint(
                condition=~(Q(is_won=True) & Q(is_lost=True)), name="stage_not_won_and_lost"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Lost to a competitor")
    TIMING = "timing", _("Timing")
    NO_DECISION = "no_decision", _("No decision")
    OTHER = "other", _("Other")


class Deal(models.Model):
    """A sales opportunity: amount in yen, expected close date, owner, company, contacts.

    ``status`` mirrors the stage (open, won, lost) so the board's hot query — open deals
    of one stage — reads one partial index.
    """

    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(
        _("status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN
    )
    amount = models.PositiveBigIntegerField(_("amount (JPY)"), default=0)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_deals",
        verbose_name=_("owner"),
    )
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("company"),
    )
    contacts: "models.ManyToManyField[Any, Any]" = models.ManyToManyField(
        "contacts.Contact",
        through="DealContact",
        related_name="deals",
        verbose_name=_("contacts"),
        blank=True,
    )
    source_campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("source campaign"),
    )
    lost_reason = models.CharField(
        _("lost reason"), max_length=16, choices=LostReason.choices, blank=True
    )
    close_note = models.TextField(_("won/lost note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        permissions = [("change_any_deal", "Can change deals owned by others")]
        indexes = [
            # The board: open deals of a stage, soonest close first.
            models.Index(
                fields=["stage", "expected_close_date", "id"],
                condition=Q(status="open"),
                name="deal_open_stage_close",
            ),
            # The list: newest first, filtered by owner / stage / close date.
            models.Index(fields=["owner", "id"], name="deal_owner_id"),
            models.Index(fields=["stage", "id"], name="deal_stage_id"),
            models.Index(fields=["expected_close_date", "id"], name="deal_close_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == DealStatus.OPEN


class DealContact(models.Model):
    """A contact taking part in a deal."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="deal_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "deal"], name="dealcontact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}:{self.contact_id}"


class DealStageChange(models.Model):
    """One move of a deal between stages (its history), with who and why."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        PipelineStage, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["deal", "occurred_at"], name="dealchange_deal_at")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
