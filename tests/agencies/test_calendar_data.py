"""The working-day calendar's data (issue 29, part 6): the Cabinet of Ministers' days off
of January 2026 that the `holidays` package does not know, as calendar rows with their
source."""

import datetime as dt

import pytest

from agencies.models import CalendarDay
from appeals.deadlines import calendar
from appeals.deadlines.calendar import (
    Calendar,
    add_working_days,
    kyrgyz_public_holidays,
    working_days_between,
)

pytestmark = pytest.mark.django_db

JAN = {day: dt.date(2026, 1, day) for day in range(1, 32)}


@pytest.fixture
def fresh_calendar():
    calendar.clear_calendar_cache()
    yield calendar.default_calendar()
    calendar.clear_calendar_cache()


def test_the_package_does_not_know_the_two_days():
    # Why the rows exist: if a later `holidays` knows them, the rows are harmless.
    known = kyrgyz_public_holidays(2026).days_off
    assert JAN[7] in known and JAN[2] in known
    assert JAN[8] not in known and JAN[9] not in known


def test_the_migration_adds_8_and_9_january_2026_as_days_off_with_their_source():
    rows = CalendarDay.objects.filter(day__in=[JAN[8], JAN[9]]).order_by("day")
    assert [(row.day, row.kind) for row in rows] == [
        (JAN[8], CalendarDay.Kind.DAY_OFF),
        (JAN[9], CalendarDay.Kind.DAY_OFF),
    ]
    for row in rows:
        assert "Cabinet of Ministers decree on the 2026 holidays" in row.reason_en
        assert "Кабинета Министров" in row.reason_ru
        assert "Министрлер Кабинетинин" in row.reason_ky
        assert all(len(text) <= 300 for text in (row.reason_ky, row.reason_ru))
    # No working Saturday in exchange: the adopted decree has none.
    assert not CalendarDay.objects.filter(
        day__year=2026, kind=CalendarDay.Kind.WORKING_DAY
    ).exists()


def test_work_resumes_on_12_january_2026(fresh_calendar):
    assert JAN[8] in fresh_calendar.extra_days_off
    # Christmas on Wednesday the 7th; the next working day is Monday the 12th.
    assert add_working_days(JAN[7], 1) == JAN[12]
    assert add_working_days(JAN[7], 1, fresh_calendar) == JAN[12]
    assert add_working_days(JAN[6], 2) == JAN[13]
    assert working_days_between(JAN[7], JAN[12]) == 1
    assert working_days_between(JAN[1], JAN[31]) == 15
    # Without the rows, the package alone would count the 8th.
    assert add_working_days(JAN[7], 1, Calendar()) == JAN[8]


def test_a_review_period_starting_on_7_january_2026_ends_two_days_later(
    fresh_calendar,
):
    # 14 working days after day zero 7 January: 12-16, 19-23, 26-29 January.
    assert add_working_days(JAN[7], 14) == JAN[29]
    assert add_working_days(JAN[7], 14, Calendar()) == dt.date(2026, 1, 27)


def test_a_reverse_of_the_migration_leaves_an_admins_own_entry():
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "agencies.migrations.0006_calendar_2026_new_year"
    )
    CalendarDay.objects.filter(day=JAN[9]).delete()
    CalendarDay.objects.create(
        day=JAN[9], kind=CalendarDay.Kind.WORKING_DAY, reason="admin's own"
    )
    migration.add_days_off(apps, None)  # runs twice without harm
    assert CalendarDay.objects.get(day=JAN[9]).kind == CalendarDay.Kind.WORKING_DAY
    migration.remove_days_off(apps, None)
    assert not CalendarDay.objects.filter(day=JAN[8]).exists()
    assert CalendarDay.objects.get(day=JAN[9]).reason == "admin's own"
    migration.add_days_off(apps, None)
