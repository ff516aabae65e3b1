"""Why a contact has its score, in words a salesperson reads in ten seconds.

The rule lines and the score are the stored per-rule contributions decayed to now (what the
contacts list and the MQL decision use). The top events are recomputed per event from the
contact's events with the engine's own SQL, cap and decay, so they add up to the rule lines
(until a rule is changed and scores are not yet recomputed). The contact page, the HTML
JSON view and the API all take ``score_explanation_data`` of ``contact_score_explain``.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from renkei.contacts.models import Contact
from renkei.events.models import Event, EventType
from renkei.personas.selectors import FitExplanation, contact_fit_explain
from renkei.scoring import engine
from renkei.scoring.models import EngagementRule
from renkei.scoring.selectors import RuleContribution, contact_engagement_explain

TOP_EVENTS = 5
SUMMARY_RULES = 3  # rules named in the sentence
LABEL_MAX = 80
# Event properties that name what happened, most telling first: a page title, an email
# subject, a form, a webinar, a trade show; the URL's path when none of these is there.
LABEL_KEYS = ("title", "subject", "form_name", "form", "webinar", "show", "name")


@dataclass(frozen=True)
class EventContribution:
    """One event and the points it gives now (summed over the rules it counts in)."""

    event_id: int
    type: str
    type_label: str
    occurred_at: datetime
    label: str
    points: float
    rules: list[str]


@dataclass(frozen=True)
class ScoreExplanation:
    contact_id: int
    score: int
    summary: str
    rules: list[RuleContribution]
    top_events: list[EventContribution]
    personas: list[FitExplanation]


@dataclass
class EventPoints:
    """Per event row of one contact (sorted by time, id): its id and epoch second, and per
    rule the rows that count and the points each gives now."""

    event_ids: np.ndarray
    seconds: np.ndarray
    by_rule: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def totals(self) -> np.ndarray:
        total = np.zeros(len(self.event_ids))
        for rows, points in self.by_rule.values():
            np.add.at(total, rows, points)
        return total


def contact_score_explain(contact: Contact, now: datetime | None = None) -> ScoreExplanation:
    """The score now, each rule's share, the events that count most and the persona fits,
    with a one-sentence summary in the active language. A fixed number of queries."""
    now = now or timezone.now()
    lines = contact_engagement_explain(contact.pk, now=now)
    score = _round(sum(line.points for line in lines))
    rules = engine.active_rules()
    names = {rule.id: rule.name for rule in rules}
    points = contact_event_points(contact.pk, rules, now=now)
    top = _top_events(points, names)
    personas = contact_fit_explain(contact)
    return ScoreExplanation(
        contact.pk, score, _summary(score, lines, personas), lines, top, personas
    )


def contact_event_points(
    contact_id: int, rules: Sequence[EngagementRule], *, now: datetime
) -> EventPoints:
    """Each event's points per rule now, by the arithmetic of ``engine.contributions``.

    One query: the engine's (rule matching in the database), with the event ids.
    """
    empty = np.zeros(0, dtype=np.int64)
    if not rules:
        return EventPoints(empty, empty)
    specs = engine.rule_specs(rules)
    sql, params = engine.events_query(rules, "contact_id = %s", with_ids=True)
    columns = 3 + -(-len(rules) // engine.RULES_PER_MASK)
    rows = engine.fetch_arrays(sql, [*params, contact_id], columns)
    result = EventPoints(rows[:, -1], rows[:, 1])
    now_s = int(now.timestamp())
    for index, spec in enumerate(specs):
        mask = rows[:, 2 + index // engine.RULES_PER_MASK]
        selected = np.flatnonzero((mask >> (index % engine.RULES_PER_MASK)) & 1)
        if spec.per_day is not None:
            keep = engine._within_daily_cap(rows[selected, 0], rows[selected, 1], spec.per_day)
            selected = selected[keep]
        if not len(selected):
            continue
        weights = np.full(len(selected), float(spec.points))
        if spec.half_life_days:
            age_days = np.maximum(now_s - rows[selected, 1], 0) / engine.DAY_S
            weights *= np.exp2(-age_days / spec.half_life_days)
        result.by_rule[spec.id] = (selected, weights)
    return result


def _top_events(points: EventPoints, names: dict[int, str]) -> list[EventContribution]:
    """The events that move the score most (either way), then the most recent; one query
    for their display fields."""
    totals = points.totals()
    counted = np.flatnonzero(totals != 0)
    # Largest share first (gains and losses alike), then the most recent.
    order = np.lexsort(
        (-points.event_ids[counted], -points.seconds[counted], -np.abs(totals[counted]))
    )
    chosen = counted[order[:TOP_EVENTS]].tolist()
    if not chosen:
        return []
    ids = [int(points.event_ids[row]) for row in chosen]
    events = {
        e.pk: e
        for e in Event.objects.filter(id__in=ids)
        .select_related("campaign")
        .only("id", "type", "occurred_at", "properties", "campaign__name")
    }
    out = []
    for row, event_id in zip(chosen, ids, strict=True):
        event = events.get(event_id)
        if event is None:  # erased meanwhile
            continue
        rules = [names[r] for r, (rows, _w) in points.by_rule.items() if row in rows]
        out.append(
            EventContribution(
                event_id,
                event.type,
                _type_label(event.type),
                event.occurred_at,
                event_label(event),
                float(totals[row]),
                rules,
            )
        )
    return out


def event_label(event: Event) -> str:
    """A few words saying what the event was: its title, subject, form, webinar …, else the
    URL's path, else its campaign."""
    props = event.properties if isinstance(event.properties, dict) else {}
    text = next((str(props[k]) for k in LABEL_KEYS if str(props.get(k) or "").strip()), "")
    if not text and isinstance(props.get("url"), str) and props["url"].strip():
        parts = urlsplit(props["url"].strip())
        text = parts.path or parts.netloc or props["url"]
    if not text and event.campaign_id:
        text = event.campaign.name if event.campaign else ""
    text = " ".join(text.split())
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _type_label(value: str) -> str:
    return str(EventType(value).label) if value in EventType.values else value


