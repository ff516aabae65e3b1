"""``/api/v1/contacts/{contact_id}/score-explanation``: why a contact has its score.

The same explanation as the contact page and ``/scoring/contacts/<id>/explain.json``
(``renkei.scoring.explain``). Needs ``contacts.view_contact`` (every role has it).
"""

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router
from ninja.errors import HttpError

from renkei.api import require_perm
from renkei.contacts.models import Contact
from renkei.contacts.schemas import MAX_ID, ErrorOut
from renkei.scoring.explain import contact_score_explain, score_explanation_data
from renkei.scoring.schemas import ScoreExplanationOut

router = Router(tags=["scoring"])


@router.get(
    "/{contact_id}/score-explanation",
    response={200: ScoreExplanationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Why this score",
)
def contact_score_explanation(
    request: HttpRequest, contact_id: int = Path(..., ge=1, le=MAX_ID)
) -> Any:
    """The engagement score now (decayed), a one-sentence summary in the language of
    ``Accept-Language`` (Japanese by default), each rule's events and points, the five
    events that move the score most, and the fit to each active persona with the criteria
    met and missed."""
    require_perm(request, "contacts.view_contact")
    contact = Contact.objects.only("id").filter(pk=contact_id).first()
    if contact is None:
        raise HttpError(404, f"contact_id: no contact with id {contact_id}")
    return score_explanation_data(contact_score_explain(contact))
