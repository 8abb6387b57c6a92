"""The controllers' and heads' figures of a period, per agency and for the whole
government, counted in SQL, and the appeals behind each number.

What each figure counts (a period is a span of Asia/Bishkek calendar days):

* received: appeals received in the period (`received_on`), every appeal but portal
  submissions still waiting to be registered (as in the intake report);
* answered: closed with an answer (supported, explained, not supported) in the period;
* on time: of those, closed on a Bishkek day no later than the due date in force;
* overdue now: open today with a due date before today; it does not depend on the
  period. For one agency: the appeals it holds (routed to it or in progress there);
  for the whole government also those waiting for a controller (returned, re-review);
* median days to answer: calendar days from the Bishkek day of registration to the
  Bishkek day of the answer, over the appeals answered in the period;
* returned: appeals returned as "not our competence" in the period (the RETURNED event;
  per agency, by the agency that returned it);
* re-reviews, upheld: appeals whose citizen asked for a re-review in the period, and
  those of them upheld so far (per agency: the agency whose answer is contested);
* rating: the average score of the ratings given in the period (per agency: of its
  answers);
* repeated: per cent of the appeals received in the period that repeat an earlier one.

"Per agency" is the lead agency (the one the appeal was routed to). Returns and
re-reviews count appeals, not events, so each number is exactly the length of the list
behind it. The figures of a period are four grouped queries (Appeal, Event, ReReview,
Rating; one more on SQLite for the median), never a loop over appeals.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership
from appeals.deadlines.calendar import BISHKEK
from appeals.models import Appeal, Event, Outcome, Rating, ReReview, Status
from appeals.register import permissions

# Periods are the reports' (the same labels as the intake report). The one import
# against the grain (appeals -> reports): the parser is pure and has no other home yet.
from portal.numbers import one_decimal, share
from portal.periods import Period, parse_period, previous_period
from portal.replica import heavy_reads

Role = Membership.Role
DASHBOARD_ROLES = (Role.CONTROLLER, Role.HEAD, Role.MANAGER)

ANSWERED_OUTCOMES = (Outcome.SUPPORTED, Outcome.EXPLAINED, Outcome.NOT_SUPPORTED)
OPEN_STATUSES = (Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS, Status.RE_REVIEW)
# An agency holds an appeal while it is routed to it or in progress there; a returned
# appeal or one under re-review waits for a controller.
WITH_AGENCY_STATUSES = (Status.ROUTED, Status.IN_PROGRESS)

Number = int | Decimal | None


# --- The figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    code: str
    label: Promise
    # Which way is good: "higher", "lower" or "" (neither: more appeals received is
    # not a merit or a fault of the agency).
    better: str
    # count, days, score or percent: how the value is written.
    unit: str = "count"
    # False for "overdue now": a state of today, not of the period.
    period_bound: bool = True
    note: Promise | str = ""


FIGURES = (
    Figure("received", _("Received"), ""),
    Figure("answered", _("Answered"), "higher"),
    Figure(
        "on_time",
        _("Answered on time"),
        "higher",
        note=_("closed no later than the due date"),
    ),
    Figure(
        "overdue",
        _("Overdue now"),
        "lower",
        period_bound=False,
        note=_("open today past the due date, whatever the period"),
    ),
    Figure(
        "median_days",
        _("Median days to answer"),
        "lower",
        unit="days",
        note=_(
            "calendar days from the day of registration to the day of the answer, "
            "over the appeals answered in the period"
        ),
    ),
    Figure(
        "returned",
        _("Returned as not our competence"),
        "lower",
        note=_("appeals returned to the chancellery"),
    ),
    Figure(
        "re_reviews",
        _("Re-review requests"),
        "lower",
        note=_("appeals whose citizen asked for a re-review"),
    ),
    Figure(
        "upheld",
        _("Re-reviews upheld"),
        "lower",
        note=_("of those requests, the new answer supported the citizen"),
    ),
    Figure(
        "rating",
        _("Average rating"),
        "higher",
        unit="score",
        note=_("citizens' ratings from 1 to 5 given in the period"),
    ),
    Figure(
        "repeated",
        _("Repeated appeals"),
        "lower",
        unit="percent",
        note=_("share of the appeals received that repeat an earlier one"),
    ),
)
FIGURES_BY_CODE = {figure.code: figure for figure in FIGURES}


def _one_decimal(value) -> Decimal | None:
    return None if value is None else one_decimal(value)


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, halfway between the two middle
    values for an even count (as statistics.median does on the SQLite fallback)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _days_to_answer() -> Func:
    # date - date is an integer number of days in PostgreSQL.
    return Func(
        TruncDate("closed_at", tzinfo=BISHKEK),
        TruncDate("registered_at", tzinfo=BISHKEK),
        template="(%(expressions)s)",
        arg_joiner=" - ",
        output_field=IntegerField(),
    )


def period_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of the period and the first moment after it, in Bishkek."""
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=BISHKEK)
    end = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time.min, tzinfo=BISHKEK
    )
    return start, end


