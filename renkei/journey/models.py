"""The shared customer journey as data: ordered stages and each contact's current stage."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class JourneyStage(models.Model):
    """A step of the shared customer journey (認知 → 興味・関心 → … → 継続).

    Stages form one ordered path by ``position`` (unique, so the order is never ambiguous
    and cannot cycle). ``lifecycle_stages`` lists ``LifecycleStage`` values;
    ``entry_signals`` lists conditions (see ``renkei.journey.signals_spec``);
    ``content_notes`` lists ``{"title": …, "url": …}`` of the content used at this stage.
    """

    name = models.CharField(_("name (Japanese)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    description = models.TextField(_("description"), blank=True)
    lifecycle_stages = models.JSONField(_("lifecycle stages"), default=list, blank=True)
    entry_signals = models.JSONField(_("entry signals"), default=list, blank=True)
    campaigns = models.ManyToManyField(
        "campaigns.Campaign",
        blank=True,
        related_name="journey_stages",
        verbose_name=_("campaigns"),
    )
    content_notes = models.JSONField(_("content"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("journey stage")
        verbose_name_plural = _("journey stages")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The Japanese name, or the English one when the UI is in English and it is set."""
        if self.name_en and (get_language() or "ja").startswith("en"):
            return self.name_en
        return self.name


class ContactJourney(models.Model):
    """Where a contact currently is on the journey, recomputed set-based from its data.

    ``since`` is when the contact was first seen in this stage by a refresh.
    """

    contact = models.OneToOneField(
        "contacts.Contact",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="journey",
    )
    stage = models.ForeignKey(JourneyStage, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(_("since"))

    class Meta:
        # The journey page counts contacts per stage: an index-only GROUP BY.
        indexes = [models.Index(fields=["stage"], name="contactjourney_stage")]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.stage_id}"
