"""The working-day calendar and the time-limit rules (appeals.deadlines.calendar).

The arithmetic is pure and tested without the database on an explicit Calendar; only
the tests of CalendarDay entries, the cache and the rule table use the database.
"""

import datetime as dt

import holidays
import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import IntegrityError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from agencies.models import CalendarDay
from appeals.deadlines import calendar as deadlines
from appeals.deadlines.calendar import (
    BISHKEK,
    Calendar,
    NoDeadlineRule,
    add_working_days,
    counting_start,
    due_date,
    is_working_day,
    next_working_day,
    no_public_holidays,
    rule_for,
    working_days_between,
)
from appeals.models import DeadlineRule
from tests.helpers import login_staff

KG = Calendar()  # the Kyrgyz public calendar, no admin entries
UTC = dt.UTC
D = dt.date


def bishkek(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BISHKEK)


def rule(code, value, unit, applies_from):
    return DeadlineRule(code=code, value=value, unit=unit, applies_from=applies_from)


# --- Properties ------------------------------------------------------------------

days = st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31))
counts = st.integers(min_value=0, max_value=40)


@st.composite
def calendars(draw, near=None):
    """The Kyrgyz calendar (or weekends only) with a few admin entries, near `near`."""
    near = near or draw(days)
    entries = draw(
        st.dictionaries(
            st.integers(min_value=-15, max_value=70), st.booleans(), max_size=8
        )
    )
    return Calendar(
        extra_days_off=frozenset(
            near + dt.timedelta(days=k) for k, off in entries.items() if off
        ),
        extra_working_days=frozenset(
            near + dt.timedelta(days=k) for k, off in entries.items() if not off
        ),
        public_holidays=draw(
            st.sampled_from([deadlines.kyrgyz_public_holidays, no_public_holidays])
        ),
    )


@st.composite
def day_and_calendar(draw):
    day = draw(days)
    return day, draw(calendars(near=day))


property_settings = settings(max_examples=200, deadline=None)


@property_settings
@given(day_and_calendar(), st.integers(min_value=1, max_value=40))
def test_adding_working_days_lands_on_a_working_day(case, n):
    day, calendar = case
    assert is_working_day(add_working_days(day, n, calendar), calendar)
    assert is_working_day(add_working_days(day, -n, calendar), calendar)


@property_settings
@given(day_and_calendar(), counts)
def test_working_days_between_undoes_adding_them(case, n):
    day, calendar = case
    assert working_days_between(day, add_working_days(day, n, calendar), calendar) == n


@property_settings
@given(day_and_calendar(), counts)
def test_counting_back_from_a_working_day_undoes_counting_forward(case, n):
    day, calendar = case
    later = add_working_days(day, n, calendar)
    earlier = add_working_days(later, -n, calendar)
    assert working_days_between(later, earlier, calendar) == -n
    if is_working_day(day, calendar):
        assert earlier == day


@property_settings
@given(day_and_calendar(), counts, counts)
def test_adding_more_working_days_lands_strictly_later(case, n, m):
    day, calendar = case
    n, m = sorted((n, m))
    if n < m:
        assert add_working_days(day, n, calendar) < add_working_days(day, m, calendar)


@property_settings
@given(day_and_calendar())
def test_adding_zero_working_days_is_the_day_itself(case):
    day, calendar = case
    assert add_working_days(day, 0, calendar) == day
    assert working_days_between(day, day, calendar) == 0


@property_settings
@given(day_and_calendar(), st.integers(min_value=-60, max_value=60))
def test_working_days_between_is_antisymmetric(case, offset):
    a, calendar = case
    b = a + dt.timedelta(days=offset)
    between = working_days_between(a, b, calendar)
    assert between == -working_days_between(b, a, calendar)
    assert between <= 0 if b < a else between >= 0


@property_settings
@given(day_and_calendar(), st.integers(min_value=-800, max_value=800))
def test_working_days_between_counts_the_working_days_one_by_one(case, offset):
    # The count is arithmetic (weeks, then the exceptions in the span); it must equal
    # walking the span day by day, across years and around the admin's entries.
    a, calendar = case
    b = a + dt.timedelta(days=offset)
    low, high = sorted((a, b))
    walked = sum(
        is_working_day(low + dt.timedelta(days=n), calendar)
        for n in range(1, (high - low).days + 1)
    )
    assert working_days_between(a, b, calendar) == (walked if b >= a else -walked)


