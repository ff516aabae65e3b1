"""The engagement card on the contact page (registered in ``ScoringConfig.ready``)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.scoring.selectors import contact_engagement_explain


def contact_engagement_panel(contact: Contact) -> dict[str, Any]:
    """The rules that make up the score, largest share first (the top five shown)."""
    lines = contact_engagement_explain(contact)
    return {"engagement_lines": lines[:5], "engagement_total": sum(x.points for x in lines)}
