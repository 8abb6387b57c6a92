"""Liveness and readiness: /healthz asks nothing; /readyz names each failing check."""

import datetime as dt
import shutil
import socket

import pytest
from django.utils import timezone

from portal.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_heartbeat():
    WorkerHeartbeat.objects.create(worker="celery@test", seen_at=timezone.now())


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    assert set(body["checks"]) == {"database", "broker", "redis", "workers", "disk"}
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
    assert f"127.0.0.1:{port}" in broker["reason"]
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["workers"] == {"ok": True}


def test_not_ready_when_the_filesystem_broker_folder_is_missing(
    client, settings, fresh_heartbeat, tmp_path
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "no")}
    response = client.get("/readyz?check=broker")
    assert response.status_code == 503
    assert "not writable" in response.json()["checks"]["broker"]["reason"]


def test_not_ready_when_the_worker_heartbeat_is_stale(client, settings):
    WorkerHeartbeat.objects.create(
        worker="celery@old", seen_at=timezone.now() - dt.timedelta(minutes=10)
    )
    settings.READINESS_HEARTBEAT_MAX_AGE = 180
    response = client.get("/readyz")
    assert response.status_code == 503
    reason = response.json()["checks"]["workers"]["reason"]
    assert "celery@old" in reason and "limit 180 s" in reason


def test_not_ready_before_any_worker_reported(client):
    response = client.get("/readyz?check=workers")
    assert response.status_code == 503
    assert "no Celery worker" in response.json()["checks"]["workers"]["reason"]


def test_not_ready_when_free_disk_is_below_the_threshold(
    client, settings, fresh_heartbeat, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    free_mb = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    settings.READINESS_MIN_FREE_DISK_MB = free_mb + 1024
    response = client.get("/readyz")
    assert response.status_code == 503
    disk = response.json()["checks"]["disk"]
    assert disk["ok"] is False
    assert f"at least {free_mb + 1024} MB needed" in disk["reason"]


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
    assert "connection lost" in response.json()["checks"]["database"]["reason"]


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
