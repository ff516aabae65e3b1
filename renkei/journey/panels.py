"""The journey card on the contact page (registered in ``JourneyConfig.ready``)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.journey.models import ContactJourney


def contact_journey_panel(contact: Contact) -> dict[str, Any]:
    """The contact's stage and since when (one query on the contact's primary key)."""
    row = ContactJourney.objects.select_related("stage").filter(contact_id=contact.pk).first()
    return {"journey_row": row}
