"""Public pages of agencies: the directory of state bodies with their contacts."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors

MAX_QUERY_LENGTH = 100


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    agencies = list(selectors.search_agencies(query))
    return render(
        request,
        "agencies/agency_directory.html",
        {"agencies": agencies, "query": query, "max_query_length": MAX_QUERY_LENGTH},
    )
