"""The words of /meetings move and /away: read forgivingly, never crash."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.reading import read_away, read_time_of_day, read_when
from tests.fuzz import count, fuzz

NOW = datetime(2027, 3, 10, 12, 0)  # a Wednesday, local
USUAL = time(10, 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("thursday 15:00", datetime(2027, 3, 11, 15, 0)),
    ("tomorrow 3pm", datetime(2027, 3, 11, 15, 0)),
    ("next monday at 9am", datetime(2027, 3, 15, 9, 0)),
    ("2027-03-18", datetime(2027, 3, 18, 10, 0)),  # the day alone keeps the usual time
    ("14:30", datetime(2027, 3, 10, 14, 30)),  # a time alone: today
    ("3/18 4:30 pm", datetime(2027, 3, 18, 16, 30)),
    ("friday", datetime(2027, 3, 12, 10, 0)),
])
def test_when_is_read(text: str, expected: datetime) -> None:
    assert read_when(text, NOW, USUAL) == expected


@pytest.mark.parametrize("text", ["", "blah", "25:99", "13pm", "x" * 200, "soon-ish"])
def test_what_is_not_a_when(text: str) -> None:
    assert read_when(text, NOW, USUAL) is None


def test_away_words() -> None:
    assert read_away("until 2027-03-20", NOW) == date(2027, 3, 20)
    assert read_away("Friday", NOW) == date(2027, 3, 12)
    assert read_away(" OFF ", NOW) is False and read_away("back", NOW) is False
    assert read_away("whenever", NOW) is None


_TEXT = st.one_of(
    st.text(max_size=90),
    st.builds(lambda a, b, c: f"{a} {b}:{c:02d} {'pm' if b % 2 else ''}",
              st.sampled_from(["tomorrow", "friday", "2027-03-18", "next week", "", "at"]),
              st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=99)),
)


@pytest.mark.slow
@fuzz(0.3)
@given(_TEXT, st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(8999, 1, 1)))
def test_when_never_raises_and_keeps_to_real_times(text: str, now: datetime) -> None:
    count("read_when / read_away")
    found = read_when(text, now, USUAL)
    assert found is None or isinstance(found, datetime)
    at, rest = read_time_of_day(text)
    if at is not None:
        assert 0 <= at.hour <= 23 and 0 <= at.minute <= 59 and len(rest) <= len(text) + 1
    away = read_away(text, now)
    assert away is None or away is False or isinstance(away, date)
