"""Working-day arithmetic: 国庆, 春节 make-up workdays, and years chinese_calendar does not know."""
import datetime as dt

import pytest
import yaml

import settings
from models.workdays import Deadline, calendar_of, load_schedules

D = dt.date

# 国务院办公厅关于2027年部分节假日安排的通知, as staff would enter it (illustrative subset).
SCHEDULE_2027 = yaml.safe_load("""
workdays:
  schedules:
    2027:
      holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12]
      workdays: [2027-02-06, "2027-02-20"]
""")


@pytest.mark.parametrize("start, count, due", [
    # 国庆+中秋 2026: 10-1..10-7 off, Saturday 10-10 is a make-up workday.
    (D(2026, 9, 30), 5, D(2026, 10, 13)),
    (D(2026, 9, 30), 1, D(2026, 10, 8)),
    # 国庆 2025: 10-1..10-8 off, Saturday 10-11 worked.
    (D(2025, 9, 30), 5, D(2025, 10, 14)),
    # 春节 2026: Saturday 2-14 is worked, 2-15..2-23 off, Saturday 2-28 worked.
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 13), 5, D(2026, 2, 27)),
    (D(2026, 2, 13), 6, D(2026, 2, 28)),
    # An ordinary week: Friday + 5 = next Friday.
    (D(2026, 11, 6), 5, D(2026, 11, 13)),
    # Received on a Sunday: counting starts Monday.
    (D(2026, 11, 8), 1, D(2026, 11, 9)),
    (D(2026, 11, 8), 0, D(2026, 11, 8)),
])
def test_add_workdays_known_years(start, count, due):
    assert calendar_of().add_workdays(start, count) == Deadline(due, provisional=False)


def test_make_up_workdays_are_workdays_and_holidays_are_not():
    assert calendar_of().is_workday(D(2026, 2, 14)) and calendar_of().is_workday(D(2026, 10, 10))
    assert not calendar_of().is_workday(D(2026, 10, 1)) and not calendar_of().is_workday(D(2026, 2, 16))
    assert not calendar_of().is_workday(D(2026, 10, 11))  # an ordinary Sunday


def test_unknown_year_counts_monday_to_friday_and_is_provisional():
    # 2026-12-20 is a Sunday; 9 working days left in 2026, then 2027 from the Mon–Fri guess.
    deadline = calendar_of().add_workdays(D(2026, 12, 20), 15)
    assert deadline == Deadline(D(2027, 1, 8), provisional=True)
    assert calendar_of().classify(D(2027, 1, 1)) == (True, False)
    assert calendar_of().classify(D(2027, 1, 2)) == (False, False)


def test_unknown_year_never_raises_far_ahead():
    deadline = calendar_of().add_workdays(D(2030, 6, 1), 20)
    assert deadline.provisional and deadline.due.weekday() < 5


def test_schedule_from_config_replaces_the_guess():
    schedules = load_schedules(SCHEDULE_2027)
    # 2027-01-01 is a holiday: the 15th working day moves from 1-8 to 1-11, and is certain.
    assert calendar_of(schedules).add_workdays(D(2026, 12, 20), 15) == Deadline(D(2027, 1, 11), provisional=False)
    # 春节 2027 in the entered schedule: Saturday 2-6 worked, 2-8..2-12 off.
    assert calendar_of(schedules).add_workdays(D(2027, 2, 4), 1) == Deadline(D(2027, 2, 6), provisional=False)
    assert calendar_of(schedules).add_workdays(D(2027, 2, 4), 2) == Deadline(D(2027, 2, 15), provisional=False)
    assert calendar_of(schedules).is_workday("2027-02-20")


def test_known_years_ignore_the_config_schedule():
    schedules = load_schedules({"workdays": {"schedules": {2026: {"holidays": ["2026-11-09"]}}}})
    assert calendar_of(schedules).is_workday(D(2026, 11, 9))


def test_workdays_between():
    assert calendar_of().workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == (5, False)
    assert calendar_of().workdays_between(D(2026, 10, 13), D(2026, 9, 30)) == (-5, False)
    assert calendar_of().workdays_between(D(2026, 10, 13), D(2026, 10, 13)) == (0, False)
    assert calendar_of().workdays_between(D(2026, 12, 30), D(2027, 1, 4)) == (3, True)


def test_config_yaml_schedules_load():
    config = settings.load_config(environ={})
    entered = config["workdays"]["schedules"] or {}
    schedules = load_schedules(config)
    # One schedule per year entered, keyed by int (config.yaml ships none: {} must load as {}).
    assert sorted(schedules) == sorted(int(year) for year in entered)
    assert all(isinstance(year, int) for year in schedules)
    assert all(isinstance(day, D) for s in schedules.values() for day in s.holidays | s.workdays)