def _round(value: float) -> int:
    """Half away from zero, as ``engine.Contributions.scores`` rounds."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _signed(value: float) -> str:
    return f"{_round(value):+d}".replace("-", "−")


def _summary(score: int, lines: list[RuleContribution], personas: list[FitExplanation]) -> str:
    shown = lines[:SUMMARY_RULES]  # largest share first; decayed ones show as +0
    if shown:
        parts = [
            ngettext(
                "%(rule)s %(count)d time (%(points)s)",
                "%(rule)s %(count)d times (%(points)s)",
                line.events,
            )
            % {"rule": line.rule_name, "count": line.events, "points": _signed(line.points)}
            for line in shown
        ]
        sentence = ngettext(
            "Engagement %(score)d point: %(rules)s.",
            "Engagement %(score)d points: %(rules)s.",
            abs(score),
        ) % {"score": score, "rules": pgettext("list separator", ", ").join(parts)}
    else:
        sentence = ngettext(
            "Engagement %(score)d point: no scored activity yet.",
            "Engagement %(score)d points: no scored activity yet.",
            abs(score),
        ) % {"score": score}
    best = personas[0] if personas else None
    if best is None:
        return sentence
    if best.fit > 0:
        fit = _("Best-fitting persona “%(persona)s” (fit %(fit)d).") % {
            "persona": best.persona,
            "fit": best.fit,
        }
    else:
        fit = _("No persona fits yet.")
    # Japanese runs sentences on without a space, English puts one between.
    return pgettext("two sentences", "%(first)s %(second)s") % {"first": sentence, "second": fit}


def score_explanation_data(explanation: ScoreExplanation) -> dict[str, Any]:
    """The explanation as the API and explain.json answer it (one serializer for both)."""
    return {
        "contact_id": explanation.contact_id,
        "score": explanation.score,
        "summary": explanation.summary,
        "rules": [
            {
                "rule_id": line.rule_id,
                "rule": line.rule_name,
                "events": line.events,
                "points": round(line.points, 2),
            }
            for line in explanation.rules
        ],
        "top_events": [
            {
                "event_id": event.event_id,
                "type": event.type,
                "type_label": event.type_label,
                "occurred_at": event.occurred_at,
                "label": event.label,
                "points": round(event.points, 2),
                "rules": event.rules,
            }
            for event in explanation.top_events
        ],
        "personas": [
            {
                "persona": fit.persona,
                "version": fit.version,
                "fit": fit.fit,
                "met": fit.met,
                "missed": fit.missed,
            }
            for fit in explanation.personas
        ],
    }
