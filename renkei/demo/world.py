"""The fixed part of a demo data set: the year's calendar, companies and campaigns.

Everything here is generated from a seeded ``random.Random`` and is pure (no database),
so the same seed and the same end date give the same world.
"""

import bisect
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import TypeVar
from zoneinfo import ZoneInfo

import phonenumbers

from renkei.demo import vocabulary as v
from renkei.lib import japanese as ja

T = TypeVar("T")
JST = ZoneInfo("Asia/Tokyo")
HOUR = 3600
DAYS = 365

# Activity by JST hour of day: office hours dominate B2B events; evenings see some
# newsletter opens and page views, nights almost nothing.
_HOUR_WEIGHTS = (
    (0.02,) * 7 + (0.15, 0.5) + (1.0,) * 3 + (0.6,) + (1.0,) * 5 + (0.7, 0.4, 0.25, 0.15)
    + (0.06,) * 2
)  # fmt: skip
_WEEKEND = 0.12
# Japan's long holidays: year-end (12/29–1/3), Golden Week (4/29–5/5), Obon (8/13–16).
_HOLIDAY = 0.15


def _is_long_holiday(day: date) -> bool:
    md = (day.month, day.day)
    return md >= (12, 29) or md <= (1, 3) or (4, 29) <= md <= (5, 5) or (8, 13) <= md <= (8, 16)


@dataclass
class Calendar:
    """The demo year as hours, with cumulative activity weights to draw business-like times.

    ``start`` is the epoch second of JST midnight 365 days before ``until``.
    """

    start: int
    hours: int
    cum: list[float]
    month_of_hour: list[int]
    months: list[tuple[int, int]]  # (year, month) by month index

    @classmethod
    def ending(cls, until: date) -> "Calendar":
        first = until - timedelta(days=DAYS)
        start = int(datetime(first.year, first.month, first.day, tzinfo=JST).timestamp())
        weights: list[float] = []
        month_of_hour: list[int] = []
        months: list[tuple[int, int]] = []
        for offset in range(DAYS):
            day = first + timedelta(days=offset)
            if not months or months[-1] != (day.year, day.month):
                months.append((day.year, day.month))
            factor = _WEEKEND if day.weekday() >= 5 else 1.0
            if _is_long_holiday(day):
                factor = min(factor, _HOLIDAY)
            weights.extend(w * factor for w in _HOUR_WEIGHTS)
            month_of_hour.extend([len(months) - 1] * 24)
        return cls(start, len(weights), [0.0, *accumulate(weights)], month_of_hour, months)

    @property
    def end(self) -> int:
        return self.start + self.hours * HOUR

    def hour(self, rng: random.Random, lo: int = 0, hi: int | None = None) -> int:
        """An hour index in [lo, hi), drawn by activity weight."""
        hi = self.hours if hi is None else hi
        if hi <= lo + 1:
            return lo
        cum = self.cum
        point = cum[lo] + rng.random() * (cum[hi] - cum[lo])
        return min(max(bisect.bisect_right(cum, point) - 1, lo), hi - 1)

    def moment(self, rng: random.Random, lo: int = 0, hi: int | None = None) -> int:
        """An epoch second in the hours [lo, hi)."""
        return self.start + self.hour(rng, lo, hi) * HOUR + int(rng.random() * HOUR)

    def moments(self, rng: random.Random, lo: int, count: int) -> list[int]:
        """``count`` epoch seconds in [lo, end), drawn by activity weight (the hot loop
        of seeding: locals only)."""
        cum, start, last = self.cum, self.start, self.hours - 1
        base = cum[lo]
        span = cum[-1] - base
        rand, bisect_right = rng.random, bisect.bisect_right
        return [
            start
            + min(max(bisect_right(cum, base + rand() * span) - 1, lo), last) * HOUR
            + int(rand() * HOUR)
            for _ in range(count)
        ]

    def hour_of(self, ts: int) -> int:
        return min(max((ts - self.start) // HOUR, 0), self.hours - 1)

    def date_of(self, ts: int) -> date:
        return datetime.fromtimestamp(ts, JST).date()

    def hour_of_date(self, day: date) -> int:
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=JST).timestamp())
        return self.hour_of(midnight)


@dataclass(slots=True)
class CompanyInfo:
    id: int
    name: str
    domain: str
    prefecture: str
    area_code: str
    employees: int


@dataclass(slots=True)
class CampaignInfo:
    id: int
    channel: str
    name: str
    slug: str
    first_hour: int
    last_hour: int  # exclusive


@dataclass
class Companies:
    rows: list[tuple[object, ...]]
    infos: list[CompanyInfo]
    cum: list[float]  # cumulative weights to pick a contact's company (bigger: more contacts)

    def pick(self, rng: random.Random) -> CompanyInfo:
        point = rng.random() * self.cum[-1]
        return self.infos[min(bisect.bisect_right(self.cum, point), len(self.infos) - 1)]


