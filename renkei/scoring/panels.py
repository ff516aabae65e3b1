"""The engagement card on the contact page (registered in ``ScoringConfig.ready``)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.scoring.explain import contact_score_explain


def contact_engagement_panel(contact: Contact) -> dict[str, Any]:
    """Why the contact has its score: the summary sentence, every rule's share (largest
    first) and the events that count most."""
    return {"engagement": contact_score_explain(contact)}
