"""Reads of the event log: the shared timeline of a contact.

The timeline interleaves two append-only tables, events and lifecycle transitions, newest
first. Each is read with its own (contact, occurred_at) index, at most ``limit + 1`` rows,
and the two sorted lists are merged in memory: two queries whatever the history's length.
"""

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from renkei.contacts.models import LifecycleTransition
from renkei.events.models import Event, EventType

EVENT, TRANSITION = "event", "transition"
# At the same instant a transition sorts above the events (it is usually their result).
_RANK = {EVENT: 0, TRANSITION: 1}
_EVENT_LABELS = {
    **dict(EventType.choices),
    # Recorded by tracked links (renkei.tracking); not a built-in type of the API.
    "link_click": _("Link click"),
}
# Properties shown as the body of a logged activity rather than as key/value details.
BODY_KEYS = ("body", "logged_by")
# What a form submission records besides the answers (renkei.capture).
_FORM_CONTEXT_KEYS = frozenset(
    {"form_id", "form_name", "language", "page_url", "url", "referrer", "title"}
)
_UTM_PREFIX = "utm_"


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """A position in a timeline: everything strictly older than this item comes next.

    Time alone is not a position: a batch of events often shares one timestamp, so the
    kind and the id break ties and no item is skipped or shown twice across pages.
    """

    occurred_at: datetime
    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.occurred_at.isoformat()}~{self.kind}~{self.id}"

    @classmethod
    def parse(cls, value: str) -> "TimelineCursor":
        """The cursor from its ``str()``; ValueError when it is not one."""
        time_text, kind, id_text = value.split("~")
        occurred_at = datetime.fromisoformat(time_text)
        if occurred_at.tzinfo is None or kind not in _RANK:
            raise ValueError(f"not a timeline cursor: {value!r}")
        return cls(occurred_at, kind, int(id_text))

    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.occurred_at, _RANK[self.kind], self.id)


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of the timeline: an event or a transition (the other is None)."""

    kind: str
    occurred_at: datetime
    id: int
    event: Event | None = None
    transition: LifecycleTransition | None = None

    @property
    def cursor(self) -> TimelineCursor:
        return TimelineCursor(self.occurred_at, self.kind, self.id)

    @property
    def label(self) -> str:
        """The event type's display name (custom types show their slug)."""
        if self.event is None:
            return ""
        return str(_EVENT_LABELS.get(self.event.type, self.event.type))

    @property
    def details(self) -> list[tuple[str, str]]:
        """An event's properties as short (key, text) pairs, the body keys left out."""
        return [(str(k), _short(v)) for k, v in self._properties.items() if k not in BODY_KEYS]

    @property
    def _properties(self) -> dict[str, Any]:
        properties = self.event.properties if self.event is not None else None
        return properties if isinstance(properties, dict) else {}

    def _text(self, *keys: str) -> str:
        """The first of ``keys`` the properties hold as text."""
        for key in keys:
            value = self._properties.get(key)
            if isinstance(value, str) and value:
                return value
        return ""

    @property
    def title(self) -> str:
        """A page view's page title."""
        return self._text("title")[:500]

    @property
    def url(self) -> str:
        """The page (or link destination) the event is about, as text."""
        return self._text("url", "page_url")[:2000]

    @property
    def safe_url(self) -> str:
        """``url`` when a browser may follow it (http or https only: never javascript: or
        data:), else "" and the template shows the text without a link."""
        return self.url if _is_web_url(self.url) else ""

    @property
    def referrer(self) -> str:
        return self._text("referrer")[:2000]

    @property
    def utm(self) -> list[tuple[str, str]]:
        """The UTM parameters the event carries (utm_source, utm_campaign, …)."""
        return [
            (k, _short(v)) for k, v in self._properties.items() if k.startswith(_UTM_PREFIX) and v
        ]

    @property
    def form_fields(self) -> list[tuple[str, str]]:
        """A form submission's answers (the submitted fields), without its context."""
        return [
            (str(k), _short(v))
            for k, v in self._properties.items()
            if k not in _FORM_CONTEXT_KEYS and not k.startswith(_UTM_PREFIX)
        ]

    @property
    def visitor_key(self) -> str:
        """The tracked browser the event came from ("" when none)."""
        visitor = self.event.visitor if self.event is not None else None
        return visitor.key if visitor is not None else ""

    @property
    def stitched(self) -> bool:
        """True when the event was recorded for an anonymous visitor and joined the contact
        when that visitor identified itself (received before the identification)."""
        visitor = self.event.visitor if self.event is not None else None
        if self.event is None or visitor is None or visitor.identified_at is None:
            return False
        return self.event.received_at < visitor.identified_at


def _short(value: Any) -> str:
    return str(value)[:200]


def _is_web_url(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: TimelineCursor | None  # None on the last page


def _older_than(cursor: TimelineCursor | None, kind: str) -> Q:
    """Rows of ``kind`` that sort strictly after the cursor, in (time, rank, id) order."""
    if cursor is None:
        return Q()
    rank, cursor_rank = _RANK[kind], _RANK[cursor.kind]
    if rank < cursor_rank:
        return Q(occurred_at__lte=cursor.occurred_at)
    if rank > cursor_rank:
        return Q(occurred_at__lt=cursor.occurred_at)
    return Q(occurred_at__lt=cursor.occurred_at) | Q(
        occurred_at=cursor.occurred_at, id__lt=cursor.id
    )


def _newest(qs: QuerySet[Any], cursor: TimelineCursor | None, kind: str, limit: int) -> list[Any]:
    return list(qs.filter(_older_than(cursor, kind)).order_by("-occurred_at", "-id")[:limit])


def contact_timeline(
    contact_id: int, before: TimelineCursor | None = None, limit: int = 50
) -> TimelinePage:
    """A contact's events and stage transitions, newest first, ``limit`` per page."""
    events = _newest(
        Event.objects.filter(contact_id=contact_id).select_related("campaign", "visitor"),
        before,
        EVENT,
        limit + 1,
    )
    transitions = _newest(
        LifecycleTransition.objects.filter(contact_id=contact_id).select_related("actor"),
        before,
        TRANSITION,
        limit + 1,
    )
    merged = heapq.merge(
        (TimelineItem(EVENT, e.occurred_at, e.pk, event=e) for e in events),
        (TimelineItem(TRANSITION, t.occurred_at, t.pk, transition=t) for t in transitions),
        key=lambda item: item.cursor.sort_key(),
        reverse=True,
    )
    items = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    if len(items) > limit:
        items = items[:limit]
        return TimelinePage(items, items[-1].cursor)
    return TimelinePage(items, None)
