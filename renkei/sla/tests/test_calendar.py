"""Business-hour arithmetic: weekends, 年末年始, a holiday on a Monday, lunch breaks, starts
outside working hours, and calendars without working time."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from renkei.sla.calendar import (
    CalendarSpec,
    HolidayRange,
    business_add,
    business_between,
    business_day_end,
    windows_format,
    windows_parse,
)

JST = ZoneInfo("Asia/Tokyo")
DAY = ((540, 720), (780, 1080))  # 9–12, 13–18: eight working hours
CAL = CalendarSpec(
    time_zone="Asia/Tokyo",
    windows=dict.fromkeys(range(5), DAY),
    public_holidays=True,
    holidays=(
        HolidayRange(date(2000, 12, 29), date(2001, 1, 3), every_year=True),
        HolidayRange(date(2000, 8, 13), date(2000, 8, 16), every_year=True),
    ),
)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def test_within_a_morning() -> None:
    assert business_add(CAL, jst(2026, 3, 3, 9, 0), 2) == jst(2026, 3, 3, 11, 0)


def test_the_lunch_break_does_not_count() -> None:
    assert business_add(CAL, jst(2026, 3, 3, 11, 0), 2) == jst(2026, 3, 3, 14, 0)
    assert business_between(CAL, jst(2026, 3, 3, 11, 0), jst(2026, 3, 3, 14, 0)) == 2


def test_friday_evening_runs_over_the_weekend() -> None:
    # Friday 2026-03-06 17:00 + 4h: 1h on Friday, then Monday 9:00 + 3h.
    assert business_add(CAL, jst(2026, 3, 6, 17, 0), 4) == jst(2026, 3, 9, 12, 0)
    assert business_between(CAL, jst(2026, 3, 6, 17, 0), jst(2026, 3, 9, 12, 0)) == 4


def test_a_start_outside_working_hours_counts_from_the_next_opening() -> None:
    assert business_add(CAL, jst(2026, 3, 3, 7, 30), 1) == jst(2026, 3, 3, 10, 0)
    assert business_add(CAL, jst(2026, 3, 3, 12, 30), 1) == jst(2026, 3, 3, 14, 0)
    assert business_add(CAL, jst(2026, 3, 3, 20, 0), 1) == jst(2026, 3, 4, 10, 0)
    assert business_add(CAL, jst(2026, 3, 7, 10, 0), 1) == jst(2026, 3, 9, 10, 0)  # Saturday


def test_a_public_holiday_on_a_monday() -> None:
    # 2026-01-12 is 成人の日 (second Monday of January): Friday 17:00 + 2h → Tuesday 10:00.
    assert business_add(CAL, jst(2026, 1, 9, 17, 0), 2) == jst(2026, 1, 13, 10, 0)
    assert business_between(CAL, jst(2026, 1, 9, 9, 0), jst(2026, 1, 14, 9, 0)) == 16


def test_a_substitute_holiday_on_a_monday() -> None:
    # 勤労感謝の日 2025-11-23 is a Sunday: Monday 11-24 is 振替休日.
    assert business_add(CAL, jst(2025, 11, 21, 18, 0), 1) == jst(2025, 11, 25, 10, 0)


def test_new_year_holidays_wrap_over_the_year() -> None:
    # Friday 2025-12-26 17:00 + 3h: 1h, then 12/29–1/3 company holidays, 1/4 is a Sunday,
    # so Monday 2026-01-05 9:00 + 2h.
    assert business_add(CAL, jst(2025, 12, 26, 17, 0), 3) == jst(2026, 1, 5, 11, 0)
    assert business_between(CAL, jst(2025, 12, 26, 9, 0), jst(2026, 1, 5, 18, 0)) == 16


def test_obon_is_a_company_holiday() -> None:
    # 2026-08-13 (Thu) – 08-16: Wednesday 18:00 + 1h → Monday 08-17 10:00.
    assert business_add(CAL, jst(2026, 8, 12, 18, 0), 1) == jst(2026, 8, 17, 10, 0)


def test_a_one_off_holiday_range() -> None:
    cal = CalendarSpec(
        windows=dict.fromkeys(range(5), DAY),
        public_holidays=False,
        holidays=(HolidayRange(date(2026, 3, 4), date(2026, 3, 4)),),
    )
    assert business_add(cal, jst(2026, 3, 3, 18, 0), 1) == jst(2026, 3, 5, 10, 0)
    assert business_add(cal, jst(2027, 3, 3, 18, 0), 1) == jst(2027, 3, 4, 10, 0)


def test_public_holidays_can_be_working_days() -> None:
    cal = CalendarSpec(windows=dict.fromkeys(range(5), DAY), public_holidays=False)
    assert business_add(cal, jst(2026, 1, 9, 17, 0), 2) == jst(2026, 1, 12, 10, 0)


def test_utc_input_keeps_its_zone() -> None:
    start = jst(2026, 3, 3, 9, 0).astimezone(ZoneInfo("UTC"))
    result = business_add(CAL, start, 1)
    assert result.tzinfo == ZoneInfo("UTC") and result == jst(2026, 3, 3, 10, 0)


def test_fractions_of_an_hour() -> None:
    assert business_add(CAL, jst(2026, 3, 3, 9, 0), 0.25) == jst(2026, 3, 3, 9, 15)


def test_between_is_negative_backwards_and_zero_on_weekends() -> None:
    assert business_between(CAL, jst(2026, 3, 3, 11, 0), jst(2026, 3, 3, 10, 0)) == -1
    assert business_between(CAL, jst(2026, 3, 7, 9, 0), jst(2026, 3, 8, 18, 0)) == 0


def test_business_day_end() -> None:
    # Assigned Friday: 3 business days → Wednesday close (Monday 3/9 is a working day).
    assert business_day_end(CAL, jst(2026, 3, 6, 10, 0), 3) == jst(2026, 3, 11, 18, 0)
    # Over 年末年始: assigned 12/26 (Fri), 1 day → Monday 1/5 close.
    assert business_day_end(CAL, jst(2025, 12, 26, 10, 0), 1) == jst(2026, 1, 5, 18, 0)


def test_impossible_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        business_add(CAL, jst(2026, 3, 3, 9), 0)
    with pytest.raises(ValueError):
        business_day_end(CAL, jst(2026, 3, 3, 9), 0)
    with pytest.raises(ValueError, match="no working time"):
        business_add(CalendarSpec(windows={}), jst(2026, 3, 3, 9), 1)
    always_off = CalendarSpec(
        windows=dict.fromkeys(range(7), DAY),
        public_holidays=False,
        holidays=(HolidayRange(date(2000, 1, 1), date(2000, 12, 31), every_year=True),),
    )
    with pytest.raises(ValueError, match="no working time"):
        business_add(always_off, jst(2026, 3, 3, 9), 1)


def test_windows_parse() -> None:
    assert windows_parse("9:00-12:00, 13:00-18:00") == ((540, 720), (780, 1080))
    assert windows_parse("13:00〜18:00、9:00～12:00") == ((540, 720), (780, 1080))
    assert windows_parse("") == ()
    assert windows_format(((540, 720), (780, 1080))) == "9:00-12:00, 13:00-18:00"
    for bad in ("9-", "18:00-9:00", "9:00-12:00, 11:00-13:00", "25:00-26:00", "nine-ten"):
        with pytest.raises(ValueError):
            windows_parse(bad)
