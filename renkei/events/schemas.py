"""Request and response shapes of the events API."""

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_.:-]{0,63}$"


class IdentityIn(BaseModel):
    """Who the event is about: an email, a contact id or a visitor id (at least one)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=254)
    contact_id: int | None = Field(None, ge=1)
    visitor_id: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def one_identity(self) -> "IdentityIn":
        if not (self.email or self.contact_id or self.visitor_id):
            raise ValueError("give email, contact_id or visitor_id")
        return self


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_event_id: str = Field(
        min_length=1, max_length=128, description="The sender's id; a replay is a duplicate."
    )
    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="page_view, form_submit, …")
    occurred_at: AwareDatetime = Field(description="ISO 8601 with a time-zone offset")
    properties: dict[str, Any] = Field(default_factory=dict)
    identity: IdentityIn
    campaign_id: int | None = Field(None, ge=1)


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class RejectedEventOut(BaseModel):
    index: int = Field(description="Position of the event in the batch, from 0")
    client_event_id: str | None
    field: str = Field(description="The field that was wrong, e.g. identity.email")
    message: str


class EventBatchOut(BaseModel):
    accepted: int
    duplicate: int
    rejected: list[RejectedEventOut]


class ErrorOut(BaseModel):
    detail: Any
