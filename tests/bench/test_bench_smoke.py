"""A tiny run of the benchmark scripts: they work, and write the figures they promise.

Never a measurement: a few thousand appeals in a throwaway database, seconds of load.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from tests.helpers import database_url_for_tests

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = [
    "machine: fixed CPU work, before",
    "submissions: throughput",
    "submissions: p50",
    "submissions: p95",
    "submissions: errors",
    "submissions: accepted",
    "submissions: receipts unsent 2 min after",
    "submissions: CPU each, web workers",
    "submissions: CPU each, Celery worker",
    "submissions: CPU each, PostgreSQL",
    "memory: web process peak RSS",
    "memory: worker peak RSS",
    "tracking: look-up (POST) p95",
    "tracking: status page p95",
    "inbox: new, first page p95",
    "inbox: in_progress, first page p95",
    "inbox: overdue, first page p95",
    "inbox: in_progress, deep page p95",
    "inbox: deep page + counts, queries only p95",
    "journal: 90 days, channel, first page p95",
    "journal: 90 days, channel, deep page p95",
    "report: quarter figures",
    "report: quarter figures + PDF",
    "report: quarter PDF alone, CPU time",
    "report: year figures",
    "report: year figures + PDF",
    "report: year PDF alone, CPU time",
    "deadline sweep",
    "import of 300 rows (whole command)",
    "import: validated in",
    "import: imported in",
    "memory: import peak RSS",
    "machine: fixed CPU work, after",
]


@pytest.fixture
def scratch_url():
    """A database of its own on the test server, dropped at the end."""
    base = database_url_for_tests()
    name = f"bench_smoke_{secrets.token_hex(4)}"
    parts = urlsplit(base)
    admin = f"postgresql://{parts.netloc}/postgres"
    yield f"postgres://{parts.netloc}/{name}"
    connection.close()
    with psycopg.connect(admin, autocommit=True) as admin_connection:
        admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_generate_then_run_write_every_figure(scratch_url, tmp_path):
    samples = tmp_path / "samples.json"
    results = tmp_path / "results.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            "bench/generate.py",
            "--appeals",
            "3000",
            "--database-url",
            scratch_url,
            "--samples",
            str(samples),
            "--no-progress",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    generated = json.loads(samples.read_text())
    assert generated["counts"]["appeals_appeal"] == 3000
    assert generated["counts"]["appeals_event"] > 3 * 3000
    assert len(generated["tracking"]) >= 100
    # The COPY ran with the triggers off; generate.py rebuilt the rollups.
    for command in ("rebuild_intake_rollup", "rebuild_inbox_counts"):
        subprocess.run(
            [sys.executable, "manage.py", command, "--check"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": scratch_url},
            check=True,
            timeout=120,
        )

    subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--database-url",
            scratch_url,
            "--samples",
            str(samples),
            "--results",
            str(results),
            "--duration",
            "1",
            "--clients",
            "4",
            "--workers",
            "1",
            "--requests",
            "3",
            "--repeat",
            "1",
            "--import-rows",
            "300",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    figures = json.loads(results.read_text())
    names = [entry["name"] for entry in figures]
    assert names == EXPECTED
    for entry in figures:
        assert set(entry) == {"name", "value", "unit", "target", "reference", "scale"}
        assert isinstance(entry["value"], float), entry
        assert entry["scale"] == "3,000 appeals"
    by_name = {entry["name"]: entry for entry in figures}
    assert by_name["submissions: errors"]["value"] == 0
    assert by_name["submissions: accepted"]["value"] > 0
    assert by_name["submissions: receipts unsent 2 min after"]["value"] == 0
    assert by_name["submissions: throughput"]["reference"] > 0
    assert by_name["report: year figures"]["reference"] > 0
    assert by_name["memory: web process peak RSS"]["value"] > 30
