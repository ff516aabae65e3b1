"""Two-sided approval: a version that marketing and sales each approve, by two different
people (shared personas, the SLA). Each app names which roles may sign for each side."""

from collections.abc import Collection, Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from renkei.accounts.roles import user_role
from renkei.accounts.services import Actor

MARKETING_SIDE, SALES_SIDE = "marketing", "sales"
SIDE_LABELS = {MARKETING_SIDE: _lazy("Marketing"), SALES_SIDE: _lazy("Sales")}


def approval_side_check(
    *,
    side: str,
    actor: Actor,
    side_roles: Mapping[str, Collection[str]],
    approved_by_marketing_id: int | None,
    approved_by_sales_id: int | None,
) -> None:
    """Refuse an approval of ``side`` by ``actor`` that the rules do not allow: an unknown
    side, nobody signed in, a role that may not sign for that side, or the person who
    already approved the other side."""
    if side not in side_roles:
        raise ValidationError({"side": _("Unknown approval side.")})
    if actor is None or not actor.is_authenticated:
        raise ValidationError(_("Only a signed-in user can approve."))
    if user_role(actor) not in side_roles[side]:
        raise ValidationError(
            _("Your role cannot approve for %(side)s.") % {"side": SIDE_LABELS[side]}
        )
    other = approved_by_sales_id if side == MARKETING_SIDE else approved_by_marketing_id
    if other == actor.pk:
        raise ValidationError(
            _("You already approved the other side; a different person must approve this one.")
        )
