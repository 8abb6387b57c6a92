"""Connection pooling: the portal behind a real PgBouncer in transaction mode, started by
the test run (tests/engines/pgbouncer.py), with the settings DATABASE_POOLER=pgbouncer
turns on. The portal's paths run in processes of their own (tests/engines/
pgbouncer_probe.py) in autocommit, as in production, on a database migrated through
PgBouncer.
"""

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.engines.pgbouncer import pgbouncer  # noqa: F401 - the session fixture

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "engines" / "pgbouncer_probe.py"


def _run(args: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and scripts
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _server_url(database: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{database}"


def _settings_of(env: dict) -> subprocess.CompletedProcess:
    """What a fresh portal process makes of its DATABASES under `env`."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({a: {'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False),"
        " 'options': d.get('OPTIONS', {})} for a, d in s.DATABASES.items()}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    return _run(
        ["-c", code],
        {**base, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1", **env},
        timeout=60,
    )


# --- the settings -------------------------------------------------------------------


def test_the_pooler_turns_off_server_side_cursors_and_prepared_statements():
    result = _settings_of(
        {
            "DATABASE_URL": "postgres://portal@pgbouncer:6432/portal",
            "DATABASE_REPLICA_URL": "postgres://portal@replica:5432/portal",
            "DATABASE_POOLER": "pgbouncer",
        }
    )
    assert result.returncode == 0, result.stderr
    databases = json.loads(result.stdout.strip().splitlines()[-1])
    # The replica's alias too: needed if a PgBouncer stands in front of it as well,
    # harmless when it is reached directly (as in docker-compose.scale.yml).
    assert set(databases) == {"default", "replica"}
    for alias in databases.values():
        assert alias["cursors"] is True
        assert alias["options"]["prepare_threshold"] is None


def test_without_the_pooler_server_side_cursors_stay_on():
    result = _settings_of({"DATABASE_URL": "postgres://portal@db:5432/portal"})
    assert result.returncode == 0, result.stderr
    databases = json.loads(result.stdout.strip().splitlines()[-1])
    assert databases["default"]["cursors"] is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "postgres://p@db/p", "DATABASE_POOLER": "pgpool"},
            "DATABASE_POOLER must be empty or 'pgbouncer'",
        ),
        (
            {"DATABASE_URL": "sqlite:///x.sqlite3", "DATABASE_POOLER": "pgbouncer"},
            "DATABASE_POOLER=pgbouncer needs PostgreSQL",
        ),
    ],
)
def test_a_pooler_setting_that_cannot_work_stops_the_start(env, message):
    result = _settings_of(env)
    assert result.returncode != 0
    assert message in result.stderr


# --- no session-level state in the portal's SQL -----------------------------------

# What outlives a transaction on its server connection: behind PgBouncer in transaction
# mode it would leak to whichever client gets that connection next, or be missing
# where the same client's next transaction runs.
SESSION_STATE = {
    "SET without LOCAL": re.compile(
        r"""(?i)(?:^|["'(])\s*SET\s+(?:SESSION\s+)?(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)"""
        r"""[\w.]+\s*(?:=|\bTO\b)"""
    ),
    "RESET": re.compile(r"""(?i)(?:^|["'(])\s*RESET\s+\w+"""),
    "session advisory lock": re.compile(r"(?i)pg_(?:try_)?advisory_lock\w*\s*\("),
    "LISTEN": re.compile(r"""(?i)(?:^|["'(])\s*(?:UN)?LISTEN\s+\w+"""),
    "temporary table": re.compile(
        r"(?i)CREATE\s+(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\s+TABLE"
        r"""(?![^;"']*ON\s+COMMIT\s+DROP)"""
    ),
    "set_config for the session": re.compile(
        r"(?i)set_config\([^)]*,\s*(?:false|%s)\s*\)"
    ),
    "cursor WITH HOLD": re.compile(r"(?i)WITH\s+HOLD"),
    "named prepared statement": re.compile(
        r"""(?i)(?:^|["'(])\s*PREPARE\s+\w+|\bprepare\s*=\s*True"""
    ),
}


def _session_state(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            found += [
                f"{path.relative_to(ROOT)}:{number}: {name}: {line.strip()}"
                for name, pattern in SESSION_STATE.items()
                if pattern.search(line)
            ]
    return found


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ('cursor.execute("SET statement_timeout = 1000")', True),
        ('cursor.execute("SET pg_trgm.similarity_threshold TO 0.4")', True),
        ("cursor.execute(\"SET SESSION work_mem = '64MB'\")", True),
        ('cursor.execute("RESET work_mem")', True),
        ('cursor.execute("SELECT pg_advisory_lock(%s)", [key])', True),
        ("\"SELECT set_config('statement_timeout', %s, false)\"", True),
        ('"CREATE TEMP TABLE staged (id int)"', True),
        ('"DECLARE c CURSOR WITH HOLD FOR SELECT 1"', True),
        ('cursor.execute("LISTEN outbox")', True),
        ("cursor.execute(\"SET LOCAL work_mem = '64MB'\")", False),
        ("\"SELECT set_config('statement_timeout', %s, true)\"", False),
        ('cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])', False),
        ('"CREATE TEMP TABLE staged (id int) ON COMMIT DROP"', False),
        ('"UPDATE appeals_appeal SET status = %s WHERE id = %s"', False),
        ('cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")', False),
    ],
)
def test_the_scan_for_session_state_tells_session_from_transaction(line, flagged):
    assert any(p.search(line) for p in SESSION_STATE.values()) is flagged


def test_the_portal_keeps_no_session_level_state_on_its_connections():
    found = []
    for package in ("portal", "agencies", "appeals", "reports"):
        found += _session_state(ROOT / package)
    assert not found, "\n".join(found)


def test_the_scan_finds_the_session_settings_of_bench_which_runs_without_pooler():
    # bench/ connects to PostgreSQL directly (README: never through PgBouncer).
    found = _session_state(ROOT / "bench")
    assert any("SET without LOCAL" in line for line in found), found
    assert any("temporary table" in line for line in found), found


# --- through a real PgBouncer -------------------------------------------------------


@pytest.fixture(scope="module")
def through_pgbouncer(pgbouncer):  # noqa: F811
    """A fresh database, migrated through PgBouncer; the environment of a portal
    process that uses it through PgBouncer with the pooler's settings."""
    import psycopg  # deferred: only these tests talk to the server directly

    database = f"{settings.DATABASES['default']['NAME']}_pgbouncer"[:63]
    direct = _server_url("postgres")
    with psycopg.connect(direct, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": pgbouncer.url(database),
        "DATABASE_POOLER": "pgbouncer",
        "PGBOUNCER_PORT": str(pgbouncer.port),
        "DIRECT_DATABASE_URL": direct,
        "CELERY_TASK_ALWAYS_EAGER": "1",
        # A cache of its own in the shared Redis: no rate limit counted by another run
        # (or test) applies; twelve look-ups of one appeal from one address are not
        # what the limits are for.
        "CACHE_KEY_PREFIX": f"pgbouncer-{uuid.uuid4().hex[:12]}",
        "RATE_SUBMIT_PER_HOUR": "1000",
        "RATE_TRACK_PER_NUMBER": "1000",
        "RATE_TRACK_PER_CLIENT": "1000",
    }
    try:
        # Migrations too run through PgBouncer: DDL in transactions, and the
        # non-atomic ones (CREATE INDEX CONCURRENTLY) one statement at a time.
        migrate = _run(["manage.py", "migrate", "--noinput"], env)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        yield env, database
    finally:
        with psycopg.connect(direct, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _transactions(pgbouncer, database: str) -> int:  # noqa: F811
    stats = [s for s in pgbouncer.admin("SHOW STATS") if s["database"] == database]
    return int(stats[0]["total_xact_count"]) if stats else 0


@pytest.fixture(scope="module")
def paths(through_pgbouncer, pgbouncer):  # noqa: F811
    env, database = through_pgbouncer
    before = _transactions(pgbouncer, database)
    result = _run([str(PROBE), "paths"], env)
    assert result.returncode == 0, result.stderr[-5000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    facts["pooled_transactions"] = _transactions(pgbouncer, database) - before
    return facts


@pytest.mark.postgres
@pytest.mark.slow
def test_the_portal_runs_with_the_pooler_settings_through_pgbouncer(paths, pgbouncer):  # noqa: F811
    assert paths["settings"] == {
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "prepare_threshold": None,
        "port": pgbouncer.port,
    }
    # PgBouncer itself counted the portal's transactions, in transaction mode.
    assert paths["pooled_transactions"] > 100
    assert paths["concurrent"]["pool_mode"] == "transaction"


@pytest.mark.postgres
@pytest.mark.slow
def test_a_citizen_files_and_tracks_through_pgbouncer(paths):
    assert paths["filing"] == {
        "refused": 400,  # the name was missing: the file stays staged
        "sent": 302,
        "attachments": 1,
        "status_page": 200,  # the prepared status-page queries
    }


@pytest.mark.postgres
@pytest.mark.slow
def test_iterator_reads_and_exports_stream_through_pgbouncer(paths):
    # The cleanup reads with .iterator() and deletes as it goes.
    assert paths["purge_stale_uploads"] == {"staged": 1, "removed": 1, "left": 0}
    # 25 letters in chunks of 10: every row, each chunk a query of its own.
    assert paths["journal_export"] == {"status": 200, "rows": 25}
    assert paths["journal_page"] == 200
    assert paths["reminders"] == 0  # read with .iterator(); nothing due today
    assert paths["report"] == {"written_total": 25}


@pytest.mark.postgres
@pytest.mark.slow
def test_many_clients_share_the_few_server_connections_of_the_pool(paths, pgbouncer):  # noqa: F811
    concurrent = paths["concurrent"]
    assert concurrent["statuses"] == [200]
    # Twelve client connections open at once, served by at most the pool's two.
    assert concurrent["bouncer_clients"] >= concurrent["threads"] == 12
    assert 1 <= concurrent["bouncer_servers"] <= pgbouncer.pool_size
    assert 1 <= concurrent["server_backends"] <= pgbouncer.pool_size


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.celery_worker
def test_a_celery_worker_behind_pgbouncer_sends_the_receipts(
    through_pgbouncer,
    pgbouncer,  # noqa: F811
    tmp_path,
):
    from tests.helpers import celery_worker

    env, database = through_pgbouncer
    mail = tmp_path / "mail"
    queue = f"pgbouncer-{uuid.uuid4().hex[:12]}"
    # The worker reaches the database only through PgBouncer. (Celery closes its
    # connection after each task: to PgBouncer a new one costs no server process.)
    worker_env = {
        key: env[key] for key in ("DATABASE_URL", "DATABASE_POOLER", "CACHE_KEY_PREFIX")
    }
    assert worker_env["DATABASE_URL"] == pgbouncer.url(database)
    worker_env |= {
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": f"filemail://{mail}",
    }
    with celery_worker(queue=queue, extra_env=worker_env):
        result = _run(
            [str(PROBE), "worker"],
            {
                **env,
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "CELERY_TASK_DEFAULT_QUEUE": queue,
            },
        )
    assert result.returncode == 0, result.stderr[-5000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["states"] == ["sent"] * 3, outcome
    text = "".join(p.read_text(encoding="utf-8") for p in mail.glob("*.log"))
    assert all(number in text for number in outcome["numbers"])


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("pooler", ["", "pgbouncer"])
def test_iterator_across_transactions_needs_the_pooler_settings(
    through_pgbouncer, pooler
):
    env, _database = through_pgbouncer
    result = _run([str(PROBE), "held-cursor"], {**env, "DATABASE_POOLER": pooler})
    assert result.returncode == 0, result.stderr[-5000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if pooler:
        assert outcome["ok"], outcome
        assert outcome["rows"] == outcome["expected_rows"]
    else:
        # A server-side cursor WITH HOLD lives on one server connection; with that
        # one taken by another client, the next FETCH lands where it does not exist.
        assert not outcome["ok"]
        assert "InvalidCursorName" in outcome["error"], outcome
        assert "does not exist" in outcome["error"]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_session_setting_leaks_to_the_next_client_of_the_server_connection(
    through_pgbouncer,
    pgbouncer,  # noqa: F811
):
    """Why the scan above matters: one client's SET outlives its transaction on the
    server connection, and the next client served by that connection inherits it."""
    import psycopg  # deferred: only these tests talk to PgBouncer directly

    _env, database = through_pgbouncer
    url = pgbouncer.url(database)
    with psycopg.connect(url, autocommit=True) as first:
        first.execute("SET statement_timeout = 1234")
        backend = first.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(url, autocommit=True) as second:
        # The same server connection (PgBouncer reuses the last one released).
        assert second.execute("SELECT pg_backend_pid()").fetchone()[0] == backend
        assert second.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
        second.execute("RESET statement_timeout")