def test_working_days_between_ignores_a_public_calendar_s_days_of_other_years():
    # A public calendar may list days of several years (kyrgyz_public_holidays reads
    # the next year for transfers); only the asked year's count.
    def both_years(year):
        return deadlines.YearHolidays(
            days_off=frozenset({D(2025, 12, 31), D(2026, 1, 2)}),
            working_weekends=frozenset(),
        )

    calendar = Calendar(public_holidays=both_years)
    # After Monday 2025-12-29 up to Monday 2026-01-05: five weekdays, two of them off.
    assert working_days_between(D(2025, 12, 29), D(2026, 1, 5), calendar) == 3


@property_settings
@given(day_and_calendar(), st.integers(-40, 40), st.integers(-40, 40))
def test_working_days_between_adds_up_over_consecutive_spans(case, i, j):
    a, calendar = case
    b, c = a + dt.timedelta(days=i), a + dt.timedelta(days=j)
    assert working_days_between(a, b, calendar) + working_days_between(
        b, c, calendar
    ) == working_days_between(a, c, calendar)


@property_settings
@given(day_and_calendar())
def test_a_day_counts_once_exactly_when_it_is_a_working_day(case):
    day, calendar = case
    yesterday = day - dt.timedelta(days=1)
    assert working_days_between(yesterday, day, calendar) == int(
        is_working_day(day, calendar)
    )
    assert next_working_day(day, calendar) == add_working_days(day, 1, calendar)


@property_settings
@given(days, st.booleans())
def test_admin_entries_win_over_weekends_and_holidays(day, working):
    kind = "extra_working_days" if working else "extra_days_off"
    assert is_working_day(day, Calendar(**{kind: frozenset({day})})) is working


@property_settings
@given(day_and_calendar(), st.integers(min_value=0, max_value=60))
def test_a_calendar_day_limit_ends_on_the_first_working_day_from_its_date(case, n):
    day, calendar = case
    end = due_date(day, rule("extension", n, "calendar_days", day), calendar)
    plain = day + dt.timedelta(days=n)
    assert end >= plain
    assert is_working_day(end, calendar)
    assert all(
        not is_working_day(plain + dt.timedelta(days=k), calendar)
        for k in range((end - plain).days)
    )


@property_settings
@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=dt.datetime(2040, 12, 31),  # noqa: DTZ001
        timezones=st.just(BISHKEK),
    )
)
def test_counting_starts_on_a_working_day_never_before_arrival(received):
    start = counting_start(received, KG)
    assert is_working_day(start, KG)
    assert start >= received.date()


# --- The Kyrgyz calendar, by example ----------------------------------------------


def test_package_has_orozo_ait_and_kurman_ait_for_2026_under_these_names():
    names = {
        language: holidays.country_holidays("KG", years=2026, language=language)
        for language in ("en_US", "ky", "ru_KG")
    }
    assert names["en_US"][D(2026, 3, 20)] == "Eid al-Fitr"
    assert names["en_US"][D(2026, 5, 27)] == "Eid al-Adha"
    assert names["ky"][D(2026, 3, 20)] == names["ru_KG"][D(2026, 3, 20)] == "Орозо айт"
    assert names["ky"][D(2026, 5, 27)] == names["ru_KG"][D(2026, 5, 27)] == "Курман айт"
    assert not is_working_day(D(2026, 3, 20), KG)  # Friday
    assert not is_working_day(D(2026, 5, 27), KG)  # Wednesday


def test_nooruz_is_a_day_off():
    assert not is_working_day(D(2024, 3, 21), KG)  # Thursday
    assert not is_working_day(D(2025, 3, 21), KG)  # Friday


def test_nooruz_on_a_saturday_gives_no_monday_off_since_the_2025_labour_code():
    assert D(2026, 3, 21).weekday() == 5
    assert is_working_day(D(2026, 3, 23), KG)


def test_new_year_holidays_run_to_orthodox_christmas():
    for day in range(1, 8):
        assert not is_working_day(D(2026, 1, day), KG)
    assert is_working_day(D(2026, 1, 8), KG)
    assert add_working_days(D(2025, 12, 31), 1, KG) == D(2026, 1, 8)


