"""Personas: shared ideal-customer profiles, versioned, with weighted criteria.

A persona's criteria live on its versions. Only an approved version is active (at most one
per persona); approving needs one user for marketing and a different one for sales.
``ContactFit`` and ``ContactPersona`` are derived data, rebuilt by ``services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Persona(models.Model):
    """A shared ideal-customer profile (ペルソナ) authored by both teams."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        permissions = [("approve_persona", "Can approve a persona version")]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")


class PersonaVersion(models.Model):
    """One version of a persona. Editable while draft; ``criteria`` is a list of dicts
    validated by ``renkei.personas.criteria.criteria_validate``."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    description = models.TextField(_("description"), blank=True)
    pains = models.TextField(_("pains"), blank=True)
    goals = models.TextField(_("goals"), blank=True)
    criteria = models.JSONField(_("criteria"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
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
        ordering = ["persona_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["persona", "number"], name="persona_version_number"),
            # The database itself refuses two active versions of one persona.
            models.UniqueConstraint(
                fields=["persona"], condition=Q(status="approved"), name="persona_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.persona.name} v{self.number}"

    @property
    def is_active(self) -> bool:
        return self.status == VersionStatus.APPROVED


class ContactFit(models.Model):
    """How well one contact matches one active persona version (0–100)."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PersonaVersion, on_delete=models.CASCADE, related_name="fits")
    fit = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "version"], name="contact_fit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} ~ {self.version_id}: {self.fit}"


class ContactPersona(models.Model):
    """A contact's best persona: the highest fit above zero (ties: the oldest persona)."""

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.ForeignKey(PersonaVersion, on_delete=models.CASCADE, related_name="best_for")
    fit = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["version", "fit"], name="contact_persona_version_fit")]

    def __str__(self) -> str:
        return f"{self.contact_id} ~ {self.version_id}: {self.fit}"
