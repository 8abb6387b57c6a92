"""Reporting periods: labels, the same period a year earlier, titles in words."""

import datetime as dt

import pytest
from django.utils import translation

from portal.periods import parse_period, period_title, previous_period
from reports.report import Period

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2020-Q1", D(2020, 1, 1), D(2020, 3, 31)),
        ("2020-Q2", D(2020, 4, 1), D(2020, 6, 30)),
        ("2020-Q3", D(2020, 7, 1), D(2020, 9, 30)),
        ("2020-Q4", D(2020, 10, 1), D(2020, 12, 31)),
        ("2020-H1", D(2020, 1, 1), D(2020, 6, 30)),
        ("2020-H2", D(2020, 7, 1), D(2020, 12, 31)),
        ("2020-9M", D(2020, 1, 1), D(2020, 9, 30)),
        ("2020", D(2020, 1, 1), D(2020, 12, 31)),
        ("2020-01-01..2020-02-15", D(2020, 1, 1), D(2020, 2, 15)),
        ("2020-02-29..2020-02-29", D(2020, 2, 29), D(2020, 2, 29)),
    ],
)
def test_every_form_of_period_parses_with_both_ends_inclusive(text, start, end):
    assert parse_period(text) == Period(label=text, start=start, end=end)


def test_first_quarter_of_a_leap_year_ends_on_31_march_and_holds_29_february():
    period = parse_period("2024-Q1")
    assert period.start <= D(2024, 2, 29) <= period.end


def test_lower_case_and_spaces_are_read_and_the_label_is_canonical():
    assert parse_period(" 2020-q1 ").label == "2020-Q1"
    assert parse_period("2020-h2").label == "2020-H2"
    assert parse_period("2020-9m").label == "2020-9M"


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2020-Q1", "2019-Q1", D(2019, 1, 1), D(2019, 3, 31)),
        ("2020-Q4", "2019-Q4", D(2019, 10, 1), D(2019, 12, 31)),
        ("2020-H1", "2019-H1", D(2019, 1, 1), D(2019, 6, 30)),
        ("2020-H2", "2019-H2", D(2019, 7, 1), D(2019, 12, 31)),
        ("2020-9M", "2019-9M", D(2019, 1, 1), D(2019, 9, 30)),
        ("2020", "2019", D(2019, 1, 1), D(2019, 12, 31)),
        (
            "2020-01-01..2020-02-15",
            "2019-01-01..2019-02-15",
            D(2019, 1, 1),
            D(2019, 2, 15),
        ),
        # Q1 2025 has 28 February, Q1 2024 29: a named period keeps its name.
        ("2025-Q1", "2024-Q1", D(2024, 1, 1), D(2024, 3, 31)),
    ],
)
def test_previous_period_is_the_same_span_a_year_earlier(text, label, start, end):
    assert previous_period(parse_period(text)) == Period(
        label=label, start=start, end=end
    )


def test_29_february_becomes_28_february_a_year_earlier():
    assert previous_period(parse_period("2020-01-01..2020-02-29")) == Period(
        label="2019-01-01..2019-02-28", start=D(2019, 1, 1), end=D(2019, 2, 28)
    )
    assert previous_period(parse_period("2024-02-29..2024-03-10")) == Period(
        label="2023-02-28..2023-03-10", start=D(2023, 2, 28), end=D(2023, 3, 10)
    )


def test_the_last_year_the_calendar_holds_has_its_last_quarter():
    assert parse_period("9999-Q4").end == D(9999, 12, 31)
    assert parse_period("9999").end == D(9999, 12, 31)


def test_previous_period_label_parses_back_to_the_same_period():
    for text in ("2020-Q3", "2020-9M", "2020", "2020-02-01..2020-02-29"):
        earlier = previous_period(parse_period(text))
        assert parse_period(earlier.label) == earlier


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2020-Q5",
        "2020-Q0",
        "2020-H3",
        "2020-6M",
        "20-Q1",
        "Q1-2020",
        "2020Q1",
        "2020-1",
        "2020-01-01",
        "2020-01-01..",
        "2020-01-01...2020-02-01",
        "2020-1-1..2020-2-1",
        "0999",
        "0001-01-01..0001-12-31",
        "0999-02-01..2020-02-01",
    ],
)
def test_anything_else_is_refused_with_a_message_naming_it(text):
    with translation.override("en"), pytest.raises(ValueError) as refused:
        parse_period(text)
    assert f"“{text}”" in str(refused.value)
    assert "2020-01-01..2020-02-15" in str(refused.value)  # says what would do


def test_a_day_that_does_not_exist_is_refused():
    with translation.override("en"), pytest.raises(ValueError, match="does not exist"):
        parse_period("2019-02-29..2019-03-31")


def test_an_inverted_range_is_refused():
    with translation.override("en"), pytest.raises(ValueError, match="ends before"):
        parse_period("2020-02-15..2020-01-01")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("2020-Q1", "Q1 2020"),
        ("2020-Q4", "Q4 2020"),
        ("2020-H1", "first half of 2020"),
        ("2020-H2", "second half of 2020"),
        ("2020-9M", "nine months of 2020"),
        ("2020", "2020"),
        ("2020-01-01..2020-02-15", "2020-01-01 – 2020-02-15"),
    ],
)
def test_period_title_in_english(text, title):
    assert period_title(parse_period(text), "en") == title


@pytest.mark.parametrize("language", ["ky", "ru"])
def test_a_range_of_days_is_titled_with_dates_as_written_in_ky_and_ru(language):
    title = period_title(parse_period("2020-01-01..2020-02-15"), language)
    assert "01.01.2020" in title and "15.02.2020" in title


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_period_title_names_the_year_and_leaves_the_active_language_alone(language):
    with translation.override("en"):
        assert "2019" in period_title(parse_period("2019-Q2"), language)
        assert translation.get_language() == "en"
