"""Business-hour arithmetic: pure functions over a ``CalendarSpec``.

A calendar is a time zone, working windows per weekday (minutes after midnight, e.g. 9:00–
12:00 and 13:00–18:00 with a lunch break), whether Japanese public holidays are days off
(``jpholiday``, which includes 振替休日 and 国民の休日), and company holidays: date ranges,
either once or every year (年末年始 12/29–1/3 wraps over the new year, お盆 8/13–8/16).

``business_add(calendar, start, hours)`` is the moment ``hours`` working hours after
``start``; ``business_between(calendar, a, b)`` the working hours between two moments.
Both accept the model (``BusinessCalendar``) or a ``CalendarSpec``. Asia/Tokyo has no
daylight saving time, but other zones work too: windows are local wall-clock times.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import jpholiday
from django.utils.translation import gettext as _

MAX_DAYS = 3660  # a search longer than ten years means the calendar has (almost) no time


@dataclass(frozen=True)
class HolidayRange:
    start: date
    end: date
    every_year: bool = False

    def covers(self, day: date) -> bool:
        if not self.every_year:
            return self.start <= day <= self.end
        key, lo, hi = (
            (day.month, day.day),
            (self.start.month, self.start.day),
            (self.end.month, self.end.day),
        )
        if lo <= hi:
            return lo <= key <= hi
        return key >= lo or key <= hi  # wraps over the new year (12/29–1/3)


@dataclass(frozen=True)
class CalendarSpec:
    time_zone: str = "Asia/Tokyo"
    # weekday (0 = Monday) → sorted, non-overlapping (start_minute, end_minute) windows
    windows: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    public_holidays: bool = True
    holidays: tuple[HolidayRange, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.time_zone)

    def has_working_time(self) -> bool:
        return any(end > start for day in self.windows.values() for start, end in day)

    def is_day_off(self, day: date) -> bool:
        if self.public_holidays and _is_public_holiday(day):
            return True
        return any(h.covers(day) for h in self.holidays)

    def day_windows(self, day: date) -> tuple[tuple[int, int], ...]:
        if self.is_day_off(day):
            return ()
        return self.windows.get(day.weekday(), ())


class _HasSpec(Protocol):
    def spec(self) -> CalendarSpec: ...


Calendar = CalendarSpec | _HasSpec


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def _is_public_holiday(day: date) -> bool:
    return bool(jpholiday.is_holiday(day))


def _spec(calendar: Any) -> CalendarSpec:
    spec = calendar if isinstance(calendar, CalendarSpec) else calendar.spec()
    if not spec.has_working_time():
        raise ValueError("the calendar has no working time")
    return spec


def _intervals(spec: CalendarSpec, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (aware, local) that end after ``start``, in order."""
    local = start.astimezone(spec.tz)
    day = local.date()
    for _day in range(MAX_DAYS):
        midnight = datetime.combine(day, time(0), tzinfo=spec.tz)
        for lo, hi in spec.day_windows(day):
            a = _at(midnight, lo, spec)
            b = _at(midnight, hi, spec)
            if b > local:
                yield max(a, local), b
        day += timedelta(days=1)
    raise ValueError("the calendar has no working time in the next ten years")


def _at(midnight: datetime, minutes: int, spec: CalendarSpec) -> datetime:
    # Wall-clock time on that day (correct across DST changes in zones that have them).
    naive = midnight.replace(tzinfo=None) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=spec.tz)


def business_add(calendar: Calendar, start: datetime, hours: float) -> datetime:
    """The moment ``hours`` working hours after ``start`` (a start outside working hours
    counts from the next opening). ``hours`` must be positive."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    spec = _spec(calendar)
    left = timedelta(hours=hours)
    for a, b in _intervals(spec, start):
        if b - a >= left:
            return (a + left).astimezone(start.tzinfo)
        left -= b - a
    raise AssertionError("unreachable")  # pragma: no cover


def business_between(calendar: Calendar, a: datetime, b: datetime) -> float:
    """Working hours from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    if b < a:
        return -business_between(calendar, b, a)
    spec = _spec(calendar)
    total = timedelta()
    for lo, hi in _intervals(spec, a):
        if lo >= b:
            break
        total += min(hi, b) - lo
    return total.total_seconds() / 3600


def business_day_end(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The close of business on the ``days``-th working day after the day of ``start``
    (assigned Monday, 3 days → Thursday's closing time)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    spec = _spec(calendar)
    day = start.astimezone(spec.tz).date()
    for _day in range(MAX_DAYS):
        day += timedelta(days=1)
        windows = spec.day_windows(day)
        if windows:
            days -= 1
            if days == 0:
                midnight = datetime.combine(day, time(0), tzinfo=spec.tz)
                return _at(midnight, windows[-1][1], spec).astimezone(start.tzinfo)
    raise ValueError("the calendar has no working time in the next ten years")


def windows_parse(text: str) -> tuple[tuple[int, int], ...]:
    """'9:00-12:00, 13:00-18:00' → ((540, 720), (780, 1080)); '' → () (a day off).
    Raises ValueError with a readable message."""
    windows: list[tuple[int, int]] = []
    for part in text.replace("、", ",").replace("～", "-").replace("〜", "-").split(","):
        part = part.strip()
        if not part:
            continue
        if part.count("-") != 1:
            raise ValueError(_("%(part)s: write start-end, e.g. 9:00-18:00") % {"part": part})
        lo, hi = (_minutes(p) for p in part.split("-"))
        if hi <= lo:
            raise ValueError(_("%(part)s: the end must be after the start") % {"part": part})
        windows.append((lo, hi))
    windows.sort()
    for (_lo, end), (start, _hi) in pairwise(windows):
        if start < end:
            raise ValueError(_("The working hours overlap."))
    return tuple(windows)


def _minutes(text: str) -> int:
    text = text.strip().replace("：", ":")
    hh, _sep, mm = text.partition(":")
    try:
        h, m = int(hh), int(mm or 0)
    except ValueError:
        raise ValueError(_("%(text)s is not a time such as 9:00") % {"text": text}) from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(_("%(text)s is not a time such as 9:00") % {"text": text})
    return h * 60 + m


def windows_format(windows: tuple[tuple[int, int], ...] | list[list[int]]) -> str:
    return ", ".join(f"{lo // 60}:{lo % 60:02d}-{hi // 60}:{hi % 60:02d}" for lo, hi in windows)
