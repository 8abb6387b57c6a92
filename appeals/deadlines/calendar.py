"""Working-day arithmetic on the Kyrgyz calendar and the table of time limits of the law.

The calendar
    A day is a working day unless it is a Saturday or Sunday or a public holiday of the
    Kyrgyz Republic (the `holidays` package, version pinned in pyproject.toml). The
    package also knows the day transfers of past years: the weekday it gives as a
    "day off (substituted from ...)" and the Saturday worked instead
    (`weekend_workdays`); both are used, otherwise a past year would lose a working day.
    Above both stand the calendar entries an admin keeps (agencies.CalendarDay) for the
    transfers the Government announces each year, which no package knows in advance:
    an entry always wins. The arithmetic below is pure: it takes a `Calendar` value;
    `default_calendar()` builds the real one from the database and caches it.

What "counting starts" means
    The law counts its time limits from an event: registration "within one working day
    of receipt", review "within 14 working days from the date of registration" (Law
    No. 67 of 4 May 2007; the review period is in art. 8). A period counted from an
    event starts on the day after it (the general civil-law rule for periods: the day
    of the event is not counted), and a time limit ends at the end of its last day.
    So:

    * `counting_start(moment)` is *day zero*: the working day on which the event is
      deemed to have happened. An appeal received on a working day before 18:00
      (Asia/Bishkek) is received that day; one received at or after 18:00, or on a day
      off, is deemed received at the opening of the next working day, so that day is
      its day zero. Day zero itself is never counted.
    * `add_working_days(day_zero, n)` is the n-th working day after day zero: the last
      day of the time limit, which is met by acting before that day ends.

    Hence the registration deadline is
    `due_date(counting_start(received_at), rule_for("registration", ...))` and the
    review deadline is `due_date(counting_start(registered_at), rule_for("review", ...))`:
    received (or registered) on Monday 10:00 → day zero Monday → 14 working days end on
    the 14th working day after Monday; received on Monday 19:00 → day zero Tuesday, one
    working day later, as if it had arrived on Tuesday morning. Registration is done by
    a clerk during working hours, so its day zero is normally its own date.

Time limits as data
    `DeadlineRule` rows (appeals.models) hold each time limit with its unit, its source
    in the law and the date from which it applies; `rule_for(code, on)` picks the row in
    force on the day the period starts, so a change of law is a new row and appeals
    whose period started earlier keep the old limit. The default rows come from the
    data migration appeals/0005_deadline_rules.py, each with its source.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

import holidays
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agencies.models import CalendarDay
from appeals.models import DeadlineRule

BISHKEK = ZoneInfo("Asia/Bishkek")
# Working hours are 09:00-18:00; an appeal that arrives before opening is simply
# received that day, so only the end of the day matters for counting.
WORKDAY_ENDS = dt.time(18, 0)

# Units of DeadlineRule.unit (appeals.models.DeadlineRule.Unit has the same values).
WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"

ONE_DAY = dt.timedelta(days=1)


# --- The calendar -----------------------------------------------------------------


class YearHolidays(NamedTuple):
    """One year of the public calendar: weekdays off and weekend days worked."""

    days_off: frozenset[dt.date]
    working_weekends: frozenset[dt.date]


@lru_cache(maxsize=128)
def kyrgyz_public_holidays(year: int) -> YearHolidays:
    """Public holidays of the Kyrgyz Republic in `year`, per the `holidays` package.

    Deterministic for a pinned package version, hence cached for the process. The
    language is passed explicitly because the package otherwise picks it from the
    environment (LANG); names are not used here, only dates.
    """
    # A transfer may take its working Saturday from the previous year (a day off on
    # 2 January worked on 29 December), so the next year is read too.
    kg = holidays.country_holidays("KG", years=(year, year + 1), language="en_US")
    return YearHolidays(
        days_off=frozenset(day for day in kg if day.year == year),
        working_weekends=frozenset(
            day for day in kg.weekend_workdays if day.year == year
        ),
    )


def no_public_holidays(year: int) -> YearHolidays:
    """A calendar without public holidays: weekends only (for tests and examples)."""
    return YearHolidays(frozenset(), frozenset())


@dataclass(frozen=True)
class Calendar:
    """Everything that decides whether a day is a working day.

    `extra_days_off` and `extra_working_days` are the admin's calendar entries and win
    over weekends and public holidays; `public_holidays` gives one year of the public
    calendar (the Kyrgyz one by default).
    """

    extra_days_off: frozenset[dt.date] = frozenset()
    extra_working_days: frozenset[dt.date] = frozenset()
    public_holidays: Callable[[int], YearHolidays] = field(
        default=kyrgyz_public_holidays
    )

    def __post_init__(self) -> None:
        both = self.extra_days_off & self.extra_working_days
        if both:
            raise ValueError(f"days both off and working: {sorted(both)}")


def is_working_day(day: dt.date, calendar: Calendar | None = None) -> bool:
    if calendar is None:
        calendar = default_calendar()
    if day in calendar.extra_working_days:
        return True
    if day in calendar.extra_days_off:
        return False
    return _is_public_working_day(day, calendar)


def _is_public_working_day(day: dt.date, calendar: Calendar) -> bool:
    """Working day by weekends and the public calendar alone (no admin's entries)."""
    year = calendar.public_holidays(day.year)
    if day.weekday() >= 5:  # Saturday, Sunday
        return day in year.working_weekends
    return day not in year.days_off


def add_working_days(
    start: dt.date, n: int, calendar: Calendar | None = None
) -> dt.date:
    """The n-th working day after `start` (`start` not counted); `start` when n = 0.

    A negative n counts back: the |n|-th working day before `start`. So
    `working_days_between(start, add_working_days(start, n)) == n` for every n >= 0, and
    for n < 0 when `start` is itself a working day (between counts the later end).
    """
    if calendar is None:
        calendar = default_calendar()
    step = ONE_DAY if n > 0 else -ONE_DAY
    day, remaining = start, abs(n)
    while remaining:
        day += step
        if is_working_day(day, calendar):
            remaining -= 1
    return day


def working_days_between(
    a: dt.date, b: dt.date, calendar: Calendar | None = None
) -> int:
    """The working days after `a` up to and including `b`; negative when b < a.

    Antisymmetric: working_days_between(a, b) == -working_days_between(b, a).
    """
    if b < a:
        return -working_days_between(b, a, calendar)
    if calendar is None:
        calendar = default_calendar()
    return _working_days_between(a, b, calendar)


@lru_cache(maxsize=4096)
def _working_days_between(a: dt.date, b: dt.date, calendar: Calendar) -> int:
    # Cached by value (a Calendar is frozen): the inbox asks for the same few due
    # dates on every page.
    #
    # Counted, not walked day by day (the inbox shows it for every row): the weekdays
    # in (a, b], then the exceptions inside the span — public holidays on weekdays,
    # weekend days worked, and the admin's entries, which win over both.
    weeks, rest = divmod((b - a).days, 7)
    first = a.weekday()
    count = weeks * 5 + sum((first + n) % 7 < 5 for n in range(1, rest + 1))
    for year in range(a.year, b.year + 1):
        public = calendar.public_holidays(year)
        count -= sum(
            1
            for day in public.days_off
            if day.year == year and a < day <= b and day.weekday() < 5
        )
        count += sum(
            1
            for day in public.working_weekends
            if day.year == year and a < day <= b and day.weekday() >= 5
        )
    for day in calendar.extra_working_days:
        if a < day <= b and not _is_public_working_day(day, calendar):
            count += 1
    for day in calendar.extra_days_off:
        if a < day <= b and _is_public_working_day(day, calendar):
            count -= 1
    return count


def next_working_day(day: dt.date, calendar: Calendar | None = None) -> dt.date:
    """The first working day after `day`."""
    return add_working_days(day, 1, calendar)


def counting_start(
    received_at: dt.datetime, calendar: Calendar | None = None
) -> dt.date:
    """Day zero of a period that runs from the moment `received_at` (see the module
    docstring): its Bishkek date if that is a working day and the moment is before
    18:00, otherwise the next working day."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("counting_start needs a timezone-aware datetime")
    if calendar is None:
        calendar = default_calendar()
    local = received_at.astimezone(BISHKEK)
    day = local.date()
    if is_working_day(day, calendar) and local.time() < WORKDAY_ENDS:
        return day
    return next_working_day(day, calendar)


# --- Time limits --------------------------------------------------------------------


class DeadlineRuleLike(Protocol):
    code: str
    value: int
    unit: str
    applies_from: dt.date


class NoDeadlineRule(LookupError):
    """No rule of that code applies on that day: the rule table is incomplete."""


def rule_for(
    code: str, on: dt.date, rules: Iterable[DeadlineRuleLike] | None = None
) -> DeadlineRuleLike:
    """The rule of `code` in force on `on`: the one with the latest applies_from <= on.

    `on` is the day the period starts (the registration date for the review), so an
    appeal registered before a change of law keeps the old limit. `rules` replaces the
    DeadlineRule table (pure use, tests).
    """
    if rules is None:
        rule = (
            DeadlineRule.objects.filter(code=code, applies_from__lte=on)
            .order_by("-applies_from")
            .first()
        )
    else:
        rule = max(
            (r for r in rules if r.code == code and r.applies_from <= on),
            key=lambda r: r.applies_from,
            default=None,
        )
    if rule is None:
        raise NoDeadlineRule(f"no {code!r} deadline rule applies on {on.isoformat()}")
    return rule


def due_date(
    start: dt.date, rule: DeadlineRuleLike, calendar: Calendar | None = None
) -> dt.date:
    """The last day of the time limit `rule` counted from day zero `start`.

    Working days: the rule.value-th working day after `start`. Calendar days: `start`
    plus rule.value days, moved to the next working day when that is a day off. Law
    No. 67 does not say how a limit in calendar days ends on a day off; moving it to
    the next working day is our choice, following the general civil-law rule for
    periods (not the citizen's loss when the office is closed).
    """
    if calendar is None:
        calendar = default_calendar()
    if rule.unit == WORKING_DAYS:
        return add_working_days(start, rule.value, calendar)
    if rule.unit == CALENDAR_DAYS:
        day = start + dt.timedelta(days=rule.value)
        while not is_working_day(day, calendar):
            day += ONE_DAY
        return day
    raise ValueError(f"unknown deadline unit {rule.unit!r}")


# --- The default calendar and its cache ---------------------------------------------

# The calendar is cached per process. A random edition mark in the Django cache (Redis
# in production, shared by web and workers) says which edition of the admin's entries
# is current; saving or deleting a CalendarDay replaces it once the transaction
# commits, and every process reloads on its next call. Where the cache is not shared
# (local memory in the embedded setup), MAX_AGE bounds how stale another process gets.
CALENDAR_EDITION_KEY = "appeals:deadlines:calendar-edition"
MAX_AGE = 300.0  # seconds


class _Loaded(NamedTuple):
    edition: str
    at: float
    calendar: Calendar


_loaded: _Loaded | None = None
# Inside `one_calendar()`: the calendar read first, reused by every later call (a
# list, empty until then), so a page that shows fifty due dates asks the cache once.
_held: ContextVar[list[Calendar] | None] = ContextVar("held_calendar", default=None)


@contextmanager
def one_calendar() -> Iterator[None]:
    """Within the block, `default_calendar()` checks the edition mark once: one
    request or render sees one calendar, whatever changes meanwhile."""
    token = _held.set([])
    try:
        yield
    finally:
        _held.reset(token)


def default_calendar() -> Calendar:
    """The Kyrgyz calendar with the admin's CalendarDay entries, cached (see above)."""
    global _loaded
    held = _held.get()
    if held:
        return held[0]
    edition = _current_edition()
    loaded = _loaded
    if (
        loaded is not None
        and loaded.edition == edition
        and time.monotonic() - loaded.at < MAX_AGE
    ):
        calendar = loaded.calendar
    else:
        calendar = load_calendar()
        _loaded = _Loaded(edition, time.monotonic(), calendar)
    if held is not None:
        held.append(calendar)
    return calendar


def load_calendar() -> Calendar:
    """A fresh Calendar from every CalendarDay row (a few dozen a year)."""

    rows = list(CalendarDay.objects.values_list("day", "kind"))
    return Calendar(
        extra_days_off=frozenset(d for d, k in rows if k == CalendarDay.Kind.DAY_OFF),
        extra_working_days=frozenset(
            d for d, k in rows if k == CalendarDay.Kind.WORKING_DAY
        ),
    )


def clear_calendar_cache() -> None:
    """Forget this process's calendar and, once committed, tell the other processes."""
    global _loaded
    _loaded = None
    held = _held.get()
    if held:
        held.clear()
    transaction.on_commit(
        lambda: cache.set(CALENDAR_EDITION_KEY, uuid.uuid4().hex, timeout=None)
    )


def _current_edition() -> str:
    edition = cache.get(CALENDAR_EDITION_KEY)
    if edition is None:
        # First use, or the cache was flushed: a new mark makes everyone reload once.
        cache.add(CALENDAR_EDITION_KEY, uuid.uuid4().hex, timeout=None)
        edition = cache.get(CALENDAR_EDITION_KEY, "")
    return edition


# Cache invalidation only, not a business rule: hence a signal. The sender is named
# lazily so this module needs no model at import time (appeals.models imports it).
@receiver(post_save, sender="agencies.CalendarDay", dispatch_uid="calendar-day-saved")
@receiver(
    post_delete, sender="agencies.CalendarDay", dispatch_uid="calendar-day-deleted"
)
def _calendar_day_changed(sender, **kwargs) -> None:
    clear_calendar_cache()
