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

from renkei.contacts.models import LifecycleTransition
from renkei.events.models import Event, EventType

EVENT, TRANSITION = "event", "transition"
# At the same instant a transition sorts above the events (it is usually their result).
_RANK = {EVENT: 0, TRANSITION: 1}
_EVENT_LABELS = dict(EventType.choices)
# Properties shown as the body of a logged activity rather than as key/value details.
BODY_KEYS = ("body", "logged_by")


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
        properties = self.event.properties if self.event is not None else None
        if not isinstance(properties, dict):
            return []
        return [(str(k), str(v)[:200]) for k, v in properties.items() if k not in BODY_KEYS]


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
        Event.objects.filter(contact_id=contact_id).select_related("campaign"),
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