def _received_q(period: Period) -> Q:
    return Q(received_on__range=(period.start, period.end))


def _answered_q(period: Period) -> Q:
    start, end = period_bounds(period)
    return Q(
        status=Status.CLOSED,
        outcome__in=ANSWERED_OUTCOMES,
        closed_at__gte=start,
        closed_at__lt=end,
    )


def _on_time_q() -> Q:
    return Q(LessThanOrEqual(TruncDate("closed_at", tzinfo=BISHKEK), F("due_on")))


def _overdue_q(today: dt.date, *, per_agency: bool) -> Q:
    statuses = WITH_AGENCY_STATUSES if per_agency else OPEN_STATUSES
    return Q(status__in=statuses, due_on__lt=today)


def _counted_appeals() -> QuerySet[Appeal]:
    # A portal submission nobody has registered yet is not an appeal received.
    return Appeal.objects.exclude(status=Status.SUBMITTED).order_by()


def empty_values(*, with_now: bool = True) -> dict[str, Number]:
    values: dict[str, Number] = {
        "received": 0,
        "repeated_count": 0,
        "answered": 0,
        "on_time": 0,
        "median_days": None,
        "returned": 0,
        "re_reviews": 0,
        "upheld": 0,
        "rating": None,
        "ratings": 0,
        "repeated": None,
    }
    values["overdue"] = 0 if with_now else None
    return values


@heavy_reads()
def figures_of_period(
    *,
    period: Period,
    today: dt.date,
    agency_ids: list[int] | None,
    by_agency: bool,
    with_now: bool = True,
) -> dict[int | None, dict[str, Number]]:
    """The figures of a period: {agency id: values} when `by_agency` (the agencies in
    `agency_ids`, or every lead agency when None), else {None: values} for the whole
    scope (the whole government when `agency_ids` is None).

    Values are keyed by the figure codes, with `repeated_count` (the appeals behind the
    share) and `ratings` (how many ratings the average is of). `with_now` counts the
    appeals overdue today (else None: the previous period has no "now").
    """
    per_agency = by_agency or agency_ids is not None
    start, end = period_bounds(period)
    received_q = _received_q(period)
    answered_q = _answered_q(period)
    overdue_q = _overdue_q(today, per_agency=per_agency)

    appeals = _counted_appeals()
    events = Event.objects.filter(type=Event.Type.RETURNED, at__gte=start, at__lt=end)
    re_reviews = ReReview.objects.filter(requested_at__gte=start, requested_at__lt=end)
    ratings = Rating.objects.filter(created_at__gte=start, created_at__lt=end)
    if agency_ids is not None:
        appeals = appeals.filter(lead_agency_id__in=agency_ids)
        events = events.filter(data__agency_id__in=agency_ids)
        re_reviews = re_reviews.filter(answer__agency_id__in=agency_ids)
        ratings = ratings.filter(answer__agency_id__in=agency_ids)
    elif by_agency:
        appeals = appeals.filter(lead_agency__isnull=False)
    appeals = appeals.filter(
        received_q | answered_q | (overdue_q if with_now else Q(pk__in=[]))
    )

    aggregates = {
        "received": Count("pk", filter=received_q),
        "repeated_count": Count("pk", filter=received_q & Q(repeat_of__isnull=False)),
        "answered": Count("pk", filter=answered_q),
        "on_time": Count("pk", filter=answered_q & _on_time_q()),
    }
    if with_now:
        aggregates["overdue"] = Count("pk", filter=overdue_q)
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["median_days"] = Median(_days_to_answer(), filter=answered_q)
    appeal_rows = _grouped(appeals, "lead_agency_id", aggregates, by_agency)
    event_rows = _grouped(
        events.annotate(agency_key=KT("data__agency_id")),
        "agency_key",
        {"returned": Count("appeal_id", distinct=True)},
        by_agency,
    )
    re_review_rows = _grouped(
        re_reviews,
        "answer__agency_id",
        {
            "re_reviews": Count("appeal_id", distinct=True),
            "upheld": Count("appeal_id", distinct=True, filter=Q(upheld=True)),
        },
        by_agency,
    )
    rating_rows = _grouped(
        ratings,
        "answer__agency_id",
        {"rating": Avg("score"), "ratings": Count("pk")},
        by_agency,
    )
    medians = {} if postgres else _median_days_in_python(appeals, answered_q, by_agency)

    keys: list[int | None]
    if by_agency:
        keys = list(agency_ids) if agency_ids is not None else []
        for rows in (appeal_rows, event_rows, re_review_rows, rating_rows):
            keys.extend(key for key in rows if key not in keys)
    else:
        keys = [None]
    result = {}
    for key in keys:
        values = empty_values(with_now=with_now)
        for rows in (appeal_rows, event_rows, re_review_rows, rating_rows):
            values.update({k: v for k, v in rows.get(key, {}).items() if v is not None})
        if not postgres:
            values["median_days"] = medians.get(key)
        values["median_days"] = _one_decimal(values["median_days"])
        values["rating"] = _one_decimal(values["rating"])
        values["repeated"] = share(
            values["repeated_count"], values["received"], empty=None
        )
        result[key] = values
    return result


