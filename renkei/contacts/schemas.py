"""Request and response shapes of the contacts and companies API.

The schemas carry every limit a client can know in advance (lengths, enums, id ranges),
so the OpenAPI document says what is accepted; what depends on the data (a phone
number's range, an unknown company id, a stage moving backwards) is checked by the
services and answered with an error naming the field.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field

from renkei.contacts.models import Industry, LifecycleStage
from renkei.lib.japanese import PREFECTURES

MAX_ID = 2**63 - 1  # BIGINT; larger ids overflow SQLite's integers
SCORE_BOUND = 2**31 - 1  # Contact.score is an IntegerField

_PREFECTURE_NAMES = ["", *PREFECTURES, *(p[:-1] for p in PREFECTURES if p != "北海道")]


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_text(value: Any) -> Any:
    # pydantic would also read 0.5 or 1700000000 as Unix times; the API promises RFC 3339.
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("an ISO 8601 time with a time zone, e.g. 2026-04-01T09:00:00+09:00")
    return value


def _not_bool(value: Any) -> Any:
    # JSON true is not the integer 1.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def _utc_representable(value: datetime) -> datetime:
    # 9999-12-31T23:00:00-05:00 is a valid RFC 3339 time that no database can store.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range (years 1 to 9999 in UTC)") from None
    return value


# Field before the validator: pydantic then publishes the bounds as minimum / maximum.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_not_bool)]
IdOrZero = Annotated[int, Field(ge=0, le=MAX_ID)]
Count = Annotated[int, Field(ge=0, le=SCORE_BOUND), BeforeValidator(_not_bool)]
Score = Annotated[int, Field(ge=-SCORE_BOUND, le=SCORE_BOUND)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_utc_representable)]
Stage = Annotated[
    str, Field(max_length=16, json_schema_extra={"enum": list(LifecycleStage.values)})
]
Prefecture = Annotated[
    str,
    Field(
        max_length=32,
        description="Full name (東京都) or without its suffix (東京); also Hepburn (Tokyo).",
        json_schema_extra={"enum": _PREFECTURE_NAMES},
    ),
]
IndustryName = Annotated[
    str, Field(max_length=32, json_schema_extra={"enum": ["", *Industry.values]})
]
Email = Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"})]
Phone = Annotated[
    str,
    Field(
        max_length=64,
        description="A Japanese number (03-1234-5678, ０９０…) or +country…; stored as E.164.",
    ),
]
Properties = Annotated[
    dict[str, Any], Field(description="Custom properties: a JSON object of at most 64 KB.")
]


def _text(max_length: int, description: str = "") -> Any:
    return Field("", max_length=max_length, description=description or None)


class ErrorOut(Schema):
    """An error: a message, or a list of ``{loc, msg}`` naming each bad field."""

    detail: Any


# ---- shared pieces ---------------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str


class CompanyRef(Schema):
    id: int
    name: str


class _PageQuery(Schema):
    cursor: str | None = Field(
        None,
        pattern=r"^[1-9][0-9]{0,17}$",
        description="next_cursor of the previous page; omit for the first page.",
    )
    limit: int = Field(50, ge=1, le=200)


# ---- contacts --------------------------------------------------------------------------


class _ContactFields(Schema):
    model_config = ConfigDict(extra="forbid")

    family_name: str = _text(100, "姓")
    given_name: str = _text(100, "名")
    family_name_kana: str = _text(100, "セイ (hiragana and half-width kana are converted)")
    given_name_kana: str = _text(100, "メイ")
    company_id: Id | None = Field(None, description="An existing company; null for none.")
    company_name: str = _text(200, "Find the company by this name, or create it.")
    company_domain: str = _text(200, "Find the company by this domain first.")
    department: str = _text(200)
    title: str = _text(200)
    phone: Phone = ""
    prefecture: Prefecture = ""
    properties: Properties = Field(default_factory=dict)
    lifecycle_stage: Stage | None = None
    reason: str = _text(2000, "Why the stage changes; required when it moves backwards.")
    owner_id: Id | None = Field(None, description="The owning user (needs assign_owner).")


class ContactIn(_ContactFields):
    """Create or fill in the contact with this email (matched after normalisation)."""

    email: Email
    source: str = _text(64, "Where the contact came from (kept from the first time).")


class ContactPatch(_ContactFields):
    """Only the fields sent change. ``owner_id: null`` removes the owner."""

    email: Email = ""


class ContactOut(Schema):
    id: int
    email: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    full_name: str
    full_name_kana: str
    company: CompanyRef | None
    department: str
    title: str
    phone: str = Field(description="E.164, e.g. +81312345678")
    prefecture: str
    owner: UserRef | None
    lifecycle_stage: Stage
    lifecycle_stage_changed_at: datetime | None
    score: int
    source: str
    properties: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None


class ContactUpsertOut(Schema):
    created: bool = Field(description="true: a new contact (201); false: updated (200)")
    contact: ContactOut


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactListQuery(_PageQuery):
    stage: list[Stage] = Field(default_factory=list, description="Repeat for several.")
    owner_id: IdOrZero | None = Field(None, description="0: contacts without owner")
    company_id: Id | None = None
    score_min: Score | None = None
    score_max: Score | None = None
    created_from: Moment | None = Field(None, description="Created at or after (ISO 8601).")
    created_to: Moment | None = Field(None, description="Created before (ISO 8601).")
    q: str = Field("", max_length=200, description="Names, kana, email or company name.")


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    other_id: Id = Field(description="The contact merged into this one, then deleted.")


class TransitionOut(Schema):
    id: int
    from_stage: str
    to_stage: Stage
    occurred_at: datetime
    actor: UserRef | None
    reason: str
    source: str


# ---- companies -------------------------------------------------------------------------


class _CompanyFields(Schema):
    model_config = ConfigDict(extra="forbid")

    name_kana: str = _text(200)
    domain: str = _text(200, "example.co.jp, a URL or an email address")
    industry: IndustryName = ""
    employee_count: Count | None = None
    prefecture: Prefecture = ""
    address: str = _text(300)
    phone: Phone = ""
    owner_id: Id | None = Field(None, description="The owning user (needs assign_owner).")


class CompanyIn(_CompanyFields):
    """Create or fill in the company with this domain, else this normalised name."""

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")


class CompanyPatch(_CompanyFields):
    """Only the fields sent change. ``owner_id: null`` removes the owner."""

    name: str = Field("", min_length=1, max_length=200, pattern=r"\S")


class CompanyOut(Schema):
    id: int
    name: str
    name_kana: str
    domain: str
    industry: str
    employee_count: int | None
    prefecture: str
    address: str
    phone: str
    owner: UserRef | None
    created_at: datetime
    updated_at: datetime


class CompanyUpsertOut(Schema):
    created: bool = Field(description="true: a new company (201); false: updated (200)")
    company: CompanyOut


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class CompanyListQuery(_PageQuery):
    q: str = Field("", max_length=200, description="Name (normalised) or domain.")
    industry: IndustryName = ""
    prefecture: Prefecture = ""
    owner_id: IdOrZero | None = Field(None, description="0: companies without owner")
