"""Readiness checks: the database, the broker, the Celery workers, free disk space and
the files' storage (the bucket, with object storage on).

Each check returns None when fine, else the reason in plain words (English: it is read
by the people who run the portal, on the operations page). The reasons name hosts,
ports, folders and worker names: /readyz, which anyone can ask, says only which checks
failed.
"""

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import filestore
from .models import WorkerHeartbeat


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}: {_first_line(exc)}"
    return None


def check_broker() -> str | None:
    """Redis answers a ping; the embedded filesystem broker's folder is writable."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _ping_redis(url)
    if url.startswith("filesystem://"):
        folder = Path(
            settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
            or settings.VAR_DIR / "celery-queue"
        )
        return _writable(folder)
    return None  # another transport: nothing we know how to check cheaply


def check_redis() -> str | None:
    """The cache's Redis, when it is not the broker's (the broker check covers that)."""
    if settings.REDIS_URL and settings.REDIS_URL != settings.CELERY_BROKER_URL:
        return _ping_redis(settings.REDIS_URL)
    return None


def check_workers() -> str | None:
    """Some worker ran the heartbeat task recently (it is scheduled every minute)."""
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return "no Celery worker has reported a heartbeat yet"
    age = timezone.now() - latest.seen_at
    limit = dt.timedelta(seconds=settings.READINESS_HEARTBEAT_MAX_AGE)
    if age > limit:
        return (
            f"last Celery worker heartbeat {int(age.total_seconds())} s ago "
            f"({latest.worker}); limit {int(limit.total_seconds())} s"
        )
    return None


def check_disk() -> str | None:
    """Enough free space where uploads are stored."""
    root = Path(settings.MEDIA_ROOT)
    path = root if root.exists() else root.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return f"cannot read free space of {root}: {exc.strerror}"
    needed = settings.READINESS_MIN_FREE_DISK_MB * 1024 * 1024
    if free < needed:
        return (
            f"{free // (1024 * 1024)} MB free for uploads in {root}; "
            f"at least {settings.READINESS_MIN_FREE_DISK_MB} MB needed"
        )
    return None


def check_storage() -> str | None:
    """The files' storage answers: the bucket exists and the keys may use it (a
    missing bucket, wrong keys, an unreachable endpoint each say so), or MEDIA_ROOT is
    writable."""
    return filestore.check()


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": check_database,
    "broker": check_broker,
    "redis": check_redis,
    "workers": check_workers,
    "disk": check_disk,
    "storage": check_storage,
}


def run_checks(names: list[str] | None = None) -> dict[str, str | None]:
    """{check name: None or the reason it failed}, for the named checks or all."""
    selected = [name for name in CHECKS if names is None or name in names]
    return {name: _run(CHECKS[name]) for name in selected}


def _run(check: Callable[[], str | None]) -> str | None:
    """A check that cannot run has failed (the workers' heartbeats, when the database
    is down): its error is the reason."""
    try:
        return check()
    except Exception as exc:
        return f"{type(exc).__name__}: {_first_line(exc)}"


def _ping_redis(url: str) -> str | None:
    client = redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, retry_on_timeout=False
    )
    try:
        client.ping()
    except Exception as exc:
        return f"redis at {_where(url)} unreachable: {_first_line(exc)}"
    finally:
        client.close()
    return None


def _writable(folder: Path) -> str | None:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
            pass
    except OSError as exc:
        return f"broker folder {folder} not writable: {exc.strerror or exc}"
    return None


def _where(url: str) -> str:
    """host:port of a URL, without the password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]
