"""Reads for statistics: intake of appeals by channel and the full intake report,
counted in SQL."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Agency, Topic
from appeals.deadlines.calendar import BISHKEK
from appeals.models import (
    REGISTERED_STATUSES,
    Appeal,
    Channel,
    Form,
    Kind,
    Outcome,
    Rating,
    Status,
)
from appeals.oversight import figures as dashboard
from portal.numbers import one_decimal, share
from portal.periods import previous_period
from portal.replica import heavy_reads
from reports import rollup
from reports.models import IntakeCount
from reports.narrative import narrative
from reports.report import Block, IntakeReport, Period, Ratings, Row, Timeliness

# The rows of every intake report, in the order the chancellery publishes them.
CHANNEL_ORDER = (
    Channel.PRESIDENT_OFFICE,
    Channel.JOGORKU_KENESH,
    Channel.PUBLIC_RECEPTION,
    Channel.PORTAL,
    Channel.OTHER,
)


def _counted_appeals():
    # A portal submission nobody has registered yet is not an appeal received.
    return Appeal.objects.exclude(status=Status.SUBMITTED)


@heavy_reads()
def intake_by_channel(*, start: dt.date, end: dt.date) -> dict:
    """Appeals received from start to end (both days included), by channel.

    Returns {"written_total": int, "oral_total": int,
    "by_channel": {code: {"count": int, "share": Decimal}}} with every channel code,
    in CHANNEL_ORDER; shares are of the written total. Oral appeals are one figure.
    """
    # Keep this name and return shape: the full intake report builds on it.
    months, edges = _split(start, end)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if months:
        for row in (
            IntakeCount.objects.filter(
                month__range=months, breakdown=IntakeCount.Breakdown.CHANNEL
            )
            .order_by()
            .values("channel", "form")
            .annotate(count=Sum("appeals"))
        ):
            counts[(row["channel"], row["form"])] += row["count"]
    if edges:
        for row in (
            _counted_appeals()
            .filter(_received_in(edges))
            .order_by()
            .values("channel", "form")
            .annotate(count=Count("id"))
        ):
            counts[(row["channel"], row["form"])] += row["count"]
    return _channel_figures(dict(counts))


def _use_rollup() -> bool:
    return settings.INTAKE_ROLLUP and rollup.is_available()


def _split(
    start: dt.date, end: dt.date
) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.date, dt.date]]]:
    """The days start..end as (first and last month of the rollup's whole months, or
    None; the ranges of days to count live: the partial months at either end).
    Without the rollup, every day is counted live."""
    if not _use_rollup():
        return None, [(start, end)]
    first = start if start.day == 1 else _month_after(start)
    after = end + dt.timedelta(days=1)
    last = end.replace(day=1) if after.day == 1 else _month_before(end)
    if first > last:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - dt.timedelta(days=1)))
    if after.day != 1:
        edges.append((end.replace(day=1), end))
    return (first, last), edges


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=31)).replace(day=1)


def _month_before(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _received_in(ranges: list[tuple[dt.date, dt.date]]) -> Q:
    condition = Q()
    for first, last in ranges:
        condition |= Q(received_on__range=(first, last))
    return condition


def _channel_figures(counts: dict[tuple[str, str], int]) -> dict:
    """intake_by_channel's shape from counts by (channel, form)."""
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


@heavy_reads()
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


@heavy_reads()
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


# --- The intake report ----------------------------------------------------------------

KIND_ORDER = (Kind.PROPOSAL, Kind.STATEMENT, Kind.COMPLAINT)
OUTCOME_ORDER = (
    Outcome.SUPPORTED,
    Outcome.EXPLAINED,
    Outcome.NOT_SUPPORTED,
    Outcome.FORWARDED,
    Outcome.LEFT_WITHOUT_CONSIDERATION,
    Outcome.WITHDRAWN,
)
# Closed with an answer to the citizen ("answered", decisions.md): the only closings
# that have a review deadline to meet. Forwarding and leaving without consideration
# end the matter for this body without answering it.
ANSWERED_OUTCOMES = (Outcome.SUPPORTED, Outcome.EXPLAINED, Outcome.NOT_SUPPORTED)
OPEN_STATUSES = REGISTERED_STATUSES  # registered, routed, in progress, re-review

# Codes of the rows that stand for "no value"; no kind or outcome is coded so, and a
# topic code of the classifier should not be either.
NOT_STATED = "not_stated"  # kind or topic left empty
NOT_RECORDED = "not_recorded"  # a closed archival record with no outcome kept