def test_orthodox_christmas_is_a_day_off():
    assert not is_working_day(D(2025, 1, 7), KG)  # Tuesday
    assert not is_working_day(D(2027, 1, 7), KG)  # Thursday


def test_a_saturday_the_package_knows_was_worked_is_a_working_day():
    # 2 January 2025 was a day off moved from Saturday 11 January.
    assert not is_working_day(D(2025, 1, 2), KG)
    assert is_working_day(D(2025, 1, 11), KG)


def test_a_review_deadline_crosses_the_new_year_holidays():
    # Registered Monday 22 December 2025: 7 working days left in December, then
    # 1-7 January off, then 8, 9, 12-16 January.
    assert add_working_days(D(2025, 12, 22), 14, KG) == D(2026, 1, 16)
    assert working_days_between(D(2025, 12, 22), D(2026, 1, 16), KG) == 14
    assert working_days_between(D(2026, 1, 16), D(2025, 12, 22), KG) == -14


def test_a_saturday_made_a_working_day_counts():
    saturday = D(2026, 3, 7)
    calendar = Calendar(extra_working_days=frozenset({saturday}))
    assert is_working_day(saturday, calendar)
    assert add_working_days(D(2026, 3, 6), 1, calendar) == saturday


def test_a_wednesday_made_a_day_off_does_not_count():
    wednesday = D(2026, 3, 11)
    calendar = Calendar(extra_days_off=frozenset({wednesday}))
    assert not is_working_day(wednesday, calendar)
    assert add_working_days(D(2026, 3, 10), 1, calendar) == D(2026, 3, 12)
    assert working_days_between(D(2026, 3, 9), D(2026, 3, 13), calendar) == 3


def test_an_admin_entry_wins_over_a_public_holiday():
    orozo_ait = D(2026, 3, 20)
    assert is_working_day(
        orozo_ait, Calendar(extra_working_days=frozenset({orozo_ait}))
    )


def test_a_day_cannot_be_both_off_and_working():
    day = D(2026, 3, 11)
    with pytest.raises(ValueError):
        Calendar(extra_days_off=frozenset({day}), extra_working_days=frozenset({day}))


# --- Counting start ------------------------------------------------------------------


def test_received_on_a_working_day_before_six_counts_from_that_day():
    assert counting_start(bishkek(2026, 3, 2, 8, 15), KG) == D(2026, 3, 2)
    assert counting_start(bishkek(2026, 3, 2, 17, 59, 59), KG) == D(2026, 3, 2)


def test_received_at_or_after_six_counts_from_the_next_working_day():
    assert counting_start(bishkek(2026, 3, 2, 18, 0), KG) == D(2026, 3, 3)
    assert counting_start(bishkek(2026, 3, 6, 19, 30), KG) == D(2026, 3, 9)  # Friday


def test_received_on_a_sunday_counts_from_monday():
    assert counting_start(bishkek(2026, 3, 1, 11, 0), KG) == D(2026, 3, 2)


def test_received_the_evening_before_a_holiday_counts_from_after_it():
    # Thursday evening; Friday 20 March 2026 is Orozo Ait, then the weekend.
    assert counting_start(bishkek(2026, 3, 19, 18, 30), KG) == D(2026, 3, 23)


def test_counting_start_reads_the_time_in_bishkek():
    # 12:30 UTC is 18:30 in Bishkek (UTC+6): after hours.
    assert counting_start(dt.datetime(2026, 3, 2, 12, 30, tzinfo=UTC), KG) == D(
        2026, 3, 3
    )
    # 23:30 UTC on Sunday is 05:30 on Monday in Bishkek.
    assert counting_start(dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), KG) == D(
        2026, 3, 2
    )


def test_counting_start_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        counting_start(dt.datetime(2026, 3, 2, 10, 0), KG)  # noqa: DTZ001


def test_review_deadline_is_fourteen_working_days_after_day_zero():
    review = rule("review", 14, "working_days", D(2007, 5, 4))
    monday = counting_start(bishkek(2026, 3, 2, 10, 0), KG)
    # 3-6 March (4), 9-13 (9), 16-19 (13); Friday 20 March is Orozo Ait; 23 March.
    assert due_date(monday, review, KG) == D(2026, 3, 23)


# --- Rules, without the database -----------------------------------------------------


