"""Public pages that belong to no one domain: home, accessibility switch, health."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .context_processors import A11Y_COOKIE, a11y_modes

ONE_YEAR = 365 * 24 * 3600


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_POST
def accessibility(request: HttpRequest) -> HttpResponse:
    """The low-vision panel without JavaScript: remember the choice in a cookie."""
    modes = set(a11y_modes(request))
    data = request.POST
    if "reset" in data:
        modes.clear()
    if "font" in data:
        modes -= {"font-150", "font-200"}
        if data["font"] in ("150", "200"):
            modes.add(f"font-{data['font']}")
    for field, mode, on_value in (
        ("spacing", "spacing", "on"),
        ("images", "no-images", "off"),
        ("contrast", "contrast", "on"),
    ):
        if field in data:
            modes.discard(mode)
            if data[field] == on_value:
                modes.add(mode)
    target = data.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    response.set_cookie(
        A11Y_COOKIE, ",".join(sorted(modes)), max_age=ONE_YEAR, samesite="Lax"
    )
    return response


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Readiness checks come with operations work."""
    return HttpResponse("ok", content_type="text/plain")
