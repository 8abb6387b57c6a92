"""The embeddable filing form: an agency's own website frames it (an iframe).

Same form and protections as the portal's page (appeals.views.public.filing_page).
Instead of X-Frame-Options DENY it sends a CSP frame-ancestors list of the agency's
sites (Agency.embed_origins). Inside a frame on another site the browser sends only
SameSite=None cookies, so this view sets its CSRF cookie SameSite=None; Secure itself.
Browsers that block third-party cookies (Safari, and Chrome or Firefox when the
citizen asks) send no cookie from inside the frame at all, so a POST is checked by
its origin instead (OWASP's "verifying origin with standard headers"): the frame's
own document is on the portal, so a genuine POST says Origin: <the portal> or
Sec-Fetch-Site: same-origin, which no other site can forge in a browser. Only a
request with neither header falls back to Django's token-and-cookie check.
The answer after sending is rendered in place (no session needed): a reload re-sends
the same submission key and shows the receipt without the code, creating nothing.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import get_object_or_404, render
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from agencies.models import Agency
from appeals.intake import filing
from appeals.views.public import filing_page


def _forged(request: HttpRequest) -> HttpResponse | None:
    """None when the POST comes from the portal's own page (the frame); otherwise
    the CSRF failure response."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin and origin != "null":
        own = f"{request.scheme}://{request.get_host()}"
        if origin == own or origin in settings.CSRF_TRUSTED_ORIGINS:
            return None
    elif request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
        return None
    elif "HTTP_SEC_FETCH_SITE" not in request.META:
        # An old browser that sends neither header: the token and its cookie.
        return CsrfViewMiddleware(lambda request: None).process_view(
            request, None, (), {}
        )
    return _csrf_failure(request)


def _csrf_failure(request: HttpRequest) -> HttpResponse:
    return import_string(settings.CSRF_FAILURE_VIEW)(
        request, reason="Origin checking failed for the embedded form."
    )


@csrf_exempt  # checked by _forged: the cookie may be blocked inside the frame
@xframe_options_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def embed_form(request: HttpRequest, agency: str) -> HttpResponse:
    if request.method == "POST" and (refused := _forged(request)):
        return refused
    agency_obj = get_object_or_404(Agency, slug=agency, is_active=True)
    if request.method == "POST" and request.POST.get("addressee") != agency_obj.slug:
        raise Http404  # this page files appeals to its own agency only

    def sent(request: HttpRequest, submission: filing.Submission) -> HttpResponse:
        return render(
            request,
            "appeals/embed_sent.html",
            {
                "agency": agency_obj,
                "appeal": submission.appeal,
                "access_code": submission.access_code,
            },
        )

    response = filing_page(
        request,
        template="appeals/appeal_form.html",
        agency_slug=agency_obj.slug,
        on_sent=sent,
        context={
            "agency": agency_obj,
            "embedded": True,
            "base_template": "appeals/embed_base.html",
        },
    )
    return frameable(request, response, agency_obj)


def frameable(
    request: HttpRequest, response: HttpResponse, agency: Agency
) -> HttpResponse:
    """Allow the agency's sites to frame the page; keep CSRF working inside it."""
    response._csp_replace = {"frame-ancestors": ["'self'", *agency.embed_origin_list]}
    get_token(request)  # makes sure the request has its CSRF secret
    response.set_cookie(
        settings.CSRF_COOKIE_NAME,
        request.META["CSRF_COOKIE"],
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=True,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite="None",
    )
    # The middleware would set the same cookie again as SameSite=Lax.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return response
