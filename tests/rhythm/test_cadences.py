"""Cadence maths: playbook rules → local occurrences, across DST, with acceleration."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.rhythm.cadences import Rule, accelerated, extra_days, latest, occurrences, period_end
from bot.rhythm.delivery import out_of_quiet_hours
from flows.playbook import DEFAULT_RHYTHM, Acceleration

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def local(times: list[datetime]) -> list[str]:
    return [t.strftime("%a %Y-%m-%d %H:%M %z") for t in times]


def test_weekly_keeps_the_local_time_across_the_us_dst_change() -> None:
    found = occurrences(Rule("weekly", "mon", "09:00"), NY, datetime(2027, 3, 1, tzinfo=NY),
                        datetime(2027, 3, 23, tzinfo=NY))
    assert local(found) == ["Mon 2027-03-01 09:00 -0500", "Mon 2027-03-08 09:00 -0500",
                            "Mon 2027-03-15 09:00 -0400", "Mon 2027-03-22 09:00 -0400"]
    assert {t.time() for t in found} == {time(9, 0)}


def test_weekly_in_london_across_the_eu_dst_change() -> None:
    found = occurrences(Rule("weekly", "fri", "15:00"), LONDON,
                        datetime(2027, 3, 20, tzinfo=LONDON), datetime(2027, 4, 3, tzinfo=LONDON))
    assert local(found) == ["Fri 2027-03-26 15:00 +0000", "Fri 2027-04-02 15:00 +0100"]


def test_biweekly_counts_weeks_from_a_fixed_anchor() -> None:
    rule = Rule("biweekly", "wed", "11:00")
    early = occurrences(rule, NY, datetime(2027, 3, 1, tzinfo=NY), datetime(2027, 4, 1, tzinfo=NY))
    late = occurrences(rule, NY, datetime(2027, 3, 11, tzinfo=NY), datetime(2027, 4, 1, tzinfo=NY))
    assert local(early) == ["Wed 2027-03-10 11:00 -0500", "Wed 2027-03-24 11:00 -0400"]
    assert late == early[1:]  # the weeks do not depend on where the window starts
    assert all((b - a).days == 14 for a, b in pairwise(early))


def test_monthly_is_the_first_weekday_of_the_month() -> None:
    found = occurrences(Rule("monthly", "wed", "14:00"), NY, datetime(2027, 1, 1, tzinfo=NY),
                        datetime(2027, 5, 1, tzinfo=NY))
    assert [t.date() for t in found] == [date(2027, 1, 6), date(2027, 2, 3), date(2027, 3, 3),
                                         date(2027, 4, 7)]


def test_quarterly_is_the_first_weekday_of_each_quarter() -> None:
    found = occurrences(Rule("quarterly", "mon", "10:00"), LONDON,
                        datetime(2027, 1, 1, tzinfo=LONDON), datetime(2028, 1, 1, tzinfo=LONDON))
    assert [t.date() for t in found] == [date(2027, 1, 4), date(2027, 4, 5), date(2027, 7, 5),
                                         date(2027, 10, 4)]
    assert local(found)[1] == "Mon 2027-04-05 10:00 +0100"


def test_daily_is_every_working_day() -> None:
    found = occurrences(Rule("daily", "mon", "08:30"), NY, datetime(2027, 3, 5, tzinfo=NY),
                        datetime(2027, 3, 10, tzinfo=NY))
    assert [t.strftime("%a") for t in found] == ["Fri", "Mon", "Tue"]


def test_forecast_call_twice_weekly_in_the_last_two_weeks_of_the_quarter() -> None:
    rule = Rule("weekly", "thu", "16:00", Acceleration("quarter_end", 2, 2))
    found = occurrences(rule, NY, datetime(2027, 3, 1, tzinfo=NY), datetime(2027, 4, 16, tzinfo=NY))
    assert [t.date().isoformat() for t in found] == [
        "2027-03-04", "2027-03-11", "2027-03-18",  # weekly
        "2027-03-23", "2027-03-25", "2027-03-30",  # the last two weeks: Tuesday too
        "2027-04-01", "2027-04-08", "2027-04-15",  # a new quarter: weekly again
    ]
    assert {t.time() for t in found} == {time(16, 0)}


def test_month_end_acceleration_and_its_window() -> None:
    acc = Acceleration("month_end", 1, 3)
    assert period_end(date(2027, 2, 10), "month_end") == date(2027, 2, 28)
    assert period_end(date(2027, 11, 10), "quarter_end") == date(2027, 12, 31)
    assert accelerated(date(2027, 2, 22), acc) and not accelerated(date(2027, 2, 21), acc)
    assert extra_days("thu", 2) == ["tue"] and extra_days("mon", 3) == ["wed", "thu"]
    assert extra_days("fri", 5) == ["mon", "tue", "wed", "thu"]


def test_latest_coalesces_missed_ticks_into_one() -> None:
    rule = Rule("daily", "mon", "09:00")
    after_a_gap = latest(rule, NY, datetime(2027, 3, 12, 12, tzinfo=NY),
                         datetime(2027, 3, 12, tzinfo=NY) - datetime(2027, 3, 2, tzinfo=NY))
    assert after_a_gap == datetime(2027, 3, 12, 9, tzinfo=NY)


def test_quiet_hours_defer_to_their_end_never_drop() -> None:
    at = datetime(2027, 3, 13, 21, 30, tzinfo=NY)  # Saturday evening
    assert out_of_quiet_hours(at, NY, DEFAULT_RHYTHM) == datetime(2027, 3, 14, 8, tzinfo=NY)
    early = datetime(2027, 3, 14, 7, tzinfo=NY)  # the US DST morning
    assert out_of_quiet_hours(early, NY, DEFAULT_RHYTHM).isoformat() == \
        "2027-03-14T08:00:00-04:00"
    day = datetime(2027, 3, 14, 12, tzinfo=NY)
    assert out_of_quiet_hours(day, NY, DEFAULT_RHYTHM) == day
