"""Reads for statistics: intake of appeals by channel, counted in SQL."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count

from appeals.models import Appeal, Channel, Form, Status

# The rows of every intake report, in the order the chancellery publishes them.
CHANNEL_ORDER = (
    Channel.PRESIDENT_OFFICE,
    Channel.JOGORKU_KENESH,
    Channel.PUBLIC_RECEPTION,
    Channel.PORTAL,
    Channel.OTHER,
)
ONE_DECIMAL = Decimal("0.1")


def _counted_appeals():
    # A portal submission nobody has registered yet is not an appeal received.
    return Appeal.objects.exclude(status=Status.SUBMITTED)


def share(count: int, total: int) -> Decimal:
    """Per cent of the total, one decimal, rounded half up as published (1/8 = 12.5)."""
    if not total:
        return Decimal("0.0")
    return (Decimal(count) * 100 / Decimal(total)).quantize(
        ONE_DECIMAL, rounding=ROUND_HALF_UP
    )


def intake_by_channel(*, start: dt.date, end: dt.date) -> dict:
    """Appeals received from start to end (both days included), by channel.

    Returns {"written_total": int, "oral_total": int,
    "by_channel": {code: {"count": int, "share": Decimal}}} with every channel code,
    in CHANNEL_ORDER; shares are of the written total. Oral appeals are one figure.
    """
    # Keep this name and return shape: the full intake report builds on it.
    counts = {
        (row["channel"], row["form"]): row["count"]
        for row in _counted_appeals()
        .filter(received_on__range=(start, end))
        .order_by()
        .values("channel", "form")
        .annotate(count=Count("id"))
    }
    written = {
        code.value: counts.get((code.value, Form.WRITTEN.value), 0)
        for code in CHANNEL_ORDER
    }
    written_total = sum(written.values())
    oral_total = sum(
        count for (_channel, form), count in counts.items() if form == Form.ORAL
    )
    return {
        "written_total": written_total,
        "oral_total": oral_total,
        "by_channel": {
            code: {"count": count, "share": share(count, written_total)}
            for code, count in written.items()
        },
    }


def intake_years(*, today: dt.date) -> list[int]:
    """Years that have counted appeals, and the current one, newest first."""
    years = {day.year for day in _counted_appeals().dates("received_on", "year")}
    return sorted(years | {today.year}, reverse=True)


def _same_day_in(year: int, day: dt.date) -> dt.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        return dt.date(year, 2, 28)


@dataclass(frozen=True)
class ChannelRow:
    code: str
    label: str
    count: int
    share: Decimal
    previous_count: int
    previous_share: Decimal


@dataclass(frozen=True)
class OpenStatistics:
    year: int
    previous_year: int
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    rows: list[ChannelRow]
    written_total: int
    previous_written_total: int
    oral_total: int
    previous_oral_total: int

    @property
    def is_year_to_date(self) -> bool:
        """The year is not over: both years are counted up to the same day."""
        return self.end != dt.date(self.year, 12, 31)


def open_statistics(*, year: int, today: dt.date) -> OpenStatistics:
    """The public page's figures: a year (up to today if it is the current one)
    beside the same days of the year before."""
    start = dt.date(year, 1, 1)
    end = today if year == today.year else dt.date(year, 12, 31)
    previous_start = dt.date(year - 1, 1, 1)
    previous_end = _same_day_in(year - 1, end)
    current = intake_by_channel(start=start, end=end)
    previous = intake_by_channel(start=previous_start, end=previous_end)
    return OpenStatistics(
        year=year,
        previous_year=year - 1,
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=previous_end,
        rows=[
            ChannelRow(
                code=code.value,
                label=code.label,
                count=current["by_channel"][code.value]["count"],
                share=current["by_channel"][code.value]["share"],
                previous_count=previous["by_channel"][code.value]["count"],
                previous_share=previous["by_channel"][code.value]["share"],
            )
            for code in CHANNEL_ORDER
        ],
        written_total=current["written_total"],
        previous_written_total=previous["written_total"],
        oral_total=current["oral_total"],
        previous_oral_total=previous["oral_total"],
    )
