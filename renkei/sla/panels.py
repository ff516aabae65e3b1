"""The SLA card on the contact page: the clocks of the contact's latest assignments, with
the business hours left on open ones (registered in ``SlaConfig.ready``)."""

from typing import Any

from django.utils import timezone

from renkei.contacts.models import Contact
from renkei.sla.calendar import business_between
from renkei.sla.selectors import calendar_get, contact_clocks

SHOWN = 9  # three assignments' worth


def contact_sla_panel(contact: Contact) -> dict[str, Any]:
    clocks = list(contact_clocks(contact.pk)[:SHOWN])
    if not clocks:
        return {"sla_clocks": []}
    now = timezone.now()
    spec = calendar_get().spec()
    rows = []
    for clock in clocks:
        left = None
        if clock.is_open:
            left = round(business_between(spec, now, clock.due_at), 1)
        rows.append({"clock": clock, "hours_left": left})
    return {"sla_clocks": rows}