@dataclass
class Campaigns:
    rows: list[tuple[object, ...]]
    infos: list[CampaignInfo]
    by_channel: dict[str, list[CampaignInfo]] = field(default_factory=dict)
    newsletter_by_month: dict[int, CampaignInfo] = field(default_factory=dict)


def weighted_cum(weights: list[float] | tuple[float, ...]) -> list[float]:
    return list(accumulate(weights))


def pick(rng: random.Random, items: Sequence[T], cum: list[float]) -> T:
    """``rng.choices(items, cum_weights=cum)[0]`` without building a list."""
    return items[bisect.bisect_right(cum, rng.random() * cum[-1])]


PREFECTURES = tuple(v.PREFECTURE_INFO)
PREFECTURE_CUM = weighted_cum([info[0] for info in v.PREFECTURE_INFO.values()])


@functools.cache
def _assigned_prefixes(lead: str, national_length: int) -> tuple[str, ...]:
    """Up to 40 five-digit starts of Japanese numbers beginning with ``lead`` that
    phonenumbers accepts as assigned ranges (validity is decided by the leading digits),
    so generated numbers pass ``parse_phone`` like numbers typed by users."""
    width = 5 - len(lead)
    candidates = [f"{lead}{n:0{width}d}" for n in range(10**width)]
    random.Random(lead).shuffle(candidates)  # a fixed spread, not the lowest ranges
    found: list[str] = []
    for prefix in candidates:
        number = phonenumbers.parse("+81" + prefix + "2" * (national_length - 5))
        if phonenumbers.is_valid_number(number):
            found.append(prefix)
            if len(found) == 40:
                break
    return tuple(found)


def _number(rng: random.Random, lead: str, national_length: int) -> str:
    prefix = rng.choice(_assigned_prefixes(lead, national_length))
    line = rng.randrange(10 ** (national_length - 5))
    return f"+81{prefix}{line:0{national_length - 5}d}"


def landline(rng: random.Random, area_code: str) -> str:
    """A Japanese landline in E.164: the national number has 9 digits after the 0."""
    return _number(rng, area_code, 9)


def mobile(rng: random.Random) -> str:
    return _number(rng, rng.choice(("90", "80", "70")), 10)


def _company_name(rng: random.Random, industry: str) -> tuple[str, str, str, str]:
    """(display name, kana without the legal form, domain label, place word or "")."""
    stem = rng.choice(v.COMPANY_STEMS)
    suffix = rng.choice(v.INDUSTRY_SUFFIXES[industry])
    place = rng.choice(v.COMPANY_PLACES) if rng.random() < 0.35 else ("", "", "")
    core = place[0] + stem[0] + suffix[0]
    kana = place[1] + stem[1] + suffix[1]
    label = "-".join(p for p in (place[2], stem[2], suffix[2]) if p)
    forms = v.ENTITY_FORMS.get(industry, v.ENTITY_FORMS["default"])
    prefix, tail, _ = rng.choices(forms, weights=[f[2] for f in forms])[0]
    return prefix + core + tail, kana, label, place[0]


_INDUSTRIES = tuple(v.INDUSTRY_WEIGHTS)
_INDUSTRY_CUM = weighted_cum(list(v.INDUSTRY_WEIGHTS.values()))
_SIZE_CUM = weighted_cum([b[2] for b in v.SIZE_BUCKETS])


def build_companies(
    rng: random.Random,
    *,
    count: int,
    first_id: int,
    calendar: Calendar,
    fmt: "TimeFormat",
    sales_ids: list[int],
    taken_domains: set[str],
) -> Companies:
    """``count`` companies with unique names and domains (``taken_domains`` are avoided)."""
    rows: list[tuple[object, ...]] = []
    infos: list[CompanyInfo] = []
    weights: list[float] = []
    names: set[str] = set()
    for i in range(count):
        industry = pick(rng, _INDUSTRIES, _INDUSTRY_CUM)
        for attempt in range(20):
            name, kana, label, place = _company_name(rng, industry)
            if name not in names or attempt == 19:
                break
        zone = v.DOMAIN_ZONES.get(industry, v.DEFAULT_DOMAIN_ZONE)
        domain, n = f"{label}.{zone}", 1
        while domain in taken_domains:
            n += 1
            domain = f"{label}{n}.{zone}"
        names.add(name)
        taken_domains.add(domain)
        low, high, _, contacts_factor = pick(rng, v.SIZE_BUCKETS, _SIZE_CUM)
        employees = int(low * (high / low) ** rng.random())  # log-uniform within the bucket
        # 名古屋〇〇工業 sits in 愛知県; other companies follow where business is.
        prefecture = v.PLACE_PREFECTURE.get(place) or pick(rng, PREFECTURES, PREFECTURE_CUM)
        _, cities, area = v.PREFECTURE_INFO[prefecture]
        town = rng.choice(v.TOWNS)
        address = (
            f"{prefecture}{rng.choice(cities)}{town}"
            f"{rng.randrange(1, 6)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}"
        )
        if employees >= 50:  # larger firms rent floors in office buildings
            address += f" {town}{rng.choice(v.BUILDINGS)} {rng.randrange(2, 15)}F"
        owner = rng.choice(sales_ids) if sales_ids and rng.random() < 0.25 else None
        created = fmt(calendar.start - rng.randrange(0, 700 * 86400))
        company_id = first_id + i
        rows.append(
            (
                company_id, name, kana, ja.normalize_company_name(name), domain, industry,
                employees, prefecture, address, landline(rng, area), owner, created, created,
            )
        )  # fmt: skip
        infos.append(CompanyInfo(company_id, name, domain, prefecture, area, employees))
        weights.append(contacts_factor * (0.5 + rng.random()))
    return Companies(rows, infos, weighted_cum(weights))


