"""The read replica: which reads may go to it (`heavy_reads`), whether it may be used
now (its health, checked at most every REPLICA_HEALTH_SECONDS per process), and the
database router that decides (installed only when DATABASE_REPLICA_URL is set).

A read goes to the replica only when all of these hold: the code reading is inside
`heavy_reads()` (the intake reports and their archive, open statistics, the
dashboards' figures, the API's lists, the journal's export); the primary's connection
is not inside a transaction (a read in a transaction must see its own writes); and the
replica answers as a standby whose replay is at most REPLICA_MAX_LAG_SECONDS behind.
Everything else, every write and every read that must see the request's own write (a
citizen's receipt, a clerk's page after an action), stays on the primary.

When the replica is down or lags, heavy reads fall back to the primary: the counter
`portal_replica_fallbacks_total` says how often, `portal_replica_up` and
`portal_replica_lag_seconds` say why, and one log line marks each change of state (not
one per query). A function decorated with `@heavy_reads()` whose query on the replica
fails half-way (the replica stopped, a query cancelled by a recovery conflict) runs
again on the primary: reads only, so running them twice is safe.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from prometheus_client import Counter, Gauge

logger = logging.getLogger(__name__)

DEFAULT = "default"
REPLICA = "replica"

# Lag as the standby sees it. While the WAL receiver streams and everything received
# is replayed, the standby is current (0), however old the last replayed transaction
# is: an idle primary sends nothing, and now() - pg_last_xact_replay_timestamp() would
# grow without any lag. Otherwise (WAL received but not yet replayed, or no receiver:
# the primary is gone or unreachable) the lag is the age of the last replayed
# transaction; NULL when the standby has replayed none since it started.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE
           WHEN NOT pg_is_in_recovery() THEN NULL
           WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
                AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
           ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
       END
"""

FALLBACKS = Counter(
    "portal_replica_fallbacks",
    "Heavy reads (a report, statistics, figures, an API list, an export) served by "
    "the primary because the read replica was down, lagging or failed a query",
    ["reason"],
)
UP = Gauge(
    "portal_replica_up",
    "1 while the read replica answers and lags within REPLICA_MAX_LAG_SECONDS (heavy "
    "reads go there), 0 while heavy reads fall back to the primary",
)
LAG = Gauge(
    "portal_replica_lag_seconds",
    "The read replica's replay lag at the last check (NaN: unknown or unreachable)",
)


@dataclass(frozen=True)
class ReplicaHealth:
    """The replica at one check: usable or not, and why not (reason: down, lagging,
    not_standby, error), in words for the operations page and the log."""

    usable: bool
    reason: str
    detail: str
    lag: float | None
    checked_at: float  # time.monotonic()


def configured() -> bool:
    return REPLICA in settings.DATABASES


# --- Health ---------------------------------------------------------------------------

_health: ReplicaHealth | None = None
_health_lock = threading.Lock()


def replica_health(*, fresh: bool = False) -> ReplicaHealth | None:
    """The replica's health, checked again when the last check is older than
    REPLICA_HEALTH_SECONDS (or `fresh`); None when no replica is configured. One
    thread checks; meanwhile the others go on with the last answer (or wait for this
    one when there is none yet)."""
    if not configured():
        return None
    known = _health
    if not fresh and _recent(known):
        return known
    if not _health_lock.acquire(blocking=fresh or known is None):
        return known  # another thread is checking: a connect may take seconds
    try:
        known = _health
        if not fresh and _recent(known):
            return known
        return _record(_check())
    finally:
        _health_lock.release()


def status() -> str:
    """One word for /readyz, for information (the portal is ready without a
    replica): not configured, in use, or fallback (down, lagging, not_standby,
    error)."""
    health = replica_health()
    if health is None:
        return "not configured"
    return "in use" if health.usable else f"fallback: {health.reason}"


def _recent(health: ReplicaHealth | None) -> bool:
    return (
        health is not None
        and time.monotonic() - health.checked_at < settings.REPLICA_HEALTH_SECONDS
    )


def _check() -> ReplicaHealth:
    now = time.monotonic()
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except Exception as exc:
        # Not only DatabaseError: whatever stops the query makes the replica unusable.
        with contextlib.suppress(Exception):
            connection.close()
        return ReplicaHealth(
            usable=False,
            reason="down",
            detail=f"read replica unreachable: {type(exc).__name__}: {_first_line(exc)}",
            lag=None,
            checked_at=now,
        )
    if not in_recovery:
        return ReplicaHealth(
            usable=False,
            reason="not_standby",
            detail="the read replica is not a standby (pg_is_in_recovery() is false): "
            "promoted, or DATABASE_REPLICA_URL names a primary",
            lag=None,
            checked_at=now,
        )
    bound = settings.REPLICA_MAX_LAG_SECONDS
    if lag is None:
        return ReplicaHealth(
            usable=False,
            reason="lagging",
            detail="the read replica has replayed nothing since it started",
            lag=None,
            checked_at=now,
        )
    lag = max(float(lag), 0.0)
    if lag > bound:
        return ReplicaHealth(
            usable=False,
            reason="lagging",
            detail=f"the read replica lags {lag:.1f} s; at most {bound:g} s allowed",
            lag=lag,
            checked_at=now,
        )
    return ReplicaHealth(usable=True, reason="", detail="", lag=lag, checked_at=now)


