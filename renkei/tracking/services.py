"""First-party tracking: batches from the tracking script, tracked links, identity tokens.

Everything is recorded through ``renkei.events.services.events_record``, so tracking shares
the ingestion path's idempotency (client event ids) and its stitching: an item carrying
both a visitor and a contact stitches that visitor, its past joins the contact, and the
contact's first touch becomes the visitor's first page view.

Ids that travel through browsers and emails are signed (``django.core.signing``, one salt
per purpose): a tracked link names its destination, so the click redirect can never be
pointed elsewhere; an identity token names a contact, so nobody can claim to be another.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact
from renkei.contacts.services import UTM_KEYS
from renkei.events.services import EventInput, IngestResult, events_record

LINK_SALT = "renkei.tracking.link"
IDENTITY_SALT = "renkei.tracking.identity"
# A link in an email identifies its reader for this long after the click.
IDENTITY_MAX_AGE = 30 * 24 * 3600
# Query parameters the tracking script reads; never kept in a recorded URL.
IDENTITY_PARAM, VISITOR_PARAM = "_rk", "_rkv"
CLICK_TYPES = ("link_click", "email_click")
URL_MAX = 2000


@dataclass(frozen=True)
class TrackedEvent:
    """One event of a tracking batch, validated (``renkei.tracking.collect``)."""

    id: str
    type: str
    occurred_at: datetime
    url: str = ""
    title: str = ""
    referrer: str = ""
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class TrackedLink:
    """What a tracked link's token carries."""

    url: str
    contact_id: int | None = None
    campaign_id: int | None = None
    event_type: str = "link_click"


# ---- URLs -----------------------------------------------------------------------------


def is_web_url(url: str) -> bool:
    """http(s) with a host: the only URLs Renkei records as pages or redirects to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def url_without_tracking_params(url: str) -> str:
    """The URL without ``_rk`` / ``_rkv``: an identity token must not be stored with a page
    (it would show in reports) and the visitor id is noise."""
    parts = urlsplit(url)
    if IDENTITY_PARAM not in parts.query and VISITOR_PARAM not in parts.query:
        return url
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in (IDENTITY_PARAM, VISITOR_PARAM)
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def utm_of(url: str) -> dict[str, str]:
    """The utm_* parameters of a URL (the first value of each, 200 characters at most)."""
    found: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if key in UTM_KEYS and key not in found and value.strip():
            found[key] = value.strip()[:200]
    return found


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({name: value})))


# ---- identity tokens ------------------------------------------------------------------


def identity_token(*, contact_id: int) -> str:
    """A signed, dated token naming a contact; the tracking script hands it back."""
    return signing.dumps(contact_id, salt=IDENTITY_SALT)


def identity_token_read(token: str) -> int | None:
    """The contact id of a valid token not older than ``IDENTITY_MAX_AGE``, else None."""
    try:
        value = signing.loads(token, salt=IDENTITY_SALT, max_age=IDENTITY_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return value if type(value) is int and value > 0 else None


# ---- tracked links --------------------------------------------------------------------


def tracked_link_url(
    *,
    url: str,
    contact_id: int | None,
    campaign_id: int | None = None,
    base: str = "",
    event_type: str = "link_click",
) -> str:
    """``/t/c/<token>``: a link that records a click, then redirects to ``url``.

    ``base`` (e.g. "https://renkei.example") makes it absolute, as emails need. With a
    contact, the destination receives an identity token (``_rk``) so the tracking script
    there stitches the browser to the contact. ``event_type`` is "link_click" or
    "email_click". ValueError for a URL that is not http(s).
    """
    if not is_web_url(url) or len(url) > URL_MAX:
        raise ValueError(f"not an http(s) URL of at most {URL_MAX} characters: {url!r}")
    if event_type not in CLICK_TYPES:
        raise ValueError(f"event_type must be one of {CLICK_TYPES}")
    payload: dict[str, Any] = {"u": url}
    if contact_id is not None:
        payload["c"] = contact_id
    if campaign_id is not None:
        payload["m"] = campaign_id
    if event_type != "link_click":
        payload["t"] = event_type
    token = signing.dumps(payload, salt=LINK_SALT, compress=True)
    return base.rstrip("/") + reverse("tracking:click", args=[token])


def tracked_link_read(token: str) -> TrackedLink | None:
    """What a tracked link's token carries, or None when it was not signed by us."""
    try:
        payload = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not is_web_url(str(payload.get("u", ""))):
        return None
    contact_id, campaign_id = payload.get("c"), payload.get("m")
    kind = payload.get("t", "link_click")
    return TrackedLink(
        url=payload["u"],
        contact_id=contact_id if type(contact_id) is int else None,
        campaign_id=campaign_id if type(campaign_id) is int else None,
        event_type=kind if kind in CLICK_TYPES else "link_click",
    )


