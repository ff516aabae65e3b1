"""Response shapes of the scoring API: why a contact has its score."""

from datetime import datetime

from ninja import Schema


class RuleLineOut(Schema):
    """One rule's share of the score: events counted and points now (decayed)."""

    rule_id: int
    rule: str
    events: int
    points: float


class TopEventOut(Schema):
    """An event that moves the score most, with what it was and its points now."""

    event_id: int
    type: str
    type_label: str
    occurred_at: datetime
    label: str
    points: float
    rules: list[str]


class PersonaFitOut(Schema):
    """The contact's fit to one active persona, with the criteria met and missed."""

    persona: str
    version: int
    fit: int
    met: list[str]
    missed: list[str]


class ScoreExplanationOut(Schema):
    """The score now, a one-sentence summary (in the request's language), each rule's
    share, the top events and the persona fits (best first)."""

    contact_id: int
    score: int
    summary: str
    rules: list[RuleLineOut]
    top_events: list[TopEventOut]
    personas: list[PersonaFitOut]
