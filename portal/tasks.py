"""Portal-wide Celery tasks."""

import socket
from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(name="portal.tasks.record_heartbeat", ignore_result=True)
def record_heartbeat(worker: str = "") -> None:
    """Record that a worker is alive; safe to run any number of times."""
    WorkerHeartbeat.objects.update_or_create(
        worker=worker or socket.gethostname(), defaults={"seen_at": timezone.now()}
    )


@shared_task(name="portal.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Sessions live in the database: remove the expired ones."""

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
