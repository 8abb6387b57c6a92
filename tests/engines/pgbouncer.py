"""PgBouncer in transaction mode (Debian's /usr/sbin/pgbouncer), started by the test run
in a temporary folder on a free 127.0.0.1 port, in front of the test PostgreSQL server.

Every database name is passed through (`* = host=... port=...`) with a small pool per
database and user, so a test can see more client connections served than the server
connections PgBouncer opens. The admin console (database `pgbouncer`) answers SHOW
POOLS / CLIENTS / SERVERS / STATS for the tests. PgBouncer refuses to run as root: as
root it is started with `-u postgres`. `pgbouncer` is the tests' session fixture.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PGBOUNCER = os.environ.get("PGBOUNCER_BIN", "/usr/sbin/pgbouncer")
RUN_AS = "postgres"
# Server connections per (database, user): far fewer than the clients the tests open.
POOL_SIZE = 2


@dataclass
class Bouncer:
    root: Path
    port: int
    process: subprocess.Popen
    user: str
    pool_size: int

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self, command: str) -> list[dict]:
        """A SHOW command on the admin console, as dicts (simple query protocol: the
        console speaks no other)."""
        import psycopg  # deferred: only the tests that start PgBouncer need it here

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            dbname="pgbouncer",
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            connect_timeout=5,
        ) as conn:
            cursor = conn.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def available() -> bool:
    return Path(PGBOUNCER).exists()


def _config(
    root: Path,
    *,
    port: int,
    server: str,
    user: str,
    pool_size: int,
) -> str:
    return f"""\
;; tests/engines/pgbouncer.py: a throwaway PgBouncer in transaction mode
[databases]
* = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
logfile = {root / "pgbouncer.log"}
pidfile = {root / "pgbouncer.pid"}
auth_type = trust
auth_file = {root / "userlist.txt"}
admin_users = {user}
stats_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
max_db_connections = {pool_size}
server_round_robin = 0
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
"""


def start_pgbouncer(
    *,
    server_host: str = "127.0.0.1",
    server_port: int = 5432,
    user: str = "postgres",
    password: str = "",
    pool_size: int = POOL_SIZE,
) -> Bouncer:
    """Start PgBouncer and wait until its admin console answers."""
    root = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    root.chmod(0o755)
    port = free_port()
    (root / "pgbouncer.ini").write_text(
        _config(
            root,
            port=port,
            server=f"host={server_host} port={server_port}"
            + (f" password={password}" if password else ""),
            user=user,
            pool_size=pool_size,
        )
    )
    # trust still wants the user listed in the auth file.
    (root / "userlist.txt").write_text(f'"{user}" ""\n')
    command = [PGBOUNCER]
    if os.geteuid() == 0:
        entry = pwd.getpwnam(RUN_AS)
        for path in (root, *root.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        command += ["-u", RUN_AS]  # PgBouncer refuses to run as root
    process = subprocess.Popen(  # noqa: S603 - a fixed program, our own arguments
        [*command, str(root / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bouncer = Bouncer(root, port, process, user, pool_size)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            log = bouncer.log()
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"pgbouncer exited at start:\n{log}")
        try:
            bouncer.admin("SHOW VERSION")
            return bouncer
        except Exception:
            if time.monotonic() > deadline:
                stop_pgbouncer(bouncer)
                raise
            time.sleep(0.1)


def stop_pgbouncer(bouncer: Bouncer) -> None:
    """SIGTERM (immediate shutdown: the tests are done with it), then the folder."""
    if bouncer.process.poll() is None:
        bouncer.process.terminate()
        try:
            bouncer.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bouncer.process.kill()
            bouncer.process.wait()
    with contextlib.suppress(OSError):
        shutil.rmtree(bouncer.root)


@pytest.fixture(scope="session")
def pgbouncer():
    """PgBouncer in transaction mode in front of the test run's PostgreSQL server."""
    from django.conf import settings

    if not available():
        pytest.skip(
            f"no {PGBOUNCER}: apt-get install pgbouncer (scripts/system-deps.sh test)"
        )
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        pytest.skip(
            "PgBouncer pools PostgreSQL connections: DATABASE_URL is not PostgreSQL"
        )
    bouncer = start_pgbouncer(
        server_host=db.get("HOST") or "127.0.0.1",
        server_port=int(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or "",
    )
    try:
        yield bouncer
    finally:
        stop_pgbouncer(bouncer)
