"""Working-day arithmetic: 国庆, 春节 make-up workdays, and years chinese_calendar does not know."""
import datetime as dt

import pytest
import yaml

import settings
from models.workdays import Deadline, add_workdays, classify, is_workday, load_schedules, workdays_between

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
    assert add_workdays(start, count) == Deadline(due, provisional=False)


def test_make_up_workdays_are_workdays_and_holidays_are_not():
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 10, 10))
    assert not is_workday(D(2026, 10, 1)) and not is_workday(D(2026, 2, 16))
    assert not is_workday(D(2026, 10, 11))  # an ordinary Sunday


def test_unknown_year_counts_monday_to_friday_and_is_provisional():
    # 2026-12-20 is a Sunday; 9 working days left in 2026, then 2027 from the Mon–Fri guess.
    deadline = add_workdays(D(2026, 12, 20), 15)
    assert deadline == Deadline(D(2027, 1, 8), provisional=True)
    assert classify(D(2027, 1, 1)) == (True, False)
    assert classify(D(2027, 1, 2)) == (False, False)


def test_unknown_year_never_raises_far_ahead():
    deadline = add_workdays(D(2030, 6, 1), 20)
    assert deadline.provisional and deadline.due.weekday() < 5


def test_schedule_from_config_replaces_the_guess():
    schedules = load_schedules(SCHEDULE_2027)
    # 2027-01-01 is a holiday: the 15th working day moves from 1-8 to 1-11, and is certain.
    assert add_workdays(D(2026, 12, 20), 15, schedules) == Deadline(D(2027, 1, 11), provisional=False)
    # 春节 2027 in the entered schedule: Saturday 2-6 worked, 2-8..2-12 off.
    assert add_workdays(D(2027, 2, 4), 1, schedules) == Deadline(D(2027, 2, 6), provisional=False)
    assert add_workdays(D(2027, 2, 4), 2, schedules) == Deadline(D(2027, 2, 15), provisional=False)
    assert is_workday("2027-02-20", schedules)


def test_known_years_ignore_the_config_schedule():
    schedules = load_schedules({"workdays": {"schedules": {2026: {"holidays": ["2026-11-09"]}}}})
    assert is_workday(D(2026, 11, 9), schedules)


def test_workdays_between():
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == (5, False)
    assert workdays_between(D(2026, 10, 13), D(2026, 9, 30)) == (-5, False)
    assert workdays_between(D(2026, 10, 13), D(2026, 10, 13)) == (0, False)
    assert workdays_between(D(2026, 12, 30), D(2027, 1, 4)) == (3, True)


def test_config_yaml_schedules_load():
    config = settings.load_config(environ={})
    entered = config["workdays"]["schedules"] or {}
    schedules = load_schedules(config)
    # One schedule per year entered, keyed by int (config.yaml ships none: {} must load as {}).
    assert sorted(schedules) == sorted(int(year) for year in entered)
    assert all(isinstance(year, int) for year in schedules)
    assert all(isinstance(day, D) for s in schedules.values() for day in s.holidays | s.workdays)
