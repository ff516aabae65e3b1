"""Web forms, their fields and submissions, and the site-wide settings of public capture
(forms and tracking)."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaptureSettings(models.Model):
    """The one row of capture settings an admin edits (``CaptureSettings.current()``).

    ``allowed_origins``: sites (scheme://host[:port]) whose pages may post forms and
    tracking data cross-origin. ``allowed_redirect_domains``: hosts a form may redirect to
    after a submission (a host also allows its subdomains). One entry per line.
    """

    allowed_origins = models.TextField(_("allowed origins"), blank=True)
    allowed_redirect_domains = models.TextField(_("allowed redirect domains"), blank=True)
    honour_do_not_track = models.BooleanField(
        _("honour Do Not Track and Global Privacy Control"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("capture settings")
        verbose_name_plural = _("capture settings")

    def __str__(self) -> str:
        return "capture settings"

    @classmethod
    def current(cls) -> "CaptureSettings":
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)

    @property
    def origin_list(self) -> list[str]:
        return _lines(self.allowed_origins)

    @property
    def redirect_domain_list(self) -> list[str]:
        return _lines(self.allowed_redirect_domains)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def new_form_key() -> str:
    """An unguessable, URL-safe public key (128 random bits): forms are found by it, never
    by their sequential id, so nobody can enumerate the forms of a site."""
    return secrets.token_urlsafe(16)


class WebForm(models.Model):
    """A lead-capture form marketers build: its fields, the campaign it feeds, what the
    visitor is asked to consent to and what they see after submitting.

    Texts shown to visitors exist in Japanese and English (``*_ja`` / ``*_en``);
    ``text(name, language)`` picks one and falls back to the other when it is empty.
    ``submission_count`` and ``last_submitted_at`` are kept by ``webform_submit`` so the
    list never counts submissions.
    """

    key = models.CharField(max_length=64, unique=True, default=new_form_key, editable=False)
    name = models.CharField(_("name"), max_length=200)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="web_forms",
        verbose_name=_("campaign"),
    )
    title_ja = models.CharField(_("heading (Japanese)"), max_length=200, blank=True)
    title_en = models.CharField(_("heading (English)"), max_length=200, blank=True)
    consent_text_ja = models.TextField(_("consent text (Japanese)"), blank=True)
    consent_text_en = models.TextField(_("consent text (English)"), blank=True)
    ask_email_opt_in = models.BooleanField(_("ask for email opt-in"), default=False)
    opt_in_label_ja = models.CharField(_("opt-in label (Japanese)"), max_length=500, blank=True)
    opt_in_label_en = models.CharField(_("opt-in label (English)"), max_length=500, blank=True)
    thanks_message_ja = models.TextField(_("thank-you message (Japanese)"), blank=True)
    thanks_message_en = models.TextField(_("thank-you message (English)"), blank=True)
    redirect_url = models.URLField(_("redirect URL"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    submission_count = models.PositiveIntegerField(_("submissions"), default=0)
    last_submitted_at = models.DateTimeField(_("last submission"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return self.name

    def text(self, name: str, language: str) -> str:
        """The visitor-facing text ``name`` (title, consent_text …) in ``language``,
        falling back to the other language when it is empty."""
        first, second = ("en", "ja") if language == "en" else ("ja", "en")
        return str(getattr(self, f"{name}_{first}") or getattr(self, f"{name}_{second}") or "")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    EMAIL = "email", _("Email")
    TEL = "tel", _("Phone")
    TEXTAREA = "textarea", _("Multi-line text")
    SELECT = "select", _("Choice list")
    CHECKBOX = "checkbox", _("Checkbox")


class FormField(models.Model):
    """One field of a web form, in display order.

    ``target`` says where the answer goes and is also the input's name: a contact field
    (``email``, ``family_name`` …), a company field (``company_name`` …) or a custom
    property (``property:<key>``, stored in ``contact.properties[key]``). Each target
    appears at most once per form. ``options`` (choice lists) holds one option a line:
    ``value`` or ``value | 日本語 | English``.
    """

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label_ja = models.CharField(_("label (Japanese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    target = models.CharField(_("stored in"), max_length=80)
    options = models.TextField(_("options"), blank=True)

    class Meta:
        ordering = ["form", "position", "id"]
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        constraints = [
            models.UniqueConstraint(fields=["form", "target"], name="formfield_form_target")
        ]

    def __str__(self) -> str:
        return f"{self.label_ja} ({self.target})"

    def label(self, language: str) -> str:
        return (self.label_en or self.label_ja) if language == "en" else self.label_ja

    def choices(self, language: str) -> list[tuple[str, str]]:
        """(value, label in ``language``) of a choice list's options."""
        found = []
        for line in self.options.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            label_ja = parts[1] if len(parts) > 1 and parts[1] else parts[0]
            label_en = parts[2] if len(parts) > 2 and parts[2] else label_ja
            found.append((parts[0], label_en if language == "en" else label_ja))
        return found


class FormSubmission(models.Model):
    """A light record of one submission: which form, which contact, when, from which page.

    The answers themselves are in the contact and in its ``form_submit`` event; this row
    lists a form's recent submissions without scanning the event log.
    """

    form = models.ForeignKey(
        WebForm, on_delete=models.CASCADE, related_name="submissions", db_index=False
    )
    # Erasing a contact erases its submissions too (they are personal data).
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="form_submissions"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    page_url = models.CharField(_("page"), max_length=2000, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [
            # The detail page's keyset pages: newest first within a form.
            models.Index(fields=["form", "submitted_at", "id"], name="formsubmission_form_time")
        ]

    def __str__(self) -> str:
        return f"{self.form_id} @ {self.submitted_at:%Y-%m-%d %H:%M}"
