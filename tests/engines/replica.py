"""A PostgreSQL primary and its streaming replica, started in temporary folders on free
127.0.0.1 ports: `initdb` for the primary, `pg_basebackup -R` of it for the standby.

Not the machine's own PostgreSQL: its pg_hba.conf allows no replication connection,
and it is never reconfigured. The clusters run as the `postgres` OS user when this runs
as root (PostgreSQL refuses to run as root). `start_pair()` / `stop_pair()` are also
used by bench/replica.py; `replica_pair` is the tests' session fixture.
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


def _server_programs() -> Path:
    """PG_BIN, else the newest Debian PostgreSQL's programs (15 on this machine)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: (
            int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0
        ),
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _server_programs()
USER = "postgres"


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path

    def url(self, database: str) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}"


@dataclass
class ReplicaPair:
    root: Path
    primary: Cluster
    replica: Cluster

    def urls(self, database: str) -> tuple[str, str]:
        return self.primary.url(database), self.replica.url(database)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    """A PostgreSQL program's command line, run as the postgres OS user when we are
    root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", USER, "--", *command]
    return command


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        as_postgres(command), check=True, capture_output=True, text=True, **kwargs
    )


def pg_ctl_command(cluster: Cluster, *args: str) -> list[str]:
    return as_postgres(
        [str(BIN / "pg_ctl"), "-D", str(cluster.data), "-l", str(cluster.log), *args]
    )


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg_ctl(cluster: Cluster, *args: str) -> None:
    subprocess.run(
        pg_ctl_command(cluster, *args), check=True, capture_output=True, text=True
    )


def start_cluster(cluster: Cluster) -> None:
    # -k: the socket in the cluster's own folder, never the machine's.
    _pg_ctl(
        cluster, "-w", "-t", "60", "-o", f"-p {cluster.port} -k {cluster.data}", "start"
    )


def stop_cluster(cluster: Cluster, *, mode: str = "fast") -> None:
    """Stop a cluster; nothing when it is not running."""
    with contextlib.suppress(subprocess.CalledProcessError):
        _pg_ctl(cluster, "-w", "-m", mode, "stop")


def start_pair(root: Path | None = None) -> ReplicaPair:
    """initdb a primary, start it, pg_basebackup -R it into a standby, start that,
    and wait until the standby streams."""
    root = Path(root or tempfile.mkdtemp(prefix="pg-replica-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    _give_to_postgres(root)
    primary = Cluster(root / "primary", free_port(), root / "primary.log")
    replica = Cluster(root / "replica", free_port(), root / "replica.log")
    pair = ReplicaPair(root=root, primary=primary, replica=replica)
    try:
        _as_postgres(
            [
                str(BIN / "initdb"),
                "-D",
                str(primary.data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# tests/engines/replica.py\n"
                "listen_addresses = '127.0.0.1'\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "hot_standby = on\n"
                "fsync = off\n"  # a throwaway cluster: no crash safety needed
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "shared_buffers = 64MB\n"
                "max_connections = 60\n"
            )
        (primary.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        start_cluster(primary)
        _as_postgres(
            [
                str(BIN / "pg_basebackup"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-D",
                str(replica.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                USER,
            ]
        )
        start_cluster(replica)
        wait_streaming(pair)
    except BaseException:
        stop_pair(pair)
        raise
    return pair


def psql(cluster: Cluster, sql: str, database: str = "postgres") -> str:
    """One statement through psql, its output unaligned (PostgreSQL's own client,
    so this module needs no driver)."""
    return _as_postgres(
        [
            str(BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            USER,
            "-d",
            database,
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ]
    ).stdout.strip()


def wait_streaming(pair: ReplicaPair, timeout: float = 60.0) -> None:
    """Until the primary has a streaming standby and the standby has replayed all it
    received."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(subprocess.CalledProcessError):
            streaming = psql(
                pair.primary,
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            )
            caught_up = psql(
                pair.replica,
                "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()",
            )
            if streaming == "1" and caught_up == "t":
                return
        if time.monotonic() > deadline:
            raise RuntimeError(
                "the standby did not stream in time:\n"
                + pair.replica.log.read_text()[-2000:]
            )
        time.sleep(0.2)


def wait_replayed(pair: ReplicaPair, timeout: float = 60.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = psql(pair.primary, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while (
        psql(pair.replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        != "t"
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the standby did not replay in time")
        time.sleep(0.1)


def stop_pair(pair: ReplicaPair) -> None:
    """Stop both clusters at once (immediate: nothing in them is kept) and remove
    their folders."""
    for cluster in (pair.replica, pair.primary):
        if (cluster.data / "postmaster.pid").exists():
            stop_cluster(cluster, mode="immediate")
    shutil.rmtree(pair.root, ignore_errors=True)


@pytest.fixture(scope="session")
def replica_pair():
    """A running primary and streaming standby for the session; stopped and removed
    at the end."""
    if not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server programs in {BIN}")
    pair = start_pair()
    try:
        yield pair
    finally:
        stop_pair(pair)
