"""Statistics pages: the public open statistics, and the managers' reports (a
period picker with downloads and a preview) and the archive of published reports."""

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agencies.models import Membership
from appeals.register import permissions
from portal import filestore
from portal.periods import parse_period, period_title

from . import archive, forms, selectors
from .models import ArchivedReport
from .render import render as render_report
from .render.charts import report_charts
from .render.layout import CONTENT_TYPES, FORMATS, display_tables, filename
from .report import IntakeReport

Role = Membership.Role
REPORT_ROLES = (Role.MANAGER, Role.CONTROLLER, Role.HEAD)
# The public page's charts cost a full report; they change little within minutes.
OPEN_CHARTS_SECONDS = 600


def _open_charts(stats: selectors.OpenStatistics, language: str) -> dict[str, str]:
    key = f"open-statistics-charts:{stats.start}:{stats.end}:{language}"
    charts = cache.get(key)
    if charts is None:
        label = (
            f"{stats.start.isoformat()}..{stats.end.isoformat()}"
            if stats.is_year_to_date
            else str(stats.year)
        )
        report = selectors.build_intake_report(
            period=parse_period(label), language=language
        )
        # Aggregates only: counts by channel and by outcome, no personal data.
        charts = report_charts(report)
        cache.set(key, charts, OPEN_CHARTS_SECONDS)
    return charts


@require_GET
def open_statistics(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()  # TIME_ZONE is Asia/Bishkek
    years = selectors.intake_years(today=today)
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = today.year
    if year not in years:  # a year with nothing to show falls back to this one
        year = today.year
    stats = selectors.open_statistics(year=year, today=today)
    charts = _open_charts(stats, translation.get_language())
    records = selectors.agency_records(year=year, today=today)
    return render(
        request,
        "reports/open_statistics.html",
        {"stats": stats, "years": years, "charts": charts, "records": records},
    )


def _report_form(request: HttpRequest) -> forms.ReportForm:
    """The picker as submitted; on a first visit, the last quarter that ended."""
    if "kind" in request.GET or "period" in request.GET:
        return forms.ReportForm(request.GET)
    return forms.ReportForm(
        forms.initial(today=timezone.localdate(), language=translation.get_language())
    )


def _build(form: forms.ReportForm) -> IntakeReport:
    data = form.cleaned_data
    agency = data.get("agency")
    return selectors.build_intake_report(
        period=data["report_period"],
        agency_slug=agency.slug if agency else None,
        with_subordinates=bool(agency and data.get("with_subordinates")),
        language=data["language"],
    )


def _manager_page(
    request: HttpRequest, form: forms.ReportForm, *, status: int = 200
) -> HttpResponse:
    context = {"form": form, "formats": FORMATS, "report": None}
    agency = None
    if form.is_valid():
        report = _build(form)
        language = report.language
        agency = form.cleaned_data.get("agency")
        context.update(
            report=report,
            period=period_title(report.current.period, language),
            previous=period_title(report.previous.period, language),
            tables=display_tables(report),
            charts=report_charts(report),
            query=urlencode(
                {
                    name: form.data[name]
                    for name in form.fields
                    if str(form.data.get(name, "")).strip()
                }
            ),
        )
    elif status == 200:
        status = 400
    context["archive"] = archive.archived_periods(
        agency=agency, language=translation.get_language()
    )
    context["archive_agency"] = agency
    return render(request, "reports/manager.html", context, status=status)


@never_cache
@permissions.role_required(*REPORT_ROLES)
@require_GET
def manager(request: HttpRequest) -> HttpResponse:
    return _manager_page(request, _report_form(request))


@never_cache
@permissions.role_required(*REPORT_ROLES)
@require_GET
def download(request: HttpRequest) -> HttpResponse:
    """The picked report as a file: ?kind=Q1&year=2020&...&format=pdf."""
    fmt = request.GET.get("format", "")
    if fmt not in FORMATS:
        raise Http404
    form = forms.ReportForm(request.GET)
    if not form.is_valid():
        return _manager_page(request, form, status=400)
    report = _build(form)
    response = HttpResponse(render_report(report, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@permissions.role_required(*REPORT_ROLES)
@require_GET
def archived_file(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    """An archived report's file: private media, served only here."""
    record = get_object_or_404(
        ArchivedReport.objects.select_related("agency"), pk=pk, format=fmt
    )
    response = FileResponse(
        filestore.open_or_404(record.file, what=f"archived report {record.pk}"),
        as_attachment=True,
        filename=archive.download_name(record),
        content_type=CONTENT_TYPES[record.format],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
