"""Reporting periods: parsed from their labels, compared with the year before, titled.

A label is what a manager types and what the JSON keys carry: `2020-Q1`..`2020-Q4`,
`2020-H1`, `2020-H2`, `2020-9M` (January to September), `2020`, or a range of days
`2020-01-01..2020-02-15` (both ends inclusive). The days are Asia/Bishkek calendar days:
appeals are counted by `Appeal.received_on`, which is already the Bishkek date.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


@dataclass(frozen=True)
class Period:
    """A reporting period: `label` as written on the command line ("2020-Q1",
    "2019-H1", "2019-9M", "2019", "2020-01-01..2020-02-15"), both ends inclusive."""

    label: str
    start: dt.date
    end: dt.date


_YEAR = r"(?P<year>[1-9][0-9]{3})"
_NAMED = re.compile(rf"^{_YEAR}(?:-(?P<part>Q[1-4]|H[12]|9M))?$")
# Years from 1000, in ranges as in named periods, so that every period accepted has a
# year before it that `date` can hold.
_DAY = r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
_RANGE = re.compile(rf"^(?P<start>{_DAY})\.\.(?P<end>{_DAY})$")

# The first and last month of each named part of a year.
_MONTHS = {
    None: (1, 12),
    "Q1": (1, 3),
    "Q2": (4, 6),
    "Q3": (7, 9),
    "Q4": (10, 12),
    "H1": (1, 6),
    "H2": (7, 12),
    "9M": (1, 9),
}


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _named(year: int, part: str | None) -> Period:
    first, last = _MONTHS[part]
    label = f"{year:04d}-{part}" if part else f"{year:04d}"
    return Period(label=label, start=dt.date(year, first, 1), end=_last_day(year, last))


def _unknown(text: str) -> ValueError:
    return ValueError(
        _(
            "Unknown period “%(period)s”: write 2020-Q1 (to Q4), 2020-H1, 2020-H2, "
            "2020-9M, 2020, or a range of days such as 2020-01-01..2020-02-15."
        )
        % {"period": text}
    )


def parse_period(text: str) -> Period:
    """The period a label names; ValueError (translated) for anything else.

    Letters may be lower case (`2020-q1`); the label is kept in the canonical form.
    """
    cleaned = text.strip().upper()
    named = _NAMED.match(cleaned)
    if named:
        return _named(int(named["year"]), named["part"])
    days = _RANGE.match(cleaned)
    if not days:
        raise _unknown(text)
    try:
        start = dt.date.fromisoformat(days["start"])
        end = dt.date.fromisoformat(days["end"])
    except ValueError:
        raise ValueError(
            _("The period “%(period)s” names a day that does not exist.")
            % {"period": text}
        ) from None
    if end < start:
        raise ValueError(
            _("The period “%(period)s” ends before it starts.") % {"period": text}
        )
    return Period(label=f"{start.isoformat()}..{end.isoformat()}", start=start, end=end)


def same_day_a_year_earlier(day: dt.date) -> dt.date:
    """The same calendar day a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return dt.date(day.year - 1, 2, 28)


def previous_period(period: Period) -> Period:
    """The same span one year earlier, labelled in the same style (2019-Q1, 2019,
    2019-01-01..2019-02-15)."""
    named = _NAMED.match(period.label)
    if named:
        return _named(int(named["year"]) - 1, named["part"])
    start = same_day_a_year_earlier(period.start)
    end = same_day_a_year_earlier(period.end)
    return Period(label=f"{start.isoformat()}..{end.isoformat()}", start=start, end=end)


def _format_day(day: dt.date, language: str) -> str:
    # Kyrgyz and Russian official papers write 15.02.2020; English gets ISO 8601, which
    # no reader mistakes for month-first.
    if language in ("ky", "ru"):
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    return day.isoformat()


def period_title(period: Period, language: str) -> str:
    """The period in words, as the chancellery titles its figures: "I квартал 2020
    года", "2020-жылдын I кварталы", "Q1 2020"; a range of days as its two dates."""
    with translation.override(language):
        named = _NAMED.match(period.label)
        if not named:
            # Translators: ru "период %(start)s – %(end)s" reads well after "за".
            return pgettext("reporting period", "%(start)s – %(end)s") % {
                "start": _format_day(period.start, language),
                "end": _format_day(period.end, language),
            }
        year = int(named["year"])
        part = named["part"]
        # One msgid per part, so a translator can write the Roman numeral and the
        # grammatical case each language needs (glossary: квартал; жарым жылдык /
        # полугодие; 9 ай / 9 месяцев).
        if part == "Q1":
            # Translators: ru "I квартал %(year)d года", ky "%(year)d-жылдын I кварталы"
            title = _("Q1 %(year)d")
        elif part == "Q2":
            # Translators: ru "II квартал %(year)d года", ky "%(year)d-жылдын II кварталы"
            title = _("Q2 %(year)d")
        elif part == "Q3":
            # Translators: ru "III квартал %(year)d года", ky "%(year)d-жылдын III кварталы"
            title = _("Q3 %(year)d")
        elif part == "Q4":
            # Translators: ru "IV квартал %(year)d года", ky "%(year)d-жылдын IV кварталы"
            title = _("Q4 %(year)d")
        elif part == "H1":
            # Translators: ru "I полугодие %(year)d года", ky "%(year)d-жылдын I жарым жылдыгы"
            title = _("first half of %(year)d")
        elif part == "H2":
            # Translators: ru "II полугодие %(year)d года", ky "%(year)d-жылдын II жарым жылдыгы"
            title = _("second half of %(year)d")
        elif part == "9M":
            # Translators: ru "9 месяцев %(year)d года", ky "%(year)d-жылдын 9 айы"
            title = _("nine months of %(year)d")
        else:
            # Translators: ru "%(year)d год", ky "%(year)d-жыл"
            title = pgettext("reporting period", "%(year)d")
        return title % {"year": year}
