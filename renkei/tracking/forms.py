"""The tracked-link builder of the setup page."""

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.lib.japanese import normalize_email
from renkei.tracking.services import URL_MAX

EVENT_TYPES = [("link_click", _("Link click")), ("email_click", _("Email click"))]


class TrackedLinkForm(StyledForm):
    """A destination, optionally the contact the link is for and its campaign."""

    url = forms.URLField(
        label=_("Destination URL"),
        max_length=URL_MAX,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    contact_email = forms.EmailField(
        label=_("Contact's email"),
        required=False,
        help_text=_(
            "Whoever opens a link made for a contact is taken to be that contact: "
            "send it to that person only."
        ),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.order_by("name"), required=False
    )
    event_type = forms.ChoiceField(label=_("Recorded as"), choices=EVENT_TYPES)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["contact_id"] = None
        if email := cleaned.get("contact_email"):
            contacts = Contact.objects.filter(email_normalized=normalize_email(email))
            found = contacts.values_list("pk", flat=True).first()
            if found is None:
                self.add_error("contact_email", _("No contact has this email address."))
            else:
                cleaned["contact_id"] = found
        return cleaned
