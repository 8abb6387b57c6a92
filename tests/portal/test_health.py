"""Liveness and readiness: /healthz asks nothing; /readyz names each failing check,
and the superusers' operations page says why (hosts, ports, worker names are not for
the public)."""

import datetime as dt
import html
import re
import shutil
import socket
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone

from portal.models import WorkerHeartbeat
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_heartbeat():
    WorkerHeartbeat.objects.create(worker="celery@test", seen_at=timezone.now())


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reason(name: str) -> str:
    """The reason the operations page gives for the check `name` ("" when it passes)."""
    admin = get_user_model().objects.filter(username="ops-admin").first()
    admin = admin or get_user_model().objects.create_superuser(
        "ops-admin", "ops@example.kg", "a-long-test-password"
    )
    client = Client()
    login_staff(client, admin)
    response = client.get("/en/admin/operations/")
    assert response.status_code == 200
    page = response.content.decode()
    row = re.search(rf"<tr><td>{name}</td><td>(.*?)</td></tr>", page)
    return html.unescape(row.group(1)) if "failing" in row.group(1) else ""


def _public(body: dict) -> str:
    """The answer as text, to look for what it must not tell."""
    return repr(body)


def test_liveness_answers_without_asking_any_dependency(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_dead_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_ready_when_every_check_passes(client, settings, fresh_heartbeat, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.READINESS_MIN_FREE_DISK_MB = 1
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {
        "database",
        "broker",
        "redis",
        "workers",
        "disk",
        "storage",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_not_ready_when_redis_is_on_a_dead_port(client, settings, fresh_heartbeat):
    port = _dead_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.READINESS_MIN_FREE_DISK_MB = 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    broker = body["checks"]["broker"]
    assert broker["ok"] is False
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["workers"] == {"ok": True}
    # Where the broker is, the operations page says; the public answer does not.
    assert f"127.0.0.1:{port}" in _reason("broker")
    assert str(port) not in _public(body) and "reason" not in broker


def test_not_ready_when_the_filesystem_broker_folder_is_missing(
    client, settings, fresh_heartbeat, tmp_path
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "no")}
    response = client.get("/readyz?check=broker")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False}
    assert "not writable" in _reason("broker")


def test_not_ready_when_the_worker_heartbeat_is_stale(client, settings):
    WorkerHeartbeat.objects.create(
        worker="celery@old", seen_at=timezone.now() - dt.timedelta(minutes=10)
    )
    settings.READINESS_HEARTBEAT_MAX_AGE = 180
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False}
    assert "celery@old" not in _public(response.json())
    reason = _reason("workers")
    assert "celery@old" in reason and "limit 180 s" in reason


def test_not_ready_before_any_worker_reported(client):
    response = client.get("/readyz?check=workers")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False}
    assert "no Celery worker" in _reason("workers")


def test_not_ready_when_free_disk_is_below_the_threshold(
    client, settings, fresh_heartbeat, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    free_mb = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    settings.READINESS_MIN_FREE_DISK_MB = free_mb + 1024
    response = client.get("/readyz")
    assert response.status_code == 503
    disk = response.json()["checks"]["disk"]
    assert disk == {"ok": False}
    assert str(tmp_path) not in _public(response.json())
    assert f"at least {free_mb + 1024} MB needed" in _reason("disk")


def test_not_ready_when_the_database_fails(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        if sql == "SELECT 1":
            raise RuntimeError("connection lost")
        return original(self, sql, params)

    original = CursorWrapper.execute
    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/readyz?check=database")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False}
    assert "connection lost" in _reason("database")


@contextmanager
def database_unreachable():
    """The default database is really unreachable: its connection points at a
    PostgreSQL port nothing listens on (SQLite: a file in a missing folder)."""
    db = connections["default"]
    saved = dict(db.settings_dict)
    db.close()
    if db.vendor == "sqlite":
        db.settings_dict["NAME"] = "/nonexistent/folder/db.sqlite3"
    else:
        db.settings_dict.update(HOST="127.0.0.1", PORT=str(_dead_port()))
    try:
        yield db.settings_dict
    finally:
        db.close()
        db.settings_dict.clear()
        db.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_not_ready_with_json_when_the_database_is_unreachable(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.READINESS_MIN_FREE_DISK_MB = 1
    client = Client(raise_request_exception=False)
    with database_unreachable() as unreachable:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "not ready"
    # The heartbeats are in the database too: the workers cannot be vouched for.
    assert body["checks"]["database"] == {"ok": False}
    assert body["checks"]["workers"] == {"ok": False}
    assert body["checks"]["disk"] == {"ok": True}
    # Nothing says where the database is.
    assert all(set(check) == {"ok"} for check in body["checks"].values())
    assert unreachable["NAME"] not in _public(body)


def test_selected_checks_leave_the_workers_out(client, settings):
    """The web container's healthcheck: no heartbeat, yet ready to serve."""
    settings.READINESS_MIN_FREE_DISK_MB = 1
    response = client.get("/readyz?check=database&check=broker&check=disk")
    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"database", "broker", "disk"}


def test_unknown_check_is_a_bad_request(client):
    assert client.get("/readyz?check=everything").status_code == 400


def test_responses_carry_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert response["X-Request-ID"] == "lb-1234abcd"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith text"})
    assert generated["X-Request-ID"] != "bad id\nwith text"
    assert len(generated["X-Request-ID"]) == 32
