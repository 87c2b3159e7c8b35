"""工作日 — the working-day calendar behind every statutory deadline (DOMAIN.md §8).

`chinese_calendar` knows the official holidays and make-up workdays (调休) for 2004–2026 and raises
NotImplementedError for any later date. For such a year the schedule staff entered in config.yaml
(`workdays.schedules`, from the State Council's notice published around November) is used; without
it, Monday–Friday count as working days and the result is marked provisional, so it can be
recomputed once the schedule arrives.

Pure functions: no database, no clock. 期间开始的当日不计入 (民法典 第二百零一条): a deadline of
N working days counts from the day after the start.
"""
import datetime as dt
from dataclasses import dataclass

import chinese_calendar

# Safety net against a mistyped schedule that makes every day a holiday.
MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class Schedule:
    """One year's official arrangement: days off (放假) and make-up working days (调休上班)."""

    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()


@dataclass(frozen=True)
class Deadline:
    """A due date, and whether it rests on a guessed (Monday–Friday) calendar for some year."""

    due: dt.date
    provisional: bool = False


def _as_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def load_schedules(config):
    """Year -> Schedule from config `workdays.schedules` (dates as YAML dates or ISO strings)."""
    entered = ((config or {}).get("workdays") or {}).get("schedules") or {}
    schedules = {}
    for year, days in entered.items():
        days = days or {}
        schedules[int(year)] = Schedule(
            holidays=frozenset(_as_date(d) for d in days.get("holidays") or []),
            workdays=frozenset(_as_date(d) for d in days.get("workdays") or []),
        )
    return schedules


def classify(day, schedules=None):
    """(is_workday, certain) for `day`; `certain` is False when the year's schedule is unknown."""
    day = _as_date(day)
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        pass
    schedule = (schedules or {}).get(day.year)
    if schedule is not None:
        if day in schedule.workdays:
            return True, True
        if day in schedule.holidays:
            return False, True
        return day.weekday() < 5, True
    return day.weekday() < 5, False


def is_workday(day, schedules=None):
    return classify(day, schedules)[0]


def add_workdays(start, count, schedules=None):
    """The `count`-th working day after `start` (the start day itself is not counted)."""
    day, provisional, left = _as_date(start), False, int(count)
    for _ in range(MAX_SCAN_DAYS):
        if left <= 0:
            return Deadline(day, provisional)
        day += dt.timedelta(days=1)
        workday, certain = classify(day, schedules)
        provisional |= not certain
        left -= workday
    raise ValueError(f"no {count} working days within {MAX_SCAN_DAYS} days of {start}")


def workdays_between(start, end, schedules=None):
    """Working days in (start, end] as (count, provisional); negative when `end` is before `start`."""
    start, end = _as_date(start), _as_date(end)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count, provisional, day = 0, False, start
    while day < end:
        day += dt.timedelta(days=1)
        workday, certain = classify(day, schedules)
        provisional |= not certain
        count += workday
    return sign * count, provisional
