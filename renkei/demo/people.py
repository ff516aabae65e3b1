"""Contacts of the demo data set with their stage history, visitors and a year of events.

Generated in blocks of rows ready for a bulk insert: the caller owns ids and the database,
this module owns plausibility. Every number comes from the ``random.Random`` passed in,
so a block is a pure function of its seed.
"""

import math
import random
from dataclasses import dataclass, field

import orjson

from renkei.contacts.models import LifecycleStage as S
from renkei.demo import vocabulary as v
from renkei.demo.world import (
    HOUR,
    PREFECTURE_CUM,
    PREFECTURES,
    Calendar,
    CampaignInfo,
    Campaigns,
    Companies,
    TimeFormat,
    landline,
    mobile,
    pick,
    weighted_cum,
)
from renkei.lib import japanese as ja

# Current stage of a contact (share in %): a wide top of the funnel that narrows, plus
# the contacts that fell out (recycled for later nurture, disqualified).
STAGE_SHARES: tuple[tuple[str, int], ...] = (
    (S.SUBSCRIBER, 12), (S.LEAD, 38), (S.MQL, 12), (S.SAL, 6), (S.SQL, 5),
    (S.OPPORTUNITY, 4), (S.CUSTOMER, 6), (S.RECYCLED, 10), (S.DISQUALIFIED, 7),
)  # fmt: skip
# Engaged contacts leave more events; the mean is rescaled to the requested one.
EVENT_FACTOR: dict[str, float] = {
    S.SUBSCRIBER: 0.5, S.LEAD: 0.7, S.MQL: 1.5, S.SAL: 2.0, S.SQL: 2.5,
    S.OPPORTUNITY: 3.0, S.CUSTOMER: 3.5, S.RECYCLED: 1.2, S.DISQUALIFIED: 0.6,
}  # fmt: skip
# Deep-funnel contacts must have arrived early enough to get there (fraction of the year).
CREATED_BY: dict[str, float] = {S.CUSTOMER: 0.6, S.OPPORTUNITY: 0.75, S.SQL: 0.85, S.SAL: 0.9}
SCORE_BASE: dict[str, int] = {
    S.SUBSCRIBER: 5, S.LEAD: 15, S.MQL: 55, S.SAL: 60, S.SQL: 68,
    S.OPPORTUNITY: 72, S.CUSTOMER: 75, S.RECYCLED: 28, S.DISQUALIFIED: 3,
}  # fmt: skip
OWNED = {S.MQL, S.SAL, S.SQL, S.OPPORTUNITY, S.CUSTOMER}
CLIMB = (S.LEAD, S.MQL, S.SAL, S.SQL, S.OPPORTUNITY, S.CUSTOMER)
CLIMB_REASON = {
    S.LEAD: (v.REASON_LEAD, "system"),
    S.MQL: (v.REASON_MQL, "system"),
    S.SAL: ("", "sales"),
    S.SQL: ("BANT（予算・決裁者・ニーズ・時期）を確認", "sales"),
    S.OPPORTUNITY: ("商談を登録", "sales"),
    S.CUSTOMER: ("受注", "sales"),
}
SOURCE_BY_CHANNEL = {
    "trade_show": "trade_show", "seminar": "seminar", "webinar": "webinar", "web": "web_form",
    "ads": "ads", "email": "newsletter", "referral": "referral", "other": "other", "": "web_form",
}  # fmt: skip
EMAIL_PATTERNS: tuple[tuple[str, int], ...] = (
    ("{g}.{f}", 30), ("{f}.{g}", 20), ("{gi}.{f}", 15), ("{f}-{gi}", 8), ("{f}", 5),
    ("{f}{gi}", 10), ("{f}_{g}", 12),
)  # fmt: skip
# Event mixes: marketing touches for everyone; calls, meetings and notes once a rep owns
# the contact.
MARKETING_MIX = (
    ("page_view", 50), ("email_open", 25), ("email_click", 9), ("form_submit", 6),
    ("webinar_attended", 3), ("trade_show_visit", 2),
)  # fmt: skip
SALES_MIX = (
    *MARKETING_MIX[:4], ("webinar_attended", 3), ("trade_show_visit", 1),
    ("call", 14), ("email_sent", 8), ("meeting", 6), ("note", 6),
)  # fmt: skip
SALES_TYPES = {"call", "email_sent", "meeting", "note"}
FIRST_TOUCH_TYPE = {
    "trade_show": "trade_show_visit", "webinar": "webinar_attended", "email": "email_click",
}  # fmt: skip
ANONYMOUS_VISITORS_PER_CONTACT = 0.1
MAX_EVENTS_PER_CONTACT = 400
EVENT_SIGMA = 1.0