def agency_scope(agency: Agency, *, with_subordinates: bool) -> list[int]:
    """The ids of the agency and, when asked, its subordinate bodies at every level.

    Agencies are a few hundred rows: one query, the tree is walked in Python.
    """
    if not with_subordinates:
        return [agency.pk]
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Agency.objects.filter(parent__isnull=False).values_list(
        "pk", "parent_id"
    ):
        children[parent_id].append(pk)
    scope: list[int] = []
    seen: set[int] = set()
    todo = [agency.pk]
    while todo:
        pk = todo.pop()
        if pk in seen:  # a loop in the data must not hang the report
            continue
        seen.add(pk)
        scope.append(pk)
        todo.extend(children[pk])
    return scope


def _scoped_appeals(agency_ids: list[int] | None) -> QuerySet[Appeal]:
    """Counted appeals of the scope (every agency when `agency_ids` is None).

    An agency's figures are the appeals it received: those it registered itself (its
    own register, which for the Government Apparatus is exactly what the chancellery
    publishes) OR those the chancellery routed to it as the lead agency, which reach a
    ministry without passing through its register. Each appeal is counted once even
    when both hold (a ministry that registered an appeal and was routed it). Co-
    executors do not count it: they contribute, the lead agency answers. An appeal
    returned as outside an agency's competence leaves that agency's figures (its lead
    agency is cleared), unless the agency registered it.
    """
    appeals = _counted_appeals().order_by()
    if agency_ids is None:
        return appeals
    return appeals.filter(
        Q(registering_agency_id__in=agency_ids) | Q(lead_agency_id__in=agency_ids)
    )


def _timeliness(today: dt.date) -> dict[str, Count]:
    """Conditional counts: answered, answered on time, open, open and overdue (the
    Bishkek day of closing is the costly part, so it is computed once a row).

    Answered on time: closed with an answer (supported, explained, not supported) on a
    Bishkek day no later than the due date. Answered late: closed with an answer after
    it. Open and overdue: still open (registered, routed, in progress, re-review) with a
    due date before `today`; open in time: every other open appeal. The last answer
    and the due date in force count: a re-review sets a new deadline and a new answer.
    Appeals closed without an answer (forwarded, left without consideration, archival
    records) had no review deadline to meet and are in none of these.
    """
    closed_on = TruncDate("closed_at", tzinfo=BISHKEK)
    answered = Q(
        status=Status.CLOSED, outcome__in=ANSWERED_OUTCOMES, due_on__isnull=False
    )
    open_ = Q(status__in=OPEN_STATUSES)
    return {
        "on_time": Count(
            "id", filter=answered & Q(LessThanOrEqual(closed_on, F("due_on")))
        ),
        "answered": Count("id", filter=answered),  # late = answered - on time
        "open": Count("id", filter=open_),
        "overdue": Count("id", filter=open_ & Q(due_on__lt=today)),
        "closed": Count("id", filter=Q(status=Status.CLOSED)),
    }


def _rows(counts: dict[str, int], labels: dict[str, str]) -> list[Row]:
    """Rows in the order of `labels`, with shares of the rows' total."""
    total = sum(counts.get(code, 0) for code in labels)
    return [
        Row(
            code=code,
            label=label,
            count=counts.get(code, 0),
            share=share(counts.get(code, 0), total),
        )
        for code, label in labels.items()
    ]


def _ranked(counts: dict, names: dict, not_stated: str | None) -> list[Row]:
    """Rows of a classifier (topics, agencies): the largest first, then by name; the
    row for "none" (`None` key) last when there is one and `not_stated` is given."""
    total = sum(counts.values())
    keyed = sorted(
        (key for key in counts if key is not None),
        key=lambda key: (-counts[key], names[key][1]),
    )
    rows = [
        Row(
            code=names[key][0],
            label=names[key][1],
            count=counts[key],
            share=share(counts[key], total),
        )
        for key in keyed
    ]
    if not_stated is not None and counts.get(None):
        rows.append(
            Row(
                code=NOT_STATED,
                label=not_stated,
                count=counts[None],
                share=share(counts[None], total),
            )
        )
    return rows