def test_the_rule_in_force_is_the_latest_that_has_started():
    rules = [
        rule("review", 30, "calendar_days", D(2007, 5, 4)),
        rule("review", 14, "working_days", D(2012, 1, 1)),
        rule("review", 10, "working_days", D(2026, 10, 1)),
        rule("registration", 1, "working_days", D(2007, 5, 4)),
    ]
    assert rule_for("review", D(2011, 12, 31), rules).value == 30
    assert rule_for("review", D(2026, 9, 30), rules).value == 14
    assert rule_for("review", D(2026, 10, 1), rules).value == 10
    assert rule_for("registration", D(2026, 10, 1), rules).value == 1
    with pytest.raises(NoDeadlineRule):
        rule_for("review", D(2007, 5, 3), rules)
    with pytest.raises(NoDeadlineRule):
        rule_for("forwarding", D(2026, 10, 1), rules)


def test_a_calendar_day_limit_ending_on_a_day_off_moves_to_the_next_working_day():
    three_days = rule("extension", 3, "calendar_days", D(2007, 5, 4))
    assert due_date(D(2026, 4, 1), three_days, KG) == D(2026, 4, 6)  # Sat → Mon
    assert due_date(D(2026, 3, 30), three_days, KG) == D(2026, 4, 2)  # Thursday


def test_an_unknown_unit_is_an_error():
    with pytest.raises(ValueError):
        due_date(D(2026, 4, 1), rule("review", 3, "fortnights", D(2007, 5, 4)), KG)


def test_the_units_of_the_arithmetic_are_those_of_the_rule_table():
    assert set(DeadlineRule.Unit.values) == {
        deadlines.WORKING_DAYS,
        deadlines.CALENDAR_DAYS,
    }


# --- With the database ---------------------------------------------------------------


@pytest.mark.django_db
class TestRuleTable:
    def test_the_law_s_time_limits_are_in_the_table_with_their_source(self):
        today = D(2026, 3, 2)
        expected = {
            "registration": (1, "working_days"),
            "review": (14, "working_days"),
            "forwarding": (5, "working_days"),
            "extension": (30, "calendar_days"),
        }
        for code, (value, unit) in expected.items():
            found = rule_for(code, today)
            assert (found.value, found.unit) == (value, unit)
            assert "Law No. 67 of 4 May 2007" in found.source

    def test_the_2026_bill_is_not_in_the_table_until_it_is_in_force(self):
        assert list(
            DeadlineRule.objects.filter(code="review").values_list("value", flat=True)
        ) == [14]

    def test_appeals_registered_before_a_change_of_law_keep_the_old_limit(self):
        # A later row is all a change of law takes (the date here is hypothetical).
        DeadlineRule.objects.create(
            code="review",
            value=10,
            unit="working_days",
            applies_from=D(2026, 10, 1),
            source="Test: a law shortening the review, in force 1 October 2026",
        )
        eve = counting_start(bishkek(2026, 9, 30, 10, 0), KG)
        first_day = counting_start(bishkek(2026, 10, 1, 10, 0), KG)

        assert rule_for("review", eve).value == 14
        assert due_date(eve, rule_for("review", eve), KG) == D(2026, 10, 20)
        assert rule_for("review", first_day).value == 10
        assert due_date(first_day, rule_for("review", first_day), KG) == D(2026, 10, 15)

    def test_one_rule_per_code_and_start_date(self):
        with pytest.raises(IntegrityError):
            DeadlineRule.objects.create(
                code="review",
                value=12,
                unit="working_days",
                applies_from=D(2007, 5, 4),
                source="duplicate",
            )

    def test_a_rule_reads_as_its_limit(self):
        with translation.override("en"):
            text = str(rule_for("review", D(2026, 3, 2)))
        assert text == ("review after registration: 14 working days (2007-05-04)")


