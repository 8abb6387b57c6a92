"""Public pages that belong to no one domain: home, accessibility switch; and the
operations endpoints: health, readiness, metrics, the error page, the operations page."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import user_passes_test
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET, require_POST
from django_prometheus.exports import ExportToDjangoView

from appeals.models import Notification

from . import health, metrics, replica
from .context_processors import A11Y_COOKIE, a11y_modes
from .logging import current_request_id
from .models import WorkerHeartbeat

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
    """Liveness: the process answers. No dependency is asked, so a database or worker
    outage never makes an orchestrator restart healthy web processes."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every check passes, else 503; JSON either way, even with
    the database down. It says which checks failed, not why: the reasons name hosts,
    ports and worker names, and are on the superusers' operations page.
    `?check=database&check=disk` runs only the named checks (the web container's own
    healthcheck leaves out the workers, see docker-compose.yml)."""
    names = request.GET.getlist("check") or settings.READINESS_CHECKS
    unknown = sorted(set(names) - set(health.CHECKS))
    if unknown:
        return JsonResponse(
            {"error": f"unknown checks: {', '.join(unknown)}"}, status=400
        )
    results = health.run_checks(names)
    ready = all(reason is None for reason in results.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: {"ok": reason is None} for name, reason in results.items()},
        # Information only: without a replica, heavy reads go to the primary.
        "replica": replica.status(),
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: only for the scraper (token or allowed address); anyone
    else gets the same 404 as for a page that does not exist."""
    if not metrics.may_scrape(request):
        raise Http404

    metrics.register()
    return ExportToDjangoView(request)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: calm, in the request's language, with the id to quote. Rendered
    without context processors: the database may be what failed."""
    template = loader.get_template("500.html")
    request_id = getattr(request, "request_id", None) or current_request_id()
    return HttpResponseServerError(template.render({"request_id": request_id}))


@user_passes_test(
    lambda user: user.is_active and user.is_superuser, login_url="admin:login"
)
@never_cache
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    """Superusers' view of the outbox, the queues and the workers."""

    now = timezone.now()
    outbox = metrics.outbox_summary()
    oldest = outbox["oldest_pending"]
    failures = Notification.objects.filter(state=Notification.State.FAILED).order_by(
        "-updated_at"
    )[:20]
    retrying = Notification.objects.filter(
        state=Notification.State.PENDING, attempts__gt=0
    ).order_by("-updated_at")[:20]
    workers = [
        {
            "worker": beat.worker,
            "seen_at": beat.seen_at,
            "age": int((now - beat.seen_at).total_seconds()),
            "stale": (now - beat.seen_at).total_seconds()
            > settings.READINESS_HEARTBEAT_MAX_AGE,
        }
        for beat in WorkerHeartbeat.objects.order_by("-seen_at")
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Operations"),
        "outbox": outbox,
        "oldest_pending_age": int((now - oldest).total_seconds()) if oldest else None,
        "failures": failures,
        "retrying": retrying,
        "queues": metrics.queue_lengths(),
        "workers": workers,
        "checks": health.run_checks(settings.READINESS_CHECKS),
        "replica_configured": replica.configured(),
        "replica": replica.replica_health(),
    }
    return render(request, "admin/operations.html", context)