COMPANY_COLUMNS = (
    "id", "name", "name_kana", "name_normalized", "domain", "industry", "employee_count",
    "prefecture", "address", "phone", "owner_id", "created_at", "updated_at",
)  # fmt: skip


def _template_start(calendar: Calendar, month: int, day: int, days: int) -> date:
    """The template's date in the demo year (the one occurrence inside the window)."""
    first = calendar.date_of(calendar.start)
    candidate = date(first.year, month, min(day, 28))
    if days >= 365:  # always-on campaigns (SEO, search ads) run the whole demo year
        return first
    if candidate < first:
        candidate = date(first.year + 1, month, min(day, 28))
    return candidate


def build_campaigns(
    rng: random.Random, *, first_id: int, calendar: Calendar, fmt: "TimeFormat"
) -> Campaigns:
    """Every template once in its season, plus one newsletter per month of the year."""
    rows: list[tuple[object, ...]] = []
    campaigns = Campaigns(rows, [])
    last_day = calendar.date_of(calendar.end - 1)
    specs = []
    for channel, name, month, day, days, source, medium, slug, cost in v.CAMPAIGN_TEMPLATES:
        starts = _template_start(calendar, month, day, days)
        specs.append((channel, name, starts, days, source, medium, slug, cost))
    for index, (year, month) in enumerate(calendar.months):
        name = v.NEWSLETTER_NAME.format(year=year, month=month)
        starts = max(date(year, month, 1), calendar.date_of(calendar.start))
        slug = f"newsletter-{index}"
        specs.append(("email", name, starts, 1, "newsletter", "email", slug, v.NEWSLETTER_COST))
    specs.sort(key=lambda s: (s[2], s[1]))
    for offset, (channel, name, starts, days, source, medium, slug, cost) in enumerate(specs):
        ends = min(starts + timedelta(days=days - 1), last_day)
        campaign_id = first_id + offset
        utm_campaign = f"{starts:%Y%m}-{slug.partition('-')[0] if channel == 'email' else slug}"
        created = fmt(calendar.start + calendar.hour_of_date(starts) * HOUR - 30 * 86400)
        rows.append(
            (
                campaign_id, name, channel, source, medium, utm_campaign, "", "",
                rng.randrange(cost[0], cost[1]) // 1000 * 1000, starts.isoformat(),
                ends.isoformat(), created,
            )
        )  # fmt: skip
        info = CampaignInfo(
            campaign_id,
            channel,
            name,
            utm_campaign,
            calendar.hour_of_date(starts),
            calendar.hour_of_date(ends) + 24,
        )
        campaigns.infos.append(info)
        campaigns.by_channel.setdefault(channel, []).append(info)
        if channel == "email":
            campaigns.newsletter_by_month[calendar.month_of_hour[info.first_hour]] = info
    return campaigns


CAMPAIGN_COLUMNS = (
    "id", "name", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "cost", "starts_on", "ends_on", "created_at",
)  # fmt: skip


class TimeFormat:
    """Epoch seconds → the database's datetime literal, cached per hour.

    Formatting millions of timestamps through ``datetime`` dominates seeding; the hour
    prefix is shared by every event in that hour and "MM:SS" comes from a table.
    SQLite stores Django datetimes as naive UTC text; PostgreSQL gets an explicit +00.
    """

    def __init__(self, *, suffix: str) -> None:
        self._minutes_seconds = [f"{m:02d}:{s:02d}{suffix}" for m in range(60) for s in range(60)]
        self._prefix: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        hour, rest = divmod(ts, HOUR)
        prefix = self._prefix.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%d %H:")
            self._prefix[hour] = prefix
        return prefix + self._minutes_seconds[rest]
