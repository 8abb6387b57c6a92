import datetime as dt
import uuid
from decimal import Decimal

import pytest

from agencies.models import Agency
from appeals.intake import filing, registration
from appeals.models import Channel, Form, Kind
from reports.selectors import (
    intake_by_channel,
    intake_years,
    open_statistics,
    share,
)

pytestmark = pytest.mark.django_db

ORDER = ["president_office", "jogorku_kenesh", "public_reception", "portal", "other"]


@pytest.fixture
def apparatus() -> Agency:
    return Agency.objects.get(slug="gov-apparatus")


def receive(agency, day, channel, *, form=Form.WRITTEN, count=1):
    for number in range(count):
        registration.import_archival_appeal(
            agency=agency,
            received_on=day,
            channel=channel,
            form=form,
            applicant_name=f"Applicant {number}",
            delivery="post" if channel == Channel.OTHER else "",
        )


def submit_through_portal(day: dt.date):
    received_at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Not yet registered",
        text="An appeal nobody has registered yet.",
        language="ky",
        kind=Kind.STATEMENT,
        received_at=received_at,
    ).appeal


def year_2025():
    return {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 12, 31)}


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        (1, 8, "12.5"),
        (1, 6, "16.7"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (1, 16, "6.3"),  # 6.25: half up, not half to even
        (3, 8, "37.5"),
        (8, 8, "100.0"),
        (0, 8, "0.0"),
        (0, 0, "0.0"),
    ],
)
def test_share_has_one_decimal_rounded_half_up(count, total, expected):
    assert share(count, total) == Decimal(expected)
    assert str(share(count, total)) == expected


def test_intake_counts_written_appeals_by_channel_with_shares(apparatus):
    day = dt.date(2025, 3, 10)
    receive(apparatus, day, Channel.PRESIDENT_OFFICE)
    receive(apparatus, day, Channel.JOGORKU_KENESH, count=2)
    receive(apparatus, day, Channel.OTHER, count=5)

    intake = intake_by_channel(**year_2025())

    assert intake["written_total"] == 8
    assert intake["oral_total"] == 0
    assert intake["by_channel"] == {
        "president_office": {"count": 1, "share": Decimal("12.5")},
        "jogorku_kenesh": {"count": 2, "share": Decimal("25.0")},
        "public_reception": {"count": 0, "share": Decimal("0.0")},
        "portal": {"count": 0, "share": Decimal("0.0")},
        "other": {"count": 5, "share": Decimal("62.5")},
    }


def test_intake_rounds_shares_half_up(apparatus):
    day = dt.date(2025, 5, 5)
    receive(apparatus, day, Channel.PRESIDENT_OFFICE)
    receive(apparatus, day, Channel.PORTAL, count=5)

    by_channel = intake_by_channel(**year_2025())["by_channel"]

    assert by_channel["president_office"]["share"] == Decimal("16.7")
    assert by_channel["portal"]["share"] == Decimal("83.3")


def test_intake_has_every_channel_in_the_published_order_even_when_empty():
    intake = intake_by_channel(**year_2025())
    assert list(intake["by_channel"]) == ORDER
    assert intake["written_total"] == 0
    assert all(row == {"count": 0, "share": 0} for row in intake["by_channel"].values())


def test_portal_submissions_not_yet_registered_are_not_counted(apparatus):
    day = dt.date(2025, 6, 2)
    receive(apparatus, day, Channel.PORTAL)
    receive(apparatus, day, Channel.OTHER, count=2)
    submit_through_portal(day)
    submit_through_portal(day)

    intake = intake_by_channel(**year_2025())

    assert intake["written_total"] == 3
    assert intake["by_channel"]["portal"] == {"count": 1, "share": Decimal("33.3")}
    assert intake["by_channel"]["other"] == {"count": 2, "share": Decimal("66.7")}


def test_oral_appeals_are_one_separate_figure(apparatus):
    day = dt.date(2025, 7, 1)
    receive(apparatus, day, Channel.PUBLIC_RECEPTION, form=Form.ORAL, count=3)
    receive(apparatus, day, Channel.PUBLIC_RECEPTION)
    receive(apparatus, day, Channel.OTHER)

    intake = intake_by_channel(**year_2025())

    assert intake["oral_total"] == 3
    assert intake["written_total"] == 2
    assert intake["by_channel"]["public_reception"] == {
        "count": 1,
        "share": Decimal("50.0"),
    }


def test_intake_counts_both_ends_of_the_period_and_nothing_outside(apparatus):
    for day in (
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 1),
        dt.date(2025, 3, 31),
        dt.date(2025, 4, 1),
    ):
        receive(apparatus, day, Channel.OTHER)

    intake = intake_by_channel(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))

    assert intake["written_total"] == 2


def test_intake_is_one_query(apparatus, django_assert_num_queries):
    receive(apparatus, dt.date(2025, 2, 2), Channel.OTHER)
    receive(apparatus, dt.date(2025, 2, 2), Channel.OTHER, form=Form.ORAL)
    with django_assert_num_queries(1):
        intake_by_channel(**year_2025())


def test_years_are_those_with_counted_appeals_and_the_current_one(apparatus):
    receive(apparatus, dt.date(2023, 5, 1), Channel.OTHER)
    receive(apparatus, dt.date(2025, 5, 1), Channel.OTHER)
    submit_through_portal(dt.date(2021, 5, 1))  # only a submission: not a year to show

    assert intake_years(today=dt.date(2026, 3, 14)) == [2026, 2025, 2023]


def test_past_year_is_compared_with_the_whole_year_before(apparatus):
    receive(apparatus, dt.date(2025, 12, 31), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2024, 12, 31), Channel.OTHER, count=2)

    stats = open_statistics(year=2025, today=dt.date(2026, 3, 14))

    assert (stats.start, stats.end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert (stats.previous_start, stats.previous_end) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )
    assert not stats.is_year_to_date
    assert stats.written_total == 1
    assert stats.previous_written_total == 2


def test_current_year_is_compared_with_the_same_days_of_the_year_before(apparatus):
    receive(apparatus, dt.date(2026, 3, 14), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2025, 3, 14), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2025, 3, 14), Channel.OTHER, form=Form.ORAL)
    receive(apparatus, dt.date(2025, 3, 15), Channel.PRESIDENT_OFFICE)  # later day

    stats = open_statistics(year=2026, today=dt.date(2026, 3, 14))

    assert stats.is_year_to_date
    assert stats.previous_end == dt.date(2025, 3, 14)
    assert [row.code for row in stats.rows] == ORDER
    president = stats.rows[0]
    assert (president.count, president.share) == (1, Decimal("100.0"))
    assert (president.previous_count, president.previous_share) == (
        1,
        Decimal("100.0"),
    )
    assert stats.previous_oral_total == 1
    assert stats.oral_total == 0


def test_leap_day_is_compared_with_the_last_day_of_february():
    stats = open_statistics(year=2028, today=dt.date(2028, 2, 29))
    assert stats.previous_end == dt.date(2027, 2, 28)
