"""Campaigns: where contacts come from and what touches them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    TRADE_SHOW = "trade_show", _("Trade show (展示会)")
    SEMINAR = "seminar", _("Seminar")
    WEBINAR = "webinar", _("Webinar")
    WEB = "web", _("Web")
    ADS = "ads", _("Ads")
    EMAIL = "email", _("Email")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class Campaign(models.Model):
    """A marketing campaign with its channel, UTM parameters and cost in JPY."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True, db_index=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    cost = models.PositiveBigIntegerField(_("cost (JPY)"), default=0)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name
