"""The figures page of controllers, heads and managers (per agency and for the whole
government, any period, beside a period to compare with), and the appeals behind each
number."""

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agencies.models import Agency
from appeals.oversight import figures as dashboard
from appeals.oversight.figures import FIGURES, FIGURES_BY_CODE, Figure, Number, Trend
from appeals.register import permissions
from appeals.suggestions import figures as suggestion_figures
from portal.numbers import percent
from portal.pagination import keyset_page
from portal.periods import Period, parse_period, period_title
from portal.replica import heavy_reads

# Bars a chart shows: the largest values (and the chosen agency, wherever it ranks).
CHART_BARS = 10
# Geometry of the inline SVG charts, in SVG units (the SVG scales to its box).
CHART_WIDTH = 320
CHART_LABEL = 58
CHART_BAR_MAX = 212
CHART_ROW = 20


def _display(figure: Figure, value: Number) -> str:
    if value is None:
        return "—"
    if figure.unit == "count":
        return formats.number_format(value, force_grouping=True)
    if figure.unit == "percent":
        # As the reports write a share: "12,5 %" with a no-break space, "12.5%" in en.
        return percent(value, translation.get_language() or "ky")
    return formats.number_format(value, 1)


@dataclass(frozen=True)
class Cell:
    figure: Figure
    value: Number
    previous: Number
    trend: Trend
    display: str
    previous_display: str
    difference_display: str
    url: str
    previous_url: str
    # A line under the value: "of 12 answered", "4 ratings", "3 appeals".
    detail: str = ""


@dataclass(frozen=True)
class Bar:
    """One agency's bars; coordinates are strings, so no locale writes "12,5"."""

    label: str
    title: str
    url: str
    text_y: str
    bar_y: str
    previous_y: str
    width: str
    previous_width: str  # "" when there is nothing to compare with
    display: str
    text_x: str
    chosen: bool


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int


@dataclass
class Row:
    agency: Agency
    values: dict
    url: str = ""
    cells: list[Cell] = field(default_factory=list)


def _figure_url(figure: Figure, period: Period, agency: Agency | None) -> str:
    query = {"figure": figure.code, "period": period.label}
    if agency is not None:
        query["agency"] = agency.slug
    return f"{reverse('staff:figure_appeals')}?{urlencode(query)}"


def _detail(figure: Figure, values: dict) -> str:
    # The count after "of"/"over" decides the Russian case: "из 1 поступившего".
    answered, received = values["answered"], values["received"]
    if figure.code == "on_time" and answered:
        return ngettext(
            "%(share)s of %(answered)s answered",
            "%(share)s of %(answered)s answered",
            answered,
        ) % {
            "share": percent(
                dashboard.share(values["on_time"], answered),
                translation.get_language() or "ky",
            ),
            "answered": answered,
        }
    if figure.code == "rating" and values["ratings"]:
        return _("ratings: %(count)s") % {"count": values["ratings"]}
    if figure.code == "repeated" and received:
        return ngettext(
            "%(count)s of %(received)s received",
            "%(count)s of %(received)s received",
            received,
        ) % {"count": values["repeated_count"], "received": received}
    if figure.code == "median_days" and answered:
        return ngettext(
            "over %(count)s answered", "over %(count)s answered", answered
        ) % {"count": answered}
    return ""


def _cells(
    values: dict,
    previous: dict,
    *,
    agency: Agency | None,
    period: Period,
    compared: Period,
) -> list[Cell]:
    cells = []
    for figure in FIGURES:
        value = values[figure.code]
        before = previous[figure.code] if figure.period_bound else None
        trend = dashboard.trend(figure, value, before)
        difference = ""
        if trend.direction == "same":
            difference = "="
        elif trend.direction:
            arrow = "▲" if trend.direction == "up" else "▼"
            difference = f"{arrow} {_display(figure, trend.difference)}"
        cells.append(
            Cell(
                figure=figure,
                value=value,
                previous=before,
                trend=trend,
                display=_display(figure, value),
                previous_display=_display(figure, before),
                difference_display=difference,
                url=_figure_url(figure, period, agency),
                previous_url=_figure_url(figure, compared, agency)
                if figure.period_bound
                else "",
                detail=_detail(figure, values),
            )
        )
    return cells


