"""工作日 — the one working-day calendar behind every statutory deadline (DOMAIN.md §8).

`chinese_calendar` knows the official holidays and make-up workdays (调休) for 2004–2026 and raises
NotImplementedError for any later date. For such a year the schedule staff entered in config.yaml
(`workdays.schedules`, from the State Council's notice published around November) is used; without
it, Monday–Friday count as working days and the result is marked provisional, so it can be
recomputed once the schedule arrives.

Every deadline — a complaint's, a case's statement period, a reminder's "days left" — is counted by
`working_calendar(config)`, so they all agree. Each year is built once (one `chinese_calendar` call
per day of that year) and kept with running totals, so counting the working days between two dates
costs two lookups per year spanned, not a walk over every day between them.

期间开始的当日不计入 (民法典 第二百零一条): a deadline of N working days counts from the day after
the start.
"""
import datetime as dt
import itertools
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


@dataclass(frozen=True)
class _Year:
    """One year's days: whether each is a working day, and how many working days up to it."""

    first: dt.date
    workday: tuple  # by day of year (0-based)
    through: tuple  # working days from 1 January up to and including that day
    certain: bool  # False: no official schedule known, Monday–Friday guessed


class WorkCalendar:
    """Working days as the official schedules say, built once per year and kept."""

    def __init__(self, schedules=None):
        self.schedules = dict(schedules or {})
        self._years = {}

    def _year(self, year):
        built = self._years.get(year)
        if built is None:
            built = self._years[year] = self._build(year)
        return built

    def _build(self, year):
        first = dt.date(year, 1, 1)
        days = [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]
        try:
            flags = tuple(chinese_calendar.is_workday(day) for day in days)
            certain = True
        except NotImplementedError:
            schedule = self.schedules.get(year)
            certain = schedule is not None
            schedule = schedule or Schedule()
            flags = tuple(day in schedule.workdays or (day.weekday() < 5 and day not in schedule.holidays)
                          for day in days)
        return _Year(first, flags, tuple(itertools.accumulate(flags)), certain)

    def classify(self, day):
        """(is_workday, certain) for `day`; `certain` is False when the year's schedule is unknown."""
        day = _as_date(day)
        year = self._year(day.year)
        return year.workday[(day - year.first).days], year.certain

    def is_workday(self, day):
        return self.classify(day)[0]

    def add_workdays(self, start, count):
        """The `count`-th working day after `start` (the start day itself is not counted); a negative
        `count` counts back: the latest day that still leaves that many working days before `start`."""
        day, provisional, left, step = _as_date(start), False, abs(int(count)), (1 if count >= 0 else -1)
        for _ in range(MAX_SCAN_DAYS):
            if left <= 0:
                return Deadline(day, provisional)
            day += dt.timedelta(days=step)
            workday, certain = self.classify(day)
            provisional |= not certain
            left -= workday
        raise ValueError(f"no {count} working days within {MAX_SCAN_DAYS} days of {start}")

    def workdays_between(self, start, end):
        """Working days in (start, end] as (count, provisional); negative when `end` is before `start`."""
        start, end = _as_date(start), _as_date(end)
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        if start == end:
            return 0, False
        count = self._through(end) - self._through(start)
        count += sum(self._year(year).through[-1] for year in range(start.year, end.year))
        # The days counted are those after `start`: its year matters only if one of them is in it.
        first_year = start.year if start < dt.date(start.year, 12, 31) else start.year + 1
        provisional = any(not self._year(year).certain for year in range(first_year, end.year + 1))
        return sign * count, provisional

    def _through(self, day):
        year = self._year(day.year)
        return year.through[(day - year.first).days]


_calendars = {}


def calendar_of(schedules=None):
    """The calendar for these entered schedules, built once and then shared."""
    if isinstance(schedules, WorkCalendar):
        return schedules
    key = tuple(sorted((schedules or {}).items()))
    calendar = _calendars.get(key)
    if calendar is None:
        calendar = _calendars[key] = WorkCalendar(schedules)
    return calendar


def working_calendar(config):
    """The working-day calendar of this configuration (chinese_calendar plus `workdays.schedules`)."""
    return calendar_of(load_schedules(config))
