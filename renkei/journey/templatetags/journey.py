"""``{% load journey %}{% contact_journey contact %}``: a contact's current journey stage.

For the contact page (wired by the lead); one indexed query on the contact's primary key.
"""

from typing import Any

from django import template

from renkei.journey.models import ContactJourney

register = template.Library()


@register.inclusion_tag("journey/_contact_journey.html")
def contact_journey(contact: Any) -> dict[str, Any]:
    row = ContactJourney.objects.select_related("stage").filter(contact_id=contact.pk).first()
    return {"row": row}