def _grouped(
    queryset: QuerySet, key: str, aggregates: dict, by_agency: bool
) -> dict[int | None, dict]:
    """{group key: aggregates} in one query; {None: aggregates} when not grouping."""
    if not by_agency:
        return {None: queryset.aggregate(**aggregates)}
    rows = {}
    for row in queryset.order_by().values(key).annotate(**aggregates):
        group = row.pop(key)
        if group is not None:
            rows[int(group)] = row
    return rows


def _median_days_in_python(
    appeals: QuerySet[Appeal], answered_q: Q, by_agency: bool
) -> dict[int | None, float]:
    """SQLite (the demo) has no percentile_cont: the days of each answered appeal are
    read (two timestamps a row) and the median taken here."""
    days: dict[int | None, list[int]] = defaultdict(list)
    for agency_id, registered_at, closed_at in appeals.filter(answered_q).values_list(
        "lead_agency_id", "registered_at", "closed_at"
    ):
        if registered_at is None:
            continue
        span = (
            closed_at.astimezone(BISHKEK).date()
            - registered_at.astimezone(BISHKEK).date()
        )
        days[agency_id if by_agency else None].append(span.days)
    return {key: statistics.median(spans) for key, spans in days.items()}


# --- Periods --------------------------------------------------------------------------

_NAMED = re.compile(r"^(?P<year>\d{4})(?:-(?P<part>Q[1-4]|H[12]|9M))?$")

COMPARE_PRECEDING = "preceding"
COMPARE_YEAR = "year"
COMPARISONS = (
    (COMPARE_PRECEDING, _("the period just before")),
    (COMPARE_YEAR, _("the same period a year earlier")),
)


def default_period(today: dt.date) -> Period:
    """The current quarter so far."""
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return parse_period(f"{first.isoformat()}..{today.isoformat()}")


def preceding_period(period: Period) -> Period:
    """The period of the same length just before: Q2 for Q3, Q4 of the year before
    for Q1, H1 for H2, the year before for a year, the nine months April to December
    before 9M, and for a range of days the same number of days ending the day before."""
    named = _NAMED.match(period.label)
    if named:
        year, part = int(named["year"]), named["part"]
        if part is None:
            return parse_period(str(year - 1))
        if part[0] in "QH":
            count = 4 if part[0] == "Q" else 2
            number = int(part[1]) - 1
            if number == 0:
                year, number = year - 1, count
            return parse_period(f"{year}-{part[0]}{number}")
        # 9M: January to September; the nine months before are April to December.
        return parse_period(f"{year - 1}-04-01..{year - 1}-12-31")
    days = (period.end - period.start).days + 1
    end = period.start - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    return parse_period(f"{start.isoformat()}..{end.isoformat()}")


def comparison_period(period: Period, compare: str) -> Period:
    if compare == COMPARE_YEAR:
        return previous_period(period)
    return preceding_period(period)


# --- Who sees which figures -----------------------------------------------------------


@dataclass(frozen=True)
class DashboardScope:
    """Whose figures a person may see: the whole government (and any agency), or the
    listed agencies only."""

    whole_government: bool
    agencies: list[Agency]

    def agency(self, slug: str | None) -> Agency | None:
        """The agency asked for, None for the whole government.

        Without a slug: the whole government when allowed, else the first agency.
        Http404 for an unknown slug, PermissionDenied for one outside the scope.
        """
        if not slug:
            if self.whole_government or not self.agencies:
                return None
            return self.agencies[0]
        for agency in self.agencies:
            if agency.slug == slug:
                return agency
        if self.whole_government:
            agency = Agency.objects.filter(slug=slug).first()
            if agency is not None:
                return agency
        elif Agency.objects.filter(slug=slug).exists():
            raise PermissionDenied
        raise Http404


def _with_subordinates(agency_ids: set[int]) -> set[int]:
    # Agencies are a few hundred rows: one query, the tree walked here.
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Agency.objects.filter(parent__isnull=False).values_list(
        "pk", "parent_id"
    ):
        children[parent_id].append(pk)
    scope, todo = set(), list(agency_ids)
    while todo:
        pk = todo.pop()
        if pk not in scope:
            scope.add(pk)
            todo.extend(children[pk])
    return scope