def _chart(
    figure: Figure, rows: list[Row], chosen: Agency | None, *, index: int
) -> Chart | None:
    """Horizontal bars of the figure for the largest agencies (the period's value, and
    a thin grey bar for the period compared with), drawn as plain SVG rects."""
    # Agencies with nothing to show in either period would only be a list of zeros.
    with_value = [
        row
        for row in rows
        if row.cells[index].value is not None
        and (row.cells[index].value or row.cells[index].previous)
    ]
    with_value.sort(key=lambda row: (-row.cells[index].value, row.agency.code))
    shown = with_value[:CHART_BARS]
    if chosen is not None and chosen not in [row.agency for row in shown]:
        shown += [row for row in with_value if row.agency == chosen]
    if not shown:
        return None
    scale = max(
        max(
            row.cells[index].value or 0,
            row.cells[index].previous or 0,
        )
        for row in shown
    )
    bars = []
    for number, row in enumerate(shown):
        cell = row.cells[index]
        width = CHART_BAR_MAX * float(cell.value) / float(scale) if scale else 0
        previous_width = None
        if cell.previous is not None:
            previous_width = (
                CHART_BAR_MAX * float(cell.previous) / float(scale) if scale else 0
            )
        y = number * CHART_ROW
        bars.append(
            Bar(
                label=row.agency.code,
                title=_("%(agency)s: %(value)s (before: %(previous)s)")
                % {
                    "agency": row.agency.name,
                    "value": cell.display,
                    "previous": cell.previous_display,
                },
                url=cell.url,
                text_y=str(y + 11),
                bar_y=str(y + 2),
                previous_y=str(y + 13),
                width=f"{max(width, 1 if cell.value else 0):.1f}",
                previous_width=""
                if previous_width is None
                else f"{max(previous_width, 1 if cell.previous else 0):.1f}",
                display=cell.display,
                text_x=f"{CHART_LABEL + max(width, 1) + 4:.1f}",
                chosen=row.agency == chosen,
            )
        )
    return Chart(bars=bars, height=len(bars) * CHART_ROW)


def _period(text: str | None, today: dt.date) -> tuple[Period, str]:
    """The period asked for and an error to show (the default period then)."""
    if text and text.strip():
        try:
            return parse_period(text), ""
        except ValueError as error:
            return dashboard.default_period(today), str(error)
    return dashboard.default_period(today), ""