CONTACT_COLUMNS = (
    "id", "email", "email_normalized", "family_name", "given_name", "family_name_kana",
    "given_name_kana", "company_id", "department", "title", "phone", "prefecture", "owner_id",
    "lifecycle_stage", "lifecycle_stage_changed_at", "last_activity_at",
    "first_campaign_id", "source", "properties", "search_text", "created_at", "updated_at",
)  # fmt: skip
SCORE_COLUMNS = ("contact_id", "score")
TRANSITION_COLUMNS = (
    "contact_id", "from_stage", "to_stage", "occurred_at", "actor_id", "reason", "source",
)  # fmt: skip
VISITOR_COLUMNS = ("id", "key", "created_at", "identified_at", "contact_id")
EVENT_COLUMNS = (
    "client_event_id", "type", "occurred_at", "received_at", "contact_id", "visitor_id",
    "campaign_id", "properties",
)  # fmt: skip

Row = tuple[object, ...]


@dataclass
class Block:
    """Rows of one block of contacts, in insert order (parents before children)."""

    contacts: list[Row] = field(default_factory=list)
    scores: list[Row] = field(default_factory=list)
    transitions: list[Row] = field(default_factory=list)
    visitors: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)


@dataclass(slots=True)
class Activity:
    """What the contact row needs to know about its events."""

    count: int
    last: int | None
    first_page_view: int | None


@dataclass
class Actors:
    """User ids that act in the demo: the marketer and the sales reps."""

    marketing_id: int | None
    sales_ids: list[int]


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _cum(pairs: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], list[float]]:
    return tuple(p[0] for p in pairs), weighted_cum([p[1] for p in pairs])


class PropertyPools:
    """Pre-serialised event properties: drawing a ready JSON string per event keeps
    10 million events affordable, and a few hundred variants still read as real."""

    def __init__(self, rng: random.Random, campaigns: Campaigns) -> None:
        site = v.SELLER_SITE
        self.page_view = [
            _json({"url": site + path, "title": title, **({"referrer": ref} if ref else {})})
            for path, title in v.SITE_PAGES
            for ref in v.REFERRERS
        ]
        self.form_submit = {
            form: _json({"form": form, "url": f"{site}/contact/"}) for form in v.FORMS
        }
        self.seminar_form = _json({"form": "セミナー申込", "url": f"{site}/seminar/"})
        self.email_open = {
            c.id: _json({"subject": c.name, "utm_campaign": c.slug})
            for c in campaigns.by_channel.get("email", [])
        }
        self.email_click = {
            c.id: [
                _json({"subject": c.name, "url": site + path, "utm_campaign": c.slug})
                for path, _ in v.SITE_PAGES[:8]
            ]
            for c in campaigns.by_channel.get("email", [])
        }
        self.webinar = {
            c.id: [_json({"webinar": c.name, "minutes": m}) for m in (15, 30, 45, 55, 60)]
            for c in campaigns.by_channel.get("webinar", [])
        }
        self.trade_show = {
            c.id: [
                _json({"show": c.name, "booth": f"小間 {hall}-{rng.randrange(1, 60)}"})
                for hall in range(1, 7)
            ]
            for c in campaigns.by_channel.get("trade_show", [])
        }
        self.call = [
            _json({"outcome": o, "duration_s": 0 if o != "接続" else rng.randrange(60, 1500)})
            for o in v.CALL_OUTCOMES
            for _ in range(4)
        ]
        self.meeting = [
            _json({"subject": s, "place": p, "minutes": rng.choice((30, 45, 60, 90))})
            for s in v.MEETING_SUBJECTS
            for p in v.MEETING_PLACES
        ]
        self.note = [_json({"text": text}) for text in v.NOTES]
        self.email_sent = [_json({"subject": s}) for s in v.SALES_EMAIL_SUBJECTS]
        self.by_sales_type = {
            "call": self.call,
            "email_sent": self.email_sent,
            "meeting": self.meeting,
            "note": self.note,
        }
        self.deal_properties = [
            _json({"budget": b, "timeline": t}) for b in v.BUDGETS for t in v.TIMELINES
        ]


