"""The qualification card on the contact page (registered in ``QualificationConfig.ready``)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.qualification.selectors import contact_qualification


def contact_qualification_panel(contact: Contact) -> dict[str, Any]:
    """Whether, when and why the contact became MQL by the policy; flagged if below it."""
    row = contact_qualification(contact)
    return {
        "qualification": row,
        "qualification_flagged": bool(
            row and row.below_policy_since and contact.lifecycle_stage == "mql"
        ),
    }
