"""The deals card on the contact page: the contact's deals, newest first (indexed)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.deals.models import Deal


def contact_deals_panel(contact: Contact) -> dict[str, Any]:
    deals = list(
        Deal.objects.filter(deal_contacts__contact=contact)
        .select_related("stage", "owner")
        .order_by("-id")[:10]
    )
    return {"contact_deals": deals}
