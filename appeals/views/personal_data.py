"""What is held about me: the citizen downloads the personal data their appeal holds,
as a PDF and as JSON, from the tracking page (only in the browser that opened the
appeal with its access code)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from appeals.privacy import subject_access
from appeals.views.public import _tracked_appeal
from portal import pdf, ratelimit

# Each download renders a document: a browser gets this many an hour.
DEFAULT_LIMIT = (20, 3600)


def _issue(request: HttpRequest, tracking_number: str, fmt: str) -> HttpResponse:
    # A wrong or missing code: 404, like the answer letter's download.
    appeal = _tracked_appeal(request, tracking_number)
    limit, window = settings.PORTAL_RATE_LIMITS.get("personal_data", DEFAULT_LIMIT)
    if not ratelimit.hit(
        "personal-data", ratelimit.client_id(request), limit=limit, window=window
    ):
        return render(
            request,
            "appeals/personal_data_limited.html",
            {
                "appeal": appeal,
                "message": _(
                    "Too many downloads. For your safety, please try again later."
                ),
            },
            status=429,
        )
    content = subject_access.issue(appeal_ids=[appeal.pk], fmt=fmt)
    filename = f"my-data-{appeal.tracking_number}.{fmt}"
    if fmt == "pdf":
        return pdf.response(content, filename=filename)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_GET
def my_data_pdf(request: HttpRequest, tracking_number: str) -> HttpResponse:
    return _issue(request, tracking_number, "pdf")


@never_cache
@require_GET
def my_data_json(request: HttpRequest, tracking_number: str) -> HttpResponse:
    return _issue(request, tracking_number, "json")
