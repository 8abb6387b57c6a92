"""The read replica's settings without a replica: nothing changes, and a replica
beside a database that is not PostgreSQL is refused at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_replica_url_there_is_no_replica_and_no_router():
    assert "replica" not in settings.DATABASES
    assert not getattr(settings, "DATABASE_ROUTERS", [])


@pytest.mark.django_db
def test_readyz_says_no_replica_is_configured_and_the_portal_is_ready(client):
    response = client.get("/readyz?check=database")

    assert response.status_code == 200
    assert response.json()["replica"] == "not configured"


def test_a_replica_beside_sqlite_is_refused_at_start_up(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DATABASE_REPLICA_URL": "postgres://portal@127.0.0.1:5432/portal",
        "VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", "import portal.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode != 0
    assert "DATABASE_REPLICA_URL needs PostgreSQL" in done.stderr