@dataclass
class _Counts:
    """The counts a Block is made of, added up from the rollup and the live parts."""

    by_channel_form: dict[tuple[str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_outcome: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_topic: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    by_agency: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    timeliness: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ratings: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _ratings(counts: _Counts) -> Ratings:
    """Citizens' ratings of the answers to the period's appeals.

    Every rating counts: an appeal answered again after a re-review may carry one
    rating per answer. The average score (1 to 5) and the share who said the answer
    addressed their question have one decimal, half up; both None without ratings.
    """
    count = counts.ratings["count"]
    if not count:
        return Ratings()
    return Ratings(
        count=count,
        average=one_decimal(Decimal(counts.ratings["total"]) / count),
        addressed_share=share(counts.ratings["addressed"], count),
    )


def _count_live(counts: _Counts, appeals: QuerySet[Appeal], today: dt.date) -> None:
    """Add the figures of `appeals`, counted from the appeals table: two grouped
    passes and the ratings."""
    # Two passes over the rows, each grouped by columns with few values, so
    # PostgreSQL aggregates in a small hash table (a CASE in the GROUP BY made it sort
    # millions of rows on disk instead).
    for row in appeals.values("channel", "form", "kind", "outcome").annotate(
        count=Count("id"), **_timeliness(today)
    ):
        counts.by_channel_form[(row["channel"], row["form"])] += row["count"]
        counts.by_kind[row["kind"] or NOT_STATED] += row["count"]
        for name in ("on_time", "answered", "open", "overdue"):
            counts.timeliness[name] += row[name]
        if row["closed"]:  # an archival record may be closed with no outcome kept
            counts.by_outcome[row["outcome"] or NOT_RECORDED] += row["closed"]

    for row in appeals.values("topic_id", "lead_agency_id").annotate(count=Count("id")):
        counts.by_topic[row["topic_id"]] += row["count"]
        if row["lead_agency_id"] is not None:
            counts.by_agency[row["lead_agency_id"]] += row["count"]

    figures = Rating.objects.filter(appeal__in=appeals.values("pk")).aggregate(
        count=Count("id"),
        total=Sum("score"),
        addressed=Count("id", filter=Q(addressed=True)),
    )
    for name, value in figures.items():
        counts.ratings[name] += value or 0


def _count_rolled_up(
    counts: _Counts,
    *,
    months: tuple[dt.date, dt.date],
    agency_ids: list[int] | None,
    today: dt.date,
) -> None:
    """Add the figures of whole months from the rollup (reports.rollup): one grouped
    query over a few thousand rows, whatever the number of appeals. Open and overdue
    depend on today: the open appeals are counted live, from their partial index."""
    rows = IntakeCount.objects.filter(month__range=months).order_by()
    open_ = _scoped_appeals(agency_ids).filter(
        status__in=OPEN_STATUSES,
        received_on__gte=months[0],
        received_on__lte=_month_after(months[1]) - dt.timedelta(days=1),
        due_on__lt=today,
    )
    if agency_ids is not None:
        rows = rows.filter(
            Q(registering_agency_id__in=agency_ids) | Q(lead_agency_id__in=agency_ids)
        )
    Breakdown = IntakeCount.Breakdown
    for row in rows.values(
        "breakdown",
        "lead_agency_id",
        "channel",
        "form",
        "kind",
        "outcome",
        "state",
        "topic_id",
    ).annotate(
        appeals=Sum("appeals"), score_sum=Sum("score_sum"), addressed=Sum("addressed")
    ):
        n = row["appeals"]
        if not n:  # deltas that cancel out: as if the key were not there
            continue
        match row["breakdown"]:
            case Breakdown.CHANNEL:
                counts.by_channel_form[(row["channel"], row["form"])] += n
                if row["lead_agency_id"] is not None:
                    counts.by_agency[row["lead_agency_id"]] += n
            case Breakdown.KIND:
                counts.by_kind[row["kind"] or NOT_STATED] += n
            case Breakdown.OUTCOME if row["state"] == "open":
                counts.timeliness["open"] += n
            case Breakdown.OUTCOME:
                counts.by_outcome[row["outcome"] or NOT_RECORDED] += n
                if row["state"] in ("on_time", "late"):
                    counts.timeliness["answered"] += n
                if row["state"] == "on_time":
                    counts.timeliness["on_time"] += n
            case Breakdown.TOPIC:
                counts.by_topic[row["topic_id"]] += n
            case Breakdown.RATING:
                counts.ratings["count"] += n
                counts.ratings["total"] += row["score_sum"]
                counts.ratings["addressed"] += row["addressed"]
    counts.timeliness["overdue"] += open_.count()


def _block(*, period: Period, agency_ids: list[int] | None, today: dt.date) -> Block:
    """The figures of one period: its whole months from the rollup (PostgreSQL), the
    days of partial months counted live, and the names of the topics and agencies
    met. Either way the figures are the same."""
    counts = _Counts()
    months, edges = _split(period.start, period.end)
    if months:
        _count_rolled_up(counts, months=months, agency_ids=agency_ids, today=today)
    if edges:
        appeals = _scoped_appeals(agency_ids).filter(_received_in(edges))
        _count_live(counts, appeals, today)
    topics = Topic.objects.in_bulk([pk for pk in counts.by_topic if pk is not None])
    agencies = Agency.objects.in_bulk(list(counts.by_agency))

    intake = _channel_figures(dict(counts.by_channel_form))
    kind_labels = {kind.value: str(kind.label) for kind in KIND_ORDER}
    if counts.by_kind.get(NOT_STATED):
        kind_labels[NOT_STATED] = _("not stated")
    outcome_labels = {outcome.value: str(outcome.label) for outcome in OUTCOME_ORDER}
    if counts.by_outcome.get(NOT_RECORDED):
        outcome_labels[NOT_RECORDED] = _("not recorded")
    return Block(
        period=period,
        written_total=intake["written_total"],
        oral_total=intake["oral_total"],
        by_channel=[
            Row(
                code=code.value,
                label=str(code.label),
                count=intake["by_channel"][code.value]["count"],
                share=intake["by_channel"][code.value]["share"],
            )
            for code in CHANNEL_ORDER
        ],
        by_kind=_rows(counts.by_kind, kind_labels),
        by_topic=_ranked(
            counts.by_topic,
            {pk: (topic.code, topic.name) for pk, topic in topics.items()},
            not_stated=_("not stated"),
        ),
        by_agency=_ranked(
            counts.by_agency,
            {pk: (agency.slug, agency.name) for pk, agency in agencies.items()},
            not_stated=None,
        ),
        by_outcome=_rows(counts.by_outcome, outcome_labels),
        timeliness=Timeliness(
            answered_on_time=counts.timeliness["on_time"],
            answered_late=counts.timeliness["answered"] - counts.timeliness["on_time"],
            open_overdue=counts.timeliness["overdue"],
            open_in_time=counts.timeliness["open"] - counts.timeliness["overdue"],
        ),
        ratings=_ratings(counts),
    )


@heavy_reads()
def build_intake_report(
    *,
    period: Period,
    agency_slug: str | None = None,
    with_subordinates: bool = False,
    language: str = "ky",
    now: dt.datetime | None = None,
) -> IntakeReport:
    """The intake report of `period` beside the same period a year earlier.

    Counted: every appeal except portal submissions still waiting to be registered,
    by the Bishkek day it was received; appeals left without consideration count as
    received. Without `agency_slug`, every agency; with it, what that agency received
    (see `_scoped_appeals`: registered by it, or routed to it as lead agency), with its
    subordinate bodies at every level when `with_subordinates`. Timeliness is of the
    period's appeals as of `now` (default: the moment of the call). Labels are in
    `language`. Agency.DoesNotExist for an unknown slug.
    """
    now = now or timezone.now()
    today = now.astimezone(BISHKEK).date()
    with translation.override(language):
        if agency_slug is None:
            agency_ids = None
            scope = _("all state bodies")
        else:
            agency = Agency.objects.get(slug=agency_slug)
            agency_ids = agency_scope(agency, with_subordinates=with_subordinates)
            scope = (
                _("%(agency)s with its subordinate bodies") % {"agency": agency.name}
                if with_subordinates
                else agency.name
            )
        current = _block(period=period, agency_ids=agency_ids, today=today)
        previous = _block(
            period=previous_period(period), agency_ids=agency_ids, today=today
        )
        return IntakeReport(
            scope=scope,
            agency_slug=agency_slug,
            with_subordinates=with_subordinates and agency_slug is not None,
            language=language,
            current=current,
            previous=previous,
            narrative=narrative(current=current, previous=previous, language=language),
            generated_at=now,
        )


@dataclass(frozen=True)
class AgencyRecord:
    """One body's public record for a year: no personal data, only counts."""

    agency: Agency
    answered: int
    on_time_share: Decimal | None
    overdue_now: int
    median_days: Decimal | None
    re_reviews: int
    upheld: int
    rating: Decimal | None
    ratings: int


@heavy_reads()
def agency_records(*, year: int, today: dt.date) -> list[AgencyRecord]:
    """Timeliness, ratings and re-reviews of every body that answered or holds appeals,
    for the open-statistics page, so citizens can compare bodies (computed in SQL by
    the same figures the controllers' dashboard uses)."""

    period = Period(
        label=str(year), start=dt.date(year, 1, 1), end=dt.date(year, 12, 31)
    )
    rows = dashboard.figures_of_period(
        period=period, today=today, agency_ids=None, by_agency=True, with_now=True
    )
    agencies = Agency.objects.in_bulk([key for key in rows if key is not None])
    records = []
    for key, values in rows.items():
        if key not in agencies:
            continue
        records.append(
            AgencyRecord(
                agency=agencies[key],
                answered=values["answered"],
                on_time_share=share(values["on_time"], values["answered"])
                if values["answered"]
                else None,
                overdue_now=values["overdue"] or 0,
                median_days=values["median_days"],
                re_reviews=values["re_reviews"],
                upheld=values["upheld"],
                rating=values["rating"],
                ratings=values["ratings"],
            )
        )
    return sorted(records, key=lambda r: r.agency.name)