def tracked_link_click(*, link: TrackedLink) -> str:
    """Record the click for the link's contact (if any) and return where to redirect:
    the signed destination, with an identity token for the contact appended."""
    if link.contact_id is None:
        return link.url
    events_record(
        items=[
            EventInput(
                index=0,
                client_event_id=f"click:{uuid.uuid4()}",
                type=link.event_type,
                occurred_at=timezone.now(),
                properties={"url": link.url},
                contact_id=link.contact_id,
                campaign_id=link.campaign_id,
            )
        ],
        actor=None,
    )  # a deleted contact or campaign is rejected there; the visitor is still redirected
    return _with_param(link.url, IDENTITY_PARAM, identity_token(contact_id=link.contact_id))


# ---- collected batches ----------------------------------------------------------------


def tracking_collect(
    *, visitor_id: str, events: list[TrackedEvent], identity: str = ""
) -> IngestResult:
    """Record a tracking script's batch against its visitor.

    UTM parameters are read from each page URL and a page's ``utm_campaign`` names the
    campaign whose ``utm_campaign`` is the same (the oldest one when several share it).
    A valid identity token attaches the batch's first event (the page the tracked link
    opened) to its contact, which stitches the visitor. Client ids are namespaced per
    visitor ("t:<visitor>:<id>"), so they never collide with API ids and a retried
    batch adds nothing.
    """
    properties = [_properties_of(event) for event in events]
    campaigns = _campaigns_by_utm({p["utm_campaign"] for p in properties if "utm_campaign" in p})
    contact_id = _identified_contact(identity)
    items = [
        EventInput(
            index=index,
            client_event_id=f"t:{visitor_id}:{event.id}",
            type=event.type,
            occurred_at=event.occurred_at,
            properties=props,
            visitor_key=visitor_id,
            campaign_id=campaigns.get(props.get("utm_campaign", "")),
            contact_id=contact_id if index == 0 else None,
        )
        for index, (event, props) in enumerate(zip(events, properties, strict=True))
    ]
    return events_record(items=items, actor=None)


def _properties_of(event: TrackedEvent) -> dict[str, Any]:
    """What the event keeps: custom properties, then the page fields and its UTM
    parameters (which custom properties cannot override). Text only, never markup."""
    found: dict[str, Any] = dict(event.properties or {})
    for key in ("url", "title", "referrer", *UTM_KEYS):
        found.pop(key, None)
    url = url_without_tracking_params(event.url) if event.url else ""
    page = {"url": url, "title": event.title, "referrer": event.referrer}
    found.update({k: v for k, v in page.items() if v})
    found.update(utm_of(url))
    return found


def _campaigns_by_utm(names: set[str]) -> dict[str, int]:
    """utm_campaign → campaign id, in one query for the batch."""
    if not names:
        return {}
    found: dict[str, int] = {}
    rows = Campaign.objects.filter(utm_campaign__in=names).order_by("id")
    for name, pk in rows.values_list("utm_campaign", "id"):
        found.setdefault(name, pk)
    return found


def _identified_contact(identity: str) -> int | None:
    """The contact a valid identity token names, if it still exists."""
    if not identity:
        return None
    contact_id = identity_token_read(identity)
    if contact_id is None or not Contact.objects.filter(pk=contact_id).exists():
        return None
    return contact_id
