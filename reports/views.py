"""Public statistics pages: the open statistics of appeals received."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors


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
    return render(
        request, "reports/open_statistics.html", {"stats": stats, "years": years}
    )