def dashboard_scope(user: AbstractBaseUser) -> DashboardScope:
    """Controllers see the whole government and every agency. A manager of the
    Government Apparatus (the chancellery's management) does too; a manager of another
    body sees it and its subordinate bodies. A head sees the agencies they head."""
    roles = permissions.roles_of(user)
    managed = permissions.agencies_with_role(user, Role.MANAGER)
    whole = (
        Role.CONTROLLER in roles or managed.filter(kind=Agency.Kind.APPARATUS).exists()
    )
    if whole:
        agencies = Agency.objects.filter(is_active=True)
    else:
        ids = set(
            permissions.agencies_with_role(user, Role.HEAD).values_list("pk", flat=True)
        )
        ids |= _with_subordinates(set(managed.values_list("pk", flat=True)))
        agencies = Agency.objects.filter(pk__in=ids)
    return DashboardScope(
        whole_government=whole, agencies=list(agencies.order_by("code"))
    )


# --- The appeals behind a number ------------------------------------------------------


def figure_appeals(
    *, figure: str, period: Period, agency: Agency | None, today: dt.date
) -> QuerySet[Appeal]:
    """Exactly the appeals a figure counts (for the median, the answered appeals it is
    taken over; for the rating, the rated ones; for the repeated share, the repeats).
    Not yet narrowed to what the viewer may open: the view does that."""
    start, end = period_bounds(period)
    appeals = _counted_appeals()
    # Returns, re-reviews and ratings belong to the agency that returned or answered,
    # which need not be the lead agency any more.
    if agency is not None and figure not in (
        "returned",
        "re_reviews",
        "upheld",
        "rating",
    ):
        appeals = appeals.filter(lead_agency=agency)
    match figure:
        case "received":
            return appeals.filter(_received_q(period))
        case "repeated":
            return appeals.filter(_received_q(period), repeat_of__isnull=False)
        case "answered" | "median_days":
            return appeals.filter(_answered_q(period))
        case "on_time":
            return appeals.filter(_answered_q(period) & _on_time_q())
        case "overdue":
            return appeals.filter(_overdue_q(today, per_agency=agency is not None))
        case "returned":
            events = Event.objects.filter(
                appeal=OuterRef("pk"),
                type=Event.Type.RETURNED,
                at__gte=start,
                at__lt=end,
            )
            if agency is not None:
                events = events.filter(data__agency_id=agency.pk)
            return appeals.filter(Exists(events))
        case "re_reviews" | "upheld":
            requests = ReReview.objects.filter(
                appeal=OuterRef("pk"), requested_at__gte=start, requested_at__lt=end
            )
            if agency is not None:
                requests = requests.filter(answer__agency=agency)
            if figure == "upheld":
                requests = requests.filter(upheld=True)
            return appeals.filter(Exists(requests))
        case "rating":
            rated = Rating.objects.filter(
                appeal=OuterRef("pk"), created_at__gte=start, created_at__lt=end
            )
            if agency is not None:
                rated = rated.filter(answer__agency=agency)
            return appeals.filter(Exists(rated))
    raise ValueError(figure)


def visible_figure_appeals(
    user: AbstractBaseUser, appeals: QuerySet[Appeal]
) -> QuerySet[Appeal]:
    """The part of a figure's appeals the viewer may open."""
    return appeals.filter(permissions.visible_appeals_q(user))


# --- Trends and the agencies' table ---------------------------------------------------


@dataclass(frozen=True)
class Trend:
    difference: Number
    direction: str  # "up", "down", "same" or "" (nothing to compare)
    verdict: str  # "better", "worse" or "" (neither, or nothing to compare)


def trend(figure: Figure, value: Number, previous: Number) -> Trend:
    if value is None or previous is None:
        return Trend(None, "", "")
    difference = value - previous
    if difference == 0:
        return Trend(difference, "same", "")
    direction = "up" if difference > 0 else "down"
    verdict = ""
    if figure.better:
        verdict = (
            "better" if (direction == "up") == (figure.better == "higher") else "worse"
        )
    return Trend(abs(difference), direction, verdict)


SORT_KEYS = ("agency", *(figure.code for figure in FIGURES))


def sort_rows(rows: list, *, sort: str, descending: bool) -> list:
    """Rows (with .agency and .values) by a figure or by the agency's code; an empty
    value (no answer, no rating) goes last either way."""
    if sort == "agency":
        return sorted(rows, key=lambda row: row.agency.code, reverse=descending)
    present = [row for row in rows if row.values.get(sort) is not None]
    empty = [row for row in rows if row.values.get(sort) is None]
    present.sort(key=lambda row: row.agency.code)
    present.sort(key=lambda row: row.values[sort], reverse=descending)
    return present + sorted(empty, key=lambda row: row.agency.code)