def _period_words(period: Period) -> str:
    language = translation.get_language() or "ky"
    title = period_title(period, language)
    if ".." in period.label:
        return title
    return _("%(title)s (%(start)s – %(end)s)") % {
        "title": title,
        "start": formats.date_format(period.start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(period.end, "SHORT_DATE_FORMAT"),
    }


def _sort_links(request: HttpRequest, sort: str, descending: bool) -> list[dict]:
    """The table's column headers: each a link that sorts by it (again: reversed)."""
    labels = {"agency": _("Agency"), **{f.code: f.label for f in FIGURES}}
    links = []
    for key in dashboard.SORT_KEYS:
        query = request.GET.copy()
        query.pop("after", None)
        if key == sort:
            next_dir = "asc" if descending else "desc"
        else:
            next_dir = "asc" if key == "agency" else "desc"
        query["sort"], query["dir"] = key, next_dir
        links.append(
            {
                "key": key,
                "label": labels[key],
                "url": f"?{query.urlencode()}",
                "current": key == sort,
                "aria": ("descending" if descending else "ascending")
                if key == sort
                else "none",
                "arrow": ("▼" if descending else "▲") if key == sort else "",
            }
        )
    return links


@never_cache
@permissions.role_required(*dashboard.DASHBOARD_ROLES)
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    scope = dashboard.dashboard_scope(request.user)
    agency = scope.agency(request.GET.get("agency"))
    today = timezone.localdate()
    period, period_error = _period(request.GET.get("period"), today)
    compare = request.GET.get("compare", "")
    if compare not in dict(dashboard.COMPARISONS):
        compare = dashboard.COMPARE_PRECEDING
    compared = dashboard.comparison_period(period, compare)

    # One row per agency in scope: every agency for the whole government.
    table_ids = None if scope.whole_government else [a.pk for a in scope.agencies]
    agencies = list(scope.agencies)
    if agency is not None and agency not in agencies:  # an inactive one, asked for
        agencies.append(agency)
        if table_ids is not None:
            table_ids.append(agency.pk)
    current_by_agency = dashboard.figures_of_period(
        period=period, today=today, agency_ids=table_ids, by_agency=True
    )
    previous_by_agency = dashboard.figures_of_period(
        period=compared,
        today=today,
        agency_ids=table_ids,
        by_agency=True,
        with_now=False,
    )
    empty = dashboard.empty_values()
    rows = []
    for row_agency in agencies:
        values = current_by_agency.get(row_agency.pk, empty)
        query = {"period": period.label, "compare": compare, "agency": row_agency.slug}
        row = Row(
            agency=row_agency,
            values=values,
            url=f"{reverse('staff:figures')}?{urlencode(query)}",
        )
        row.cells = _cells(
            values,
            previous_by_agency.get(row_agency.pk, empty),
            agency=row_agency,
            period=period,
            compared=compared,
        )
        rows.append(row)

    if agency is None:
        current = dashboard.figures_of_period(
            period=period, today=today, agency_ids=None, by_agency=False
        )[None]
        previous = dashboard.figures_of_period(
            period=compared,
            today=today,
            agency_ids=None,
            by_agency=False,
            with_now=False,
        )[None]
    else:
        current = current_by_agency.get(agency.pk, empty)
        previous = previous_by_agency.get(agency.pk, empty)
    cards = _cells(current, previous, agency=agency, period=period, compared=compared)
    charts = [
        # The chosen agency stands out only among others.
        _chart(figure, rows, agency if len(rows) > 1 else None, index=index)
        for index, figure in enumerate(FIGURES)
    ]

    sort = request.GET.get("sort", "received")
    if sort not in dashboard.SORT_KEYS:
        sort = "received"
    descending = request.GET.get("dir", "asc" if sort == "agency" else "desc") != "asc"
    rows = dashboard.sort_rows(rows, sort=sort, descending=descending)

    return render(
        request,
        "staff/figures.html",
        {
            "scope": scope,
            "agency": agency,
            "period": period,
            "period_words": _period_words(period),
            "period_error": period_error,
            "compared": compared,
            "compared_words": _period_words(compared),
            "compare": compare,
            "comparisons": dashboard.COMPARISONS,
            "cards": [
                {"cell": cell, "chart": chart}
                for cell, chart in zip(cards, charts, strict=True)
            ],
            "figures": FIGURES,
            "rows": rows,
            "show_table": len(rows) > 1,
            "sort": sort,
            "descending": descending,
            "headers": _sort_links(request, sort, descending),
            "chart_width": CHART_WIDTH,
            "chart_label": CHART_LABEL,
            "today": today,
            # Routing is national (the controllers'): shown with the whole government.
            "routing_months": suggestion_figures.monthly(today=today)
            if scope.whole_government and agency is None
            else [],
        },
    )


@never_cache
@permissions.role_required(*dashboard.DASHBOARD_ROLES)
@require_GET
@heavy_reads()  # reads only: runs again on the primary if the replica fails
def figure_appeals(request: HttpRequest) -> HttpResponse:
    figure = FIGURES_BY_CODE.get(request.GET.get("figure", ""))
    if figure is None:
        raise Http404
    scope = dashboard.dashboard_scope(request.user)
    agency = scope.agency(request.GET.get("agency"))
    today = timezone.localdate()
    try:
        period = parse_period(request.GET.get("period", ""))
    except ValueError:
        period = dashboard.default_period(today)
    counted = dashboard.figure_appeals(
        figure=figure.code, period=period, agency=agency, today=today
    )
    visible = dashboard.visible_figure_appeals(request.user, counted)
    page = keyset_page(
        visible.select_related("lead_agency").defer(
            "text", "outcome_reason", "backdate_reason"
        ),
        key="received_on",
        after=request.GET.get("after"),
        size=50,
    )
    counted_total = counted.count()
    visible_total = visible.count()
    back = {"period": period.label}
    if agency is not None:
        back["agency"] = agency.slug
    next_url = ""
    if page.next_cursor:
        query = request.GET.copy()
        query["after"] = page.next_cursor
        next_url = f"?{query.urlencode()}"
    return render(
        request,
        "staff/figure_appeals.html",
        {
            "figure": figure,
            "agency": agency,
            "period": period,
            "period_words": _period_words(period),
            "page": page,
            "counted_total": counted_total,
            "visible_total": visible_total,
            "hidden_total": counted_total - visible_total,
            "figures_url": f"{reverse('staff:figures')}?{urlencode(back)}",
            "next_url": next_url,
            "after": request.GET.get("after", ""),
            "first_url": "?"
            + urlencode(
                {k: v for k, v in request.GET.items() if k != "after"},
            ),
        },
    )