def _record(health: ReplicaHealth) -> ReplicaHealth:
    """Keep the new health, set the gauges, and log when the state changed."""
    global _health
    before = _health
    _health = health
    UP.set(1 if health.usable else 0)
    LAG.set(health.lag if health.lag is not None else float("nan"))
    if before is None or before.reason != health.reason:
        if health.usable:
            logger.info(
                "read replica in use for heavy reads (lag %.1f s)", health.lag or 0
            )
        else:
            logger.warning(
                "read replica not used, heavy reads fall back to the primary: %s",
                health.detail,
            )
    return health


def _replica_failed(exc: BaseException) -> None:
    """A query on the replica failed: use the primary until the next check."""
    with _health_lock:
        _record(
            ReplicaHealth(
                usable=False,
                reason="error",
                detail=f"a query on the read replica failed: {type(exc).__name__}: "
                f"{_first_line(exc)}",
                lag=None,
                checked_at=time.monotonic(),
            )
        )
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


# --- Which reads ----------------------------------------------------------------------


class _Scope:
    __slots__ = ("primary_only", "used_replica", "fell_back", "parent")

    def __init__(self, parent: _Scope | None, *, primary_only: bool = False) -> None:
        self.parent = parent
        self.primary_only = primary_only or bool(parent and parent.primary_only)
        self.used_replica = False
        self.fell_back = False


_scope: ContextVar[_Scope | None] = ContextVar("portal_heavy_reads", default=None)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class heavy_reads:  # lower case: used as a context manager and a decorator
    """Reads that may go to the replica: `with heavy_reads(): ...` or
    `@heavy_reads()` on a function that only reads. The decorated function runs again
    on the primary when a query on the replica failed (OperationalError or
    InterfaceError); the `with` form lets the error through, and the next scope uses
    the primary until the replica's health is checked again."""

    def __enter__(self) -> heavy_reads:
        self._token = _scope.set(_Scope(_scope.get()))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        scope = _scope.get()
        _scope.reset(self._token)
        _leave(scope, exc)
        return False

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            scope = _Scope(_scope.get())
            token = _scope.set(scope)
            failed = None
            try:
                return func(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if not scope.used_replica:
                    raise
                failed = exc
            finally:
                _scope.reset(token)
                _leave(scope, failed)
            logger.warning(
                "%s failed on the read replica, running it again on the primary: "
                "%s: %s",
                func.__qualname__,
                type(failed).__name__,
                _first_line(failed),
            )
            FALLBACKS.labels("error").inc()
            token = _scope.set(_Scope(_scope.get(), primary_only=True))
            try:
                return func(*args, **kwargs)
            finally:
                _scope.reset(token)

        return wrapper  # type: ignore[return-value]


def _leave(scope: _Scope | None, exc: BaseException | None) -> None:
    if scope is None:
        return
    if scope.parent is not None:
        scope.parent.used_replica |= scope.used_replica
    if isinstance(exc, OperationalError | InterfaceError) and scope.used_replica:
        _replica_failed(exc)


@contextlib.contextmanager
def on_primary() -> Iterator[None]:
    """Heavy reads inside run on the primary all the same (bench/replica.py times a
    report on both; a heavy path that must see a write it has just made)."""
    token = _scope.set(_Scope(_scope.get(), primary_only=True))
    try:
        yield
    finally:
        _scope.reset(token)


def heavy_reads_stream(rows: Iterable[T]) -> Iterator[T]:
    """`rows` read inside heavy_reads(), one step at a time: for a stream that queries
    as it goes, after the view has returned (the journal's CSV export)."""
    iterator = iter(rows)
    # One scope for the whole stream: one fallback counted, not one a step.
    scope = _Scope(None)
    while True:
        token = _scope.set(scope)
        try:
            row = next(iterator)
        except StopIteration:
            return
        except (OperationalError, InterfaceError) as exc:
            _leave(scope, exc)
            raise
        finally:
            _scope.reset(token)
        yield row


class ReplicaRouter:
    """DATABASE_ROUTERS when DATABASE_REPLICA_URL is set (portal/settings.py)."""

    def db_for_read(self, model, **hints) -> str:
        scope = _scope.get()
        if scope is None or scope.primary_only:
            return DEFAULT
        if connections[DEFAULT].in_atomic_block:
            return DEFAULT
        health = replica_health()
        if health is None:
            return DEFAULT
        if not health.usable:
            # Once per outermost scope (a report, a page), not per query.
            outermost = scope
            while outermost.parent is not None:
                outermost = outermost.parent
            if not outermost.fell_back:
                outermost.fell_back = True
                FALLBACKS.labels(health.reason).inc()
            return DEFAULT
        scope.used_replica = True
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica holds the primary's rows: an object read from either may be
        # related to one read from the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT
