"""Properties of the working-day calendar (models/workdays.py), checked by hypothesis against a plain
day-by-day walk over chinese_calendar and the entered schedules: the year tables and running totals
give the same answers, in every year the calendar knows and after it."""
import datetime as dt

import chinese_calendar
from hypothesis import given, settings, strategies as st

from models.workdays import WorkCalendar, load_schedules

SCHEDULES = load_schedules({"workdays": {"schedules": {
    2027: {"holidays": ["2027-01-01", "2027-02-08", "2027-10-01"], "workdays": ["2027-02-06", "2027-09-26"]}}}})
CALENDAR = WorkCalendar(SCHEDULES)
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


def walked(day):
    """(is_workday, certain) by asking the sources one day at a time."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        schedule = SCHEDULES.get(day.year)
        if schedule is None:
            return day.weekday() < 5, False
        return day in schedule.workdays or (day.weekday() < 5 and day not in schedule.holidays), True


def walked_between(start, end):
    sign = 1 if end >= start else -1
    low, high = min(start, end), max(start, end)
    count, certain, day = 0, True, low
    while day < high:
        day += dt.timedelta(days=1)
        workday, known = walked(day)
        count += workday
        certain &= known
    return sign * count, not certain


@settings(max_examples=300, deadline=None)
@given(days)
def test_each_day_is_classified_as_its_source_says(day):
    assert CALENDAR.classify(day) == walked(day)


@settings(max_examples=300, deadline=None)
@given(days, days)
def test_days_between_equal_the_walk(start, end):
    assert CALENDAR.workdays_between(start, end) == walked_between(start, end)


@settings(max_examples=200, deadline=None)
@given(days, st.integers(min_value=0, max_value=60))
def test_a_deadline_is_exactly_n_working_days_after_its_start(start, count):
    deadline = CALENDAR.add_workdays(start, count)
    between, provisional = CALENDAR.workdays_between(start, deadline.due)
    assert between == count and provisional == deadline.provisional
    assert count == 0 or CALENDAR.is_workday(deadline.due)  # it lands on a working day