class PeopleGenerator:
    """Blocks of contacts for one world (calendar, companies, campaigns, users)."""

    def __init__(
        self,
        *,
        calendar: Calendar,
        fmt: TimeFormat,
        companies: Companies,
        campaigns: Campaigns,
        actors: Actors,
        pools: PropertyPools,
        events_per_contact: float,
        taken_emails: set[str],
    ) -> None:
        self.calendar, self.fmt, self.companies, self.campaigns = (
            calendar,
            fmt,
            companies,
            campaigns,
        )
        self.actors, self.pools, self.used_emails = actors, pools, taken_emails
        self.events_per_contact = events_per_contact
        self.surnames_cum = weighted_cum([n[3] for n in v.SURNAMES])
        self.male_cum = weighted_cum([n[3] for n in v.MALE_GIVEN_NAMES])
        self.female_cum = weighted_cum([n[3] for n in v.FEMALE_GIVEN_NAMES])
        self.departments = _cum(v.DEPARTMENTS)
        self.titles = _cum(v.TITLES)
        self.patterns = _cum(EMAIL_PATTERNS)
        self.stages = _cum(STAGE_SHARES)
        self.first_touch = _cum(v.FIRST_TOUCH)
        self.marketing_mix = _cum(MARKETING_MIX)
        self.sales_mix = _cum(SALES_MIX)
        self.event_mu = self._event_mu()
        self.promo = campaigns.by_channel.get("web", []) + campaigns.by_channel.get("ads", [])

    def _event_mu(self) -> float:
        """The log-normal mean that makes contacts average the requested event count
        (anonymous visitors' page views take their share first)."""
        total = sum(share for _, share in STAGE_SHARES)
        mean_factor = sum(EVENT_FACTOR[s] * share for s, share in STAGE_SHARES) / total
        per_contact = max(self.events_per_contact - ANONYMOUS_VISITORS_PER_CONTACT * 2.5, 0.5)
        return math.log(per_contact / mean_factor) - EVENT_SIGMA**2 / 2

    # ---- one block -----------------------------------------------------------------

    def block(
        self, rng: random.Random, *, first_contact_id: int, count: int, first_visitor_id: int
    ) -> Block:
        block = Block()
        next_visitor = first_visitor_id
        for contact_id in range(first_contact_id, first_contact_id + count):
            next_visitor = self._contact(rng, block, contact_id, next_visitor)
        if self.events_per_contact > 0:
            for _ in range(int(count * ANONYMOUS_VISITORS_PER_CONTACT)):
                self._anonymous_visitor(rng, block, next_visitor)
                next_visitor += 1
        return block

    def _contact(self, rng: random.Random, block: Block, contact_id: int, visitor_id: int) -> int:
        """Append one contact and its rows; returns the next free visitor id."""
        stage = pick(rng, *self.stages)
        channel, campaign, created = self._first_touch(rng, stage)
        path = self._stage_path(rng, stage)
        times = self._path_times(rng, created, len(path))
        owner = rng.choice(self.actors.sales_ids) if self.actors.sales_ids else None
        owner_since = next(
            (t for (s, _, _), t in zip(path, times, strict=True) if s in OWNED), None
        )
        if owner_since is None:
            owner = None
        self._transitions(block, contact_id, path, times, owner)
        activity = self._events(
            rng, block, contact_id, visitor_id, stage, channel, campaign, created, owner_since
        )
        self._contact_row(
            rng, block, contact_id, stage, channel, campaign, created, times[-1], owner, activity
        )
        if activity.first_page_view is None:
            return visitor_id
        # The browser behind the page views, stitched when the contact first identified.
        key = f"{rng.getrandbits(128):032x}"
        first_seen = min(activity.first_page_view, created)
        block.visitors.append(
            (visitor_id, key, self.fmt(first_seen), self.fmt(created), contact_id)
        )
        return visitor_id + 1

    def _first_touch(self, rng: random.Random, stage: str) -> tuple[str, CampaignInfo | None, int]:
        """(channel, campaign, created_at): a dated campaign fixes the day of arrival."""
        limit = max(int(self.calendar.hours * CREATED_BY.get(stage, 1.0)), 2)
        channel = pick(rng, *self.first_touch)
        candidates = [c for c in self.campaigns.by_channel.get(channel, []) if c.first_hour < limit]
        if not candidates:
            return "", None, self.calendar.moment(rng, 0, limit)
        campaign = rng.choice(candidates)
        hi = max(min(campaign.last_hour, limit), campaign.first_hour + 1)
        return channel, campaign, self.calendar.moment(rng, campaign.first_hour, hi)

    def _stage_path(self, rng: random.Random, target: str) -> list[tuple[str, str, str]]:
        """(stage, reason, actor kind) from creation to ``target``, with detours:
        recycled then re-engaged, SAL sent back to marketing, deals postponed."""
        start = S.SUBSCRIBER if target == S.SUBSCRIBER or rng.random() < 0.25 else S.LEAD
        path: list[tuple[str, str, str]] = [(start, "", "system")]
        if target == S.SUBSCRIBER:
            return path
        if target in (S.RECYCLED, S.DISQUALIFIED):
            recycled = target == S.RECYCLED
            top = rng.choice((S.MQL, S.MQL, S.SAL, S.SQL) if recycled else (S.LEAD, S.MQL, S.SAL))
            self._climb(path, top)
            reason = rng.choice(v.REASONS_RECYCLED if recycled else v.REASONS_DISQUALIFIED)
            actor = "marketing" if path[-1][0] in (S.LEAD, S.MQL) else "sales"
            path.append((target, reason, actor))
            return path
        if target in (S.MQL, S.SAL) and rng.random() < 0.12:
            self._climb(path, S.MQL)
            path.append((S.RECYCLED, rng.choice(v.REASONS_RECYCLED), "marketing"))
            path.append((S.MQL, v.REASON_REENGAGED, "system"))
        if CLIMB.index(target) >= CLIMB.index(S.SAL) and rng.random() < 0.08:
            self._climb(path, S.SAL)
            path.append((S.MQL, rng.choice(v.REASONS_SAL_BACK), "sales"))
        if CLIMB.index(target) >= CLIMB.index(S.OPPORTUNITY) and rng.random() < 0.1:
            self._climb(path, S.OPPORTUNITY)
            path.append((S.SQL, rng.choice(v.REASONS_OPPORTUNITY_BACK), "sales"))
        self._climb(path, target)
        return path

    @staticmethod
    def _climb(path: list[tuple[str, str, str]], to: str) -> None:
        """Forward one funnel step at a time from the last stage up to ``to``."""
        current = path[-1][0]
        if current in CLIMB:
            start = CLIMB.index(current) + 1
        else:  # a subscriber becomes a lead; a recycled contact re-enters as MQL
            start = 0 if current == S.SUBSCRIBER else CLIMB.index(S.MQL)
        for stage in CLIMB[start : CLIMB.index(to) + 1]:
            path.append((stage, *CLIMB_REASON[stage]))

    def _path_times(self, rng: random.Random, created: int, steps: int) -> list[int]:
        """Creation time, then each later step at a business-like moment, in order."""
        first = self.calendar.hour_of(created) + 1
        later = sorted(self.calendar.moment(rng, first) for _ in range(steps - 1))
        return [created, *(max(t, created + 60 * (i + 1)) for i, t in enumerate(later))]

    def _transitions(
        self,
        block: Block,
        contact_id: int,
        path: list[tuple[str, str, str]],
        times: list[int],
        owner: int | None,
    ) -> None:
        actor_for = {"system": None, "marketing": self.actors.marketing_id, "sales": owner}
        previous = ""
        for (stage, reason, actor), ts in zip(path, times, strict=True):
            source = "system" if actor == "system" else "ui"
            block.transitions.append(
                (contact_id, previous, stage, self.fmt(ts), actor_for[actor], reason, source)
            )
            previous = stage

    def _person(self, rng: random.Random) -> tuple[v.Name, v.Name]:
        family = pick(rng, v.SURNAMES, self.surnames_cum)
        if rng.random() < v.FEMALE_SHARE:
            return family, pick(rng, v.FEMALE_GIVEN_NAMES, self.female_cum)
        return family, pick(rng, v.MALE_GIVEN_NAMES, self.male_cum)

    def _email(self, rng: random.Random, family: v.Name, given: v.Name, domain: str) -> str:
        pattern = pick(rng, *self.patterns)
        local = pattern.format(f=family[2], g=given[2], gi=given[2][0])
        email, n = f"{local}@{domain}", 1
        while email in self.used_emails:  # namesakes at one company: taro.sato2@…
            n += 1
            email = f"{local}{n}@{domain}"
        self.used_emails.add(email)
        return email

    def _contact_row(
        self,
        rng: random.Random,
        block: Block,
        contact_id: int,
        stage: str,
        channel: str,
        campaign: CampaignInfo | None,
        created: int,
        stage_changed: int,
        owner: int | None,
        activity: "Activity",
    ) -> None:
        company = self.companies.pick(rng)
        family, given = self._person(rng)
        email = self._email(rng, family, given, company.domain)
        email_normalized = ja.normalize_email(email)
        roll = rng.random()
        phone = (
            landline(rng, company.area_code) if roll < 0.5 else mobile(rng) if roll < 0.85 else ""
        )
        prefecture = (
            company.prefecture if rng.random() < 0.88 else pick(rng, PREFECTURES, PREFECTURE_CUM)
        )
        score = SCORE_BASE[stage] + min(activity.count // 2, 20) + rng.randrange(-6, 7)
        last_activity = activity.last
        fmt = self.fmt
        # Exactly what contacts.services._search_text builds, so seeded rows are found
        # by the same free-text filter as rows created through the services.
        search = ja.search_text(
            family[0] + given[0], family[1] + given[1], email_normalized, company.name
        )
        properties = (
            rng.choice(self.pools.deal_properties)
            if stage in (S.SQL, S.OPPORTUNITY, S.CUSTOMER)
            else "{}"
        )
        block.contacts.append(
            (
                contact_id, email, email_normalized, family[0], given[0], family[1], given[1],
                company.id, pick(rng, *self.departments), pick(rng, *self.titles), phone,
                prefecture, owner, stage, fmt(stage_changed),
                fmt(last_activity) if last_activity is not None else None,
                campaign.id if campaign else None, SOURCE_BY_CHANNEL[channel], properties, search,
                fmt(created), fmt(max(stage_changed, last_activity or 0)),
            )
        )  # fmt: skip
        # Until the rescore at the end of the seed computes them from the events.
        block.scores.append((contact_id, max(0, min(100, score))))

    # ---- events --------------------------------------------------------------------

    def _event_count(self, rng: random.Random, stage: str) -> int:
        if self.events_per_contact <= 0:
            return 0
        drawn = rng.lognormvariate(self.event_mu, EVENT_SIGMA) * EVENT_FACTOR[stage]
        return max(1, min(MAX_EVENTS_PER_CONTACT, round(drawn)))

    def _events(
        self,
        rng: random.Random,
        block: Block,
        contact_id: int,
        visitor_id: int,
        stage: str,
        channel: str,
        campaign: CampaignInfo | None,
        created: int,
        owner_since: int | None,
    ) -> "Activity":
        """Append the contact's events, numbered in time order."""
        count = self._event_count(rng, stage)
        if count == 0:
            return Activity(0, None, None)
        calendar, pools = self.calendar, self.pools
        lo = calendar.hour_of(created)
        owner_lo = calendar.hour_of(owner_since) if owner_since is not None else None
        types, cum = self.sales_mix if owner_lo is not None else self.marketing_mix
        kinds = rng.choices(types, cum_weights=cum, k=count - 1)
        # Times drawn in two batches (marketing touches after creation, sales activity
        # after the rep took over): the per-event loop below stays cheap.
        sales_count = sum(1 for k in kinds if k in SALES_TYPES)
        times = iter(calendar.moments(rng, lo, count - 1 - sales_count))
        sales_times = iter(calendar.moments(rng, owner_lo or lo, sales_count))
        rand = rng.random
        # (time, type, campaign id, properties, visitor id)
        drawn: list[tuple[int, str, int | None, str, int | None]] = [
            self._first_event(rng, channel, campaign, created)
        ]
        dated: dict[str, list[CampaignInfo]] = {}
        for kind in kinds:
            if kind in SALES_TYPES:
                pool = pools.by_sales_type[kind]
                drawn.append((next(sales_times), kind, None, pool[int(rand() * len(pool))], None))
                continue
            ts = next(times)
            if kind in ("webinar_attended", "trade_show_visit"):
                found = self._dated_event(rng, kind, lo, dated)
                if found is not None:
                    drawn.append(found)
                    continue
                kind = "page_view"
            if kind == "page_view":
                page = pools.page_view[int(rand() * len(pools.page_view))]
                drawn.append((ts, kind, None, page, visitor_id))
            elif kind == "form_submit":
                drawn.append(self._form_event(rng, ts))
            else:
                drawn.append(self._email_event(rng, kind, ts))
        drawn.sort(key=lambda e: e[0])
        fmt = self.fmt
        for k, (ts, kind, campaign_id, props, visitor) in enumerate(drawn):
            at = fmt(ts)  # received_at = occurred_at: the history is imported, not streamed
            block.events.append(
                (
                    f"demo-{contact_id:09d}-{k:03d}",
                    kind,
                    at,
                    at,
                    contact_id,
                    visitor,
                    campaign_id,
                    props,
                )
            )
        first_page_view = next((e[0] for e in drawn if e[4] is not None), None)
        return Activity(len(drawn), drawn[-1][0], first_page_view)

    def _form_event(
        self, rng: random.Random, ts: int
    ) -> tuple[int, str, int | None, str, int | None]:
        """A form sent from a web or ads campaign's landing page while it ran."""
        promo = rng.choice(self.promo) if self.promo else None
        hour = self.calendar.hour_of(ts)
        active = promo if promo and promo.first_hour <= hour < promo.last_hour else None
        form = self.pools.form_submit[rng.choice(v.FORMS)]
        return ts, "form_submit", active.id if active else None, form, None

    def _first_event(
        self, rng: random.Random, channel: str, campaign: CampaignInfo | None, created: int
    ) -> tuple[int, str, int | None, str, int | None]:
        """The touch that created the contact: a booth scan, a webinar, a form…"""
        kind = FIRST_TOUCH_TYPE.get(channel, "form_submit")
        pools, cid = self.pools, campaign.id if campaign else None
        if cid is not None and kind == "trade_show_visit":
            return created, kind, cid, rng.choice(pools.trade_show[cid]), None
        if cid is not None and kind == "webinar_attended":
            return created, kind, cid, rng.choice(pools.webinar[cid]), None
        if cid is not None and kind == "email_click":
            return created, kind, cid, rng.choice(pools.email_click[cid]), None
        if channel == "seminar":
            return created, "form_submit", cid, pools.seminar_form, None
        return created, "form_submit", cid, pools.form_submit[rng.choice(v.FORMS)], None

    def _dated_event(
        self, rng: random.Random, kind: str, lo: int, cache: dict[str, list[CampaignInfo]]
    ) -> tuple[int, str, int | None, str, int | None] | None:
        """A webinar or trade-show visit on the campaign's own days, after creation."""
        if kind not in cache:
            channel = "webinar" if kind == "webinar_attended" else "trade_show"
            cache[kind] = [
                c for c in self.campaigns.by_channel.get(channel, []) if c.first_hour > lo
            ]
        if not cache[kind]:
            return None
        campaign = rng.choice(cache[kind])
        ts = self.calendar.moment(rng, campaign.first_hour, campaign.last_hour)
        pool = self.pools.webinar if kind == "webinar_attended" else self.pools.trade_show
        return ts, kind, campaign.id, rng.choice(pool[campaign.id]), None

    def _email_event(
        self, rng: random.Random, kind: str, ts: int
    ) -> tuple[int, str, int | None, str, int | None]:
        """Newsletter opens and clicks belong to the issue of the month they happen in."""
        month = self.calendar.month_of_hour[self.calendar.hour_of(ts)]
        issue = self.campaigns.newsletter_by_month.get(month)
        if issue is None:
            return ts, "page_view", None, rng.choice(self.pools.page_view), None
        if kind == "email_open":
            return ts, kind, issue.id, self.pools.email_open[issue.id], None
        return ts, kind, issue.id, rng.choice(self.pools.email_click[issue.id]), None

    def _anonymous_visitor(self, rng: random.Random, block: Block, visitor_id: int) -> None:
        """A browser that never identified itself: a few page views, no contact."""
        first = self.calendar.moment(rng)
        later = [first + rng.randrange(30, 3 * 86400) for _ in range(rng.randrange(4))]
        times = sorted(min(t, self.calendar.end - 1) for t in [first, *later])
        block.visitors.append(
            (visitor_id, f"{rng.getrandbits(128):032x}", self.fmt(times[0]), None, None)
        )
        for k, ts in enumerate(times):
            block.events.append(
                (
                    f"demo-v{visitor_id:09d}-{k:02d}", "page_view", self.fmt(ts),
                    self.fmt(ts + 2), None, visitor_id, None, rng.choice(self.pools.page_view),
                )
            )  # fmt: skip


__all__ = ["HOUR", "Actors", "Block", "PeopleGenerator", "PropertyPools"]
