"""The read replica against a real streaming standby (tests/engines/replica.py): the
heavy reads run on the standby, reads in a transaction and a request's own writes stay
on the primary, and the reads fall back to the primary, with the metric, when the
standby is stopped (before a report, or in the middle of one) or lags.

Each scenario runs in a portal process of its own (tests/engines/replica_probe.py)
pointed at the pair with DATABASE_URL and DATABASE_REPLICA_URL: the pytest session's
own database settings stay as they are.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engines.replica import (
    pg_ctl_command,
    psql,
    replica_pair,  # noqa: F401 (the session fixture)
    start_cluster,
    stop_cluster,
    wait_replayed,
    wait_streaming,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "engines" / "replica_probe.py"
DATABASE = "portal_replica_probe"
# Variables of the pytest session that must not reach the probe: it runs alone.
OWN = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "STORAGE_URL")


@pytest.fixture(scope="module")
def portal_env(replica_pair, tmp_path_factory):  # noqa: F811
    """The portal's environment on the pair: a migrated database with a few
    registered appeals, replayed on the standby."""
    primary_url, replica_url = replica_pair.urls(DATABASE)
    var = tmp_path_factory.mktemp("replica-var")
    env = {key: value for key, value in os.environ.items() if key not in OWN}
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=primary_url,
        DATABASE_REPLICA_URL=replica_url,
        ALLOWED_HOSTS="testserver",
        VAR_DIR=str(var),
        MEDIA_ROOT=str(var / "media"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    psql(replica_pair.primary, f"CREATE DATABASE {DATABASE}")
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DATABASE_REPLICA_URL": ""},
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    _probe(env, "seed")
    wait_replayed(replica_pair)
    return env


def _probe(env: dict, scenario: str, **extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(PROBE), scenario],
        cwd=ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _restart(pair) -> None:
    start_cluster(pair.replica)
    wait_streaming(pair)


def test_a_report_and_the_open_statistics_are_read_on_the_replica(
    portal_env,
    replica_pair,  # noqa: F811
):
    on_replica = _probe(portal_env, "report")
    on_primary = _probe(portal_env, "atomic")

    assert set(on_replica["queries"]) == {"replica"}
    assert on_replica["in_recovery"] == {"replica": True}
    assert on_replica["status"] == "in use"
    assert on_replica["up"] == 1.0
    # The standby's figures are the primary's, replayed.
    assert on_replica["figures"]["report_written_total"] >= 3
    assert on_replica["figures"] == on_primary["figures"]


def test_the_dashboards_figures_and_the_journal_export_are_read_on_the_replica(
    portal_env,
):
    outcome = _probe(portal_env, "paths")

    for path in ("dashboard", "export"):
        assert set(outcome[path]["queries"]) == {"replica"}, path
        assert outcome[path]["in_recovery"] == {"replica": True}
    assert outcome["dashboard"]["figures"] >= 3
    assert outcome["export"]["figures"] >= 3


def test_reads_inside_a_transaction_stay_on_the_primary(portal_env):
    outcome = _probe(portal_env, "atomic")

    assert set(outcome["queries"]) == {"default"}
    assert outcome["in_recovery"] == {"default": False}
    assert outcome["fallbacks"] == dict.fromkeys(outcome["fallbacks"], 0.0)


def test_a_citizens_filing_and_its_receipt_stay_on_the_primary_the_api_list_not(
    portal_env,
):
    outcome = _probe(portal_env, "request")

    receipt = outcome["receipt"]
    assert receipt["status_code"] == 200, receipt["errors"]
    assert "/appeal/sent/" in receipt["redirects"][-1]
    assert set(receipt["queries"]) == {"default"}
    # The same process sends a heavy page's reads to the replica.
    assert outcome["statistics"]["status_code"] == 200
    assert outcome["statistics"]["queries"].get("replica", 0) > 0
    # The API's list: the client's key checked on the primary, the page from the
    # replica, the call's log row written on the primary.
    api = outcome["api"]
    assert api["status_code"] == 200
    assert api["results"] >= 3
    assert api["queries"]["replica"] >= 1
    assert api["queries"]["default"] >= 2
    # /readyz says so, for information.
    assert outcome["readyz"]["replica"] == "in use"


def test_reads_fall_back_to_the_primary_when_the_replica_is_stopped(
    portal_env,
    replica_pair,  # noqa: F811
):
    stop_cluster(replica_pair.replica)
    try:
        outcome = _probe(portal_env, "report")
    finally:
        _restart(replica_pair)

    assert set(outcome["queries"]) == {"default"}
    assert outcome["status"] == "fallback: down"
    assert outcome["up"] == 0.0
    # One fallback per heavy read (the report, the open statistics), not per query.
    assert outcome["fallbacks"]["down"] == 2.0
    assert outcome["figures"]["report_written_total"] >= 3


def test_a_report_whose_replica_stops_midway_runs_again_on_the_primary(
    portal_env,
    replica_pair,  # noqa: F811
):
    stop = pg_ctl_command(replica_pair.replica, "-w", "-m", "fast", "stop")
    try:
        outcome = _probe(
            portal_env,
            "midway",
            PROBE_STOP=json.dumps(stop),
            # The process still holds the replica healthy when it has stopped.
            REPLICA_HEALTH_SECONDS="600",
        )
    finally:
        _restart(replica_pair)

    first, second = outcome["first"], outcome["second"]
    assert set(first["queries"]) == {"replica"}
    # The first query on the stopped replica failed; the report ran on the primary.
    assert second["queries"]["replica"] == 1
    assert second["queries"]["default"] > 1
    # The report, run again; then the open statistics, sent to the primary while
    # the failure is fresh.
    assert second["fallbacks"]["error"] == 2.0
    assert second["figures"] == first["figures"]


def test_reads_fall_back_while_the_replica_lags_beyond_the_bound(
    portal_env,
    replica_pair,  # noqa: F811
):
    bound = {"REPLICA_MAX_LAG_SECONDS": "1", "REPLICA_HEALTH_SECONDS": "0"}
    time.sleep(2)  # the primary idle for longer than the bound is no lag
    before = _probe(portal_env, "report", **bound)
    assert set(before["queries"]) == {"replica"}

    psql(replica_pair.replica, "SELECT pg_wal_replay_pause()")
    try:
        _probe(portal_env, "seed")  # three more appeals, on the primary only
        time.sleep(2)
        stale = psql(
            replica_pair.replica,
            "SELECT count(*) FROM appeals_appeal WHERE status <> 'submitted'",
            DATABASE,
        )
        lagging = _probe(portal_env, "report", **bound)
    finally:
        psql(replica_pair.replica, "SELECT pg_wal_replay_resume()")
    wait_replayed(replica_pair)
    after = _probe(portal_env, "report", **bound)

    assert set(lagging["queries"]) == {"default"}, lagging
    assert lagging["status"] == "fallback: lagging"
    assert lagging["fallbacks"]["lagging"] == 2.0
    # The primary's figures: the three new appeals, which the paused standby lacks.
    total = before["figures"]["report_written_total"]
    assert lagging["figures"]["report_written_total"] == total + 3
    assert int(stale) == total
    # Replayed again: back on the replica, with the same figures.
    assert set(after["queries"]) == {"replica"}
    assert after["figures"] == lagging["figures"]
