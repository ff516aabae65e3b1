"""The persona-fit card on the contact page (registered in ``PersonasConfig.ready``)."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.personas.selectors import contact_fit_explain


def contact_fit_panel(contact: Contact) -> dict[str, Any]:
    return {"explanations": contact_fit_explain(contact)}