@pytest.mark.django_db
class TestCalendarEntries:
    def test_a_saturday_entered_as_a_working_day_counts(self):
        saturday = D(2026, 3, 7)
        assert not is_working_day(saturday)
        CalendarDay.objects.create(
            day=saturday,
            kind=CalendarDay.Kind.WORKING_DAY,
            reason_en="Worked instead of Monday 9 March (test)",
        )
        assert is_working_day(saturday)
        assert add_working_days(D(2026, 3, 6), 1) == saturday

    def test_a_wednesday_entered_as_a_day_off_does_not_count_until_deleted(self):
        wednesday = D(2026, 3, 11)
        entry = CalendarDay.objects.create(
            day=wednesday,
            kind=CalendarDay.Kind.DAY_OFF,
            reason_ky="Өкмөттүн токтому менен которулган күн (тест)",
            reason_ru="День перенесён постановлением Правительства (тест)",
        )
        assert not is_working_day(wednesday)
        assert add_working_days(D(2026, 3, 10), 1) == D(2026, 3, 12)
        entry.delete()
        assert is_working_day(wednesday)

    def test_the_calendar_is_loaded_once_and_reused(self, django_assert_num_queries):
        deadlines.clear_calendar_cache()
        with django_assert_num_queries(1):
            first = deadlines.default_calendar()
        with django_assert_num_queries(0):
            assert deadlines.default_calendar() is first

    def test_other_processes_reload_when_the_edition_changes_on_commit(
        self, django_capture_on_commit_callbacks
    ):
        deadlines.default_calendar()
        edition = cache.get(deadlines.CALENDAR_EDITION_KEY)
        with django_capture_on_commit_callbacks(execute=True):
            CalendarDay.objects.create(
                day=D(2026, 3, 14),
                kind=CalendarDay.Kind.WORKING_DAY,
                reason_en="test",
            )
        assert cache.get(deadlines.CALENDAR_EDITION_KEY) not in (None, edition)

    def test_a_stale_process_reloads_when_another_changed_the_edition(self):
        saturday = D(2026, 3, 14)
        stale = deadlines.default_calendar()
        # Written without signals, as if by another process whose signal we missed.
        CalendarDay.objects.bulk_create(
            [CalendarDay(day=saturday, kind="working_day", reason_en="test")]
        )
        assert deadlines.default_calendar() is stale
        cache.set(deadlines.CALENDAR_EDITION_KEY, "another process's edition")
        assert saturday in deadlines.default_calendar().extra_working_days

    def test_one_calendar_reads_the_edition_once_for_a_whole_page(self):
        first = deadlines.default_calendar()
        with deadlines.one_calendar():
            assert deadlines.default_calendar() is first
            cache.set(deadlines.CALENDAR_EDITION_KEY, "another process's edition")
            assert deadlines.default_calendar() is first  # the page stays consistent
        assert deadlines.default_calendar() is not first  # the next one reloads

    def test_a_change_within_one_calendar_is_seen_at_once(self):
        wednesday = D(2026, 3, 11)
        with deadlines.one_calendar():
            assert is_working_day(wednesday)
            CalendarDay.objects.create(
                day=wednesday, kind=CalendarDay.Kind.DAY_OFF, reason_en="test"
            )
            assert not is_working_day(wednesday)

    def test_an_entry_reads_as_its_day_and_kind(self):
        entry = CalendarDay.objects.create(
            day=D(2026, 12, 31), kind=CalendarDay.Kind.DAY_OFF, reason_en="test"
        )
        with translation.override("en"):
            assert str(entry) == "2026-12-31 · day off"


@pytest.mark.django_db
class TestAdmin:
    def test_superusers_keep_the_rules_and_the_calendar_in_the_admin(
        self, client, django_user_model
    ):
        root = django_user_model.objects.create_superuser("root", password="x" * 16)
        login_staff(client, root)
        rules = client.get("/en/admin/appeals/deadlinerule/")
        assert rules.status_code == 200
        assert "Law No. 67 of 4 May 2007" in rules.content.decode()
        assert client.get("/en/admin/agencies/calendarday/add/").status_code == 200
        response = client.post(
            "/en/admin/agencies/calendarday/add/",
            {
                "day": "2026-03-14",
                "kind": "working_day",
                "reason_ky": "Өкмөттүн токтому (тест)",
                "reason_ru": "Постановление Правительства (тест)",
                "reason_en": "Government resolution (test)",
            },
        )
        assert response.status_code == 302
        assert is_working_day(D(2026, 3, 14))

    def test_staff_who_are_not_superusers_cannot_change_the_rules(
        self, client, django_user_model
    ):
        clerk = django_user_model.objects.create_user(
            "clerk", password="x" * 16, is_staff=True
        )
        clerk.user_permissions.add(
            *Permission.objects.filter(codename__endswith="deadlinerule")
        )
        login_staff(client, clerk)
        assert client.get("/en/admin/appeals/deadlinerule/").status_code == 403
