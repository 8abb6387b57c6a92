"""The period parser, fed anything: a Period or a translated ValueError, never another
exception; and every period has the same span a year earlier (29 February aside)."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal.periods import parse_period, previous_period
from reports.report import Period

property_settings = settings(
    max_examples=200,  # pure functions: a few hundred examples take well under a second
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ANY_CHAR = st.characters(exclude_categories=["Cs"])
PARTS = ["Q1", "Q2", "Q3", "Q4", "H1", "H2", "9M"]
# Labels close to valid ones find more edges than random text alone.
ALMOST = st.builds(
    "{}{}{}".format,
    st.one_of(st.integers(-1, 10_000).map(str), st.just("٢٠٢٠"), st.just("２０２０")),
    st.sampled_from(["", "-", "..", "-Q", "-q", " ", "\n", "\x00", "—"]),
    st.one_of(
        st.sampled_from([*PARTS, "Q0", "Q5", "H3", "8M", "h1", "9m", ""]),
        st.dates().map(dt.date.isoformat),
        st.text(ANY_CHAR, max_size=12),
    ),
)
TEXTS = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    ALMOST,
    st.builds(
        "{}..{}".format,
        st.dates().map(dt.date.isoformat),
        st.dates().map(dt.date.isoformat),
    ),
    st.builds(lambda char: char * 100_000, ANY_CHAR),
)


@property_settings
@given(TEXTS)
@example("")
@example("2020-02-30..2020-03-01")
@example("2020-Q1\x00")
@example("2020-03-01..2020-02-01")
def test_any_text_is_a_period_or_a_value_error(text):
    try:
        period = parse_period(text)
    except ValueError as refused:
        # The parser's own, translated message, which quotes what was typed.
        assert text in str(refused)
        return
    assert isinstance(period, Period)
    assert period.start <= period.end
    assert parse_period(period.label) == period  # the label reads back the same


def _span(period: Period) -> int:
    return (period.end - period.start).days


def _holds_29_february(period: Period) -> bool:
    return any(
        period.start <= dt.date(year, 2, 29) <= period.end
        for year in range(period.start.year, period.end.year + 1)
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    )


def _check_previous(period: Period) -> None:
    previous = previous_period(period)
    assert parse_period(previous.label) == previous
    assert previous.start.year == period.start.year - 1
    assert previous.end.year == period.end.year - 1
    # The same span, except for a 29 February in one of the two periods.
    difference = _span(previous) - _span(period)
    if difference:
        assert abs(difference) == 1
        assert _holds_29_february(period) or _holds_29_february(previous)
    for day, earlier in ((period.start, previous.start), (period.end, previous.end)):
        expected = (2, 28) if (day.month, day.day) == (2, 29) else (day.month, day.day)
        assert (earlier.month, earlier.day) == expected


NAMED = st.builds(
    "{}{}".format,
    # From 1001: the label of the year before must read back (the parser starts at 1000).
    st.integers(1001, 9999).map(str),
    st.sampled_from(["", *(f"-{part}" for part in PARTS)]),
)


@property_settings
@given(NAMED)
@example("2024-Q1")  # a leap year's first quarter, a year before a common one
@example("2021")  # a common year after a leap one
def test_a_named_period_a_year_earlier_has_the_same_span(label):
    _check_previous(parse_period(label))


@st.composite
def ranges(draw) -> str:
    start = draw(st.dates(dt.date(1001, 1, 1), dt.date.max))
    days = draw(st.integers(0, min(800, (dt.date.max - start).days)))
    return f"{start.isoformat()}..{(start + dt.timedelta(days=days)).isoformat()}"


@property_settings
@given(ranges())
@example("2020-02-29..2020-02-29")
@example("2020-02-28..2020-03-01")
@example("2021-02-28..2021-03-01")
@example("2020-01-01..2020-12-31")
@example("9998-12-31..9999-12-31")
def test_a_range_of_days_a_year_earlier_has_the_same_span(label):
    _check_previous(parse_period(label))


@pytest.mark.parametrize("label", ["0001-01-01..0001-12-31", "0001-02-01..2020-02-01"])
def test_every_period_the_parser_accepts_has_a_previous_period(label):
    try:
        period = parse_period(label)
    except ValueError as refused:
        assert label in str(refused)  # refused with the parser's own message: fine
        return
    _check_previous(period)


@pytest.mark.parametrize("label", ["9999", "9999-Q4", "9999-H2"])
def test_periods_of_the_last_year_the_calendar_holds_parse(label):
    period = parse_period(label)
    assert period.end == dt.date(9999, 12, 31)
