"""Web forms and the site-wide settings of public capture (forms and tracking)."""

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
