"""Prometheus figures of the portal's own state, read at scrape time, and who may scrape.

Requests and latency by view come from django-prometheus' middleware; this module adds
the queue, the outbox, the workers and the overdue appeals per agency.
"""

import datetime as dt
import hmac
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from appeals.models import Appeal, IssuedDocument, Notification
from appeals.oversight.figures import WITH_AGENCY_STATUSES

from .models import WorkerHeartbeat


@dataclass(frozen=True)
class QueueLength:
    queue: str
    length: int | None  # None: the broker can't tell (not Redis) or is unreachable


def queue_lengths() -> list[QueueLength]:
    """Messages waiting in each Celery queue (Redis broker: the list's length)."""
    names = settings.METRICS_QUEUES
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return [QueueLength(name, None) for name in names]

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return [QueueLength(name, client.llen(name)) for name in names]
    except redis.RedisError:
        return [QueueLength(name, None) for name in names]
    finally:
        client.close()


def outbox_summary() -> dict:
    """Counts by state and the oldest pending notification's creation time."""

    counts = dict(
        Notification.objects.order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    oldest = Notification.objects.filter(state=Notification.State.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return {
        "counts": {state: counts.get(state, 0) for state in Notification.State.values},
        "oldest_pending": oldest,
    }


def overdue_by_agency(today: dt.date | None = None) -> dict[str, int]:
    """Appeals with an agency whose due date has passed, by the lead agency's slug
    (the dashboard's "overdue now" for one agency)."""

    today = today or timezone.localdate()
    rows = (
        Appeal.objects.filter(
            status__in=WITH_AGENCY_STATUSES,
            due_on__lt=today,
            lead_agency__isnull=False,
        )
        .order_by()
        .values_list("lead_agency__slug")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


class PortalCollector(Collector):
    def collect(self):
        queues = GaugeMetricFamily(
            "portal_celery_queue_length",
            "Task messages waiting in a Celery queue of the broker",
            labels=["queue"],
        )
        for item in queue_lengths():
            if item.length is not None:
                queues.add_metric([item.queue], item.length)
        yield queues

        outbox = outbox_summary()
        states = GaugeMetricFamily(
            "portal_notifications",
            "Notifications of the outbox by state",
            labels=["state"],
        )
        for state, count in outbox["counts"].items():
            states.add_metric([state], count)
        yield states
        oldest = outbox["oldest_pending"]
        yield GaugeMetricFamily(
            "portal_notification_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting to be sent (0: none)",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )

        overdue = GaugeMetricFamily(
            "portal_overdue_appeals",
            "Appeals past their due date with an agency, by lead agency",
            labels=["agency"],
        )
        for slug, count in sorted(overdue_by_agency().items()):
            overdue.add_metric([slug], count)
        yield overdue

        heartbeats = GaugeMetricFamily(
            "portal_worker_heartbeat_age_seconds",
            "Seconds since each Celery worker last ran the heartbeat task",
            labels=["worker"],
        )
        now = timezone.now()
        for worker, seen_at in WorkerHeartbeat.objects.values_list("worker", "seen_at"):
            heartbeats.add_metric([worker], (now - seen_at).total_seconds())
        yield heartbeats

        # Alert when above zero for long: a signing certificate or its password is
        # missing or wrong and answer letters wait, unsent (appeals.tasks).
        yield GaugeMetricFamily(
            "portal_documents_waiting_for_signing",
            "Issued documents (answer letters) still waiting for a signature",
            value=IssuedDocument.objects.filter(
                state=IssuedDocument.State.WAITING
            ).count(),
        )


def may_scrape(request: HttpRequest) -> bool:
    """The bearer token when one is set; else a direct connection from an allowed
    address. A request that came through the proxy (X-Forwarded-For) never passes on
    its address: behind a proxy every address is the proxy's."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    if "X-Forwarded-For" in request.headers or "X-Real-IP" in request.headers:
        return False
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


_registered = False


def register() -> None:
    """Adds the portal's collector to the default registry once per process."""
    global _registered
    if not _registered:
        from prometheus_client import REGISTRY

        REGISTRY.register(PortalCollector())
        _registered = True
