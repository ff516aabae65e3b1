"""Visitors and the append-only event log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """Built-in event types. Other slugs are accepted too (``^[a-z][a-z0-9_.:-]*$``)."""

    PAGE_VIEW = "page_view", _("Page view")
    FORM_SUBMIT = "form_submit", _("Form submission")
    EMAIL_OPEN = "email_open", _("Email open")
    EMAIL_CLICK = "email_click", _("Email click")
    WEBINAR_ATTENDED = "webinar_attended", _("Webinar attended")
    TRADE_SHOW_VISIT = "trade_show_visit", _("Trade-show visit (展示会)")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL_SENT = "email_sent", _("Email sent")
    NOTE = "note", _("Note")


class Visitor(models.Model):
    """An anonymous browser, by the id its tracking cookie carries; later stitched to a contact."""

    key = models.CharField(max_length=64, unique=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visitors",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The event columns of the scoring app look up the visitors stitched since a moment.
        indexes = [models.Index(fields=["identified_at"], name="visitor_identified")]

    def __str__(self) -> str:
        return self.key


class Event(models.Model):
    """An append-only fact about a contact or a visitor.

    ``client_event_id`` is the sender's id for the event: a retried batch carrying the same
    ids adds nothing. Rows are only ever inserted, re-pointed (stitching, merging) or
    erased with their contact.
    """

    client_event_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(_("type"), max_length=64)
    occurred_at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(auto_now_add=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    visitor = models.ForeignKey(
        Visitor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="event_contact_time"),
            models.Index(fields=["visitor", "occurred_at"], name="event_visitor_time"),
            models.Index(fields=["occurred_at"], name="event_time"),
            # The event columns of the scoring app read the events received since a moment.
            models.Index(fields=["received_at"], name="event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"
