"""The portal's Redis cache: Django's, with one client object per connection pool, a
counter that takes one round trip (the rate limits), and no error when Redis is down.

Nothing the portal keeps in the cache is needed: a page whose cached part is missing
reads it from the database or computes it again. So while Redis is unreachable every
read is a miss and every write is dropped, here in the backend rather than around each
use (the calendar's edition mark, the topics' choices, the statistics' charts, and
whatever uses the cache next). One warning says when the outage starts, one line when
it ends; in between the cache is asked again only every RETRY_AFTER seconds, so a
page does not wait for a connection attempt per read. Counters have no value to make
up: `incr` and `count_in_window` raise CacheUnavailable, and the rate limits, their
only users, let the request through (portal.ratelimit).
"""

import logging
import threading
import time
from urllib.parse import urlsplit

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

# Seconds between attempts to reach a cache found down.
RETRY_AFTER = 5.0
# A cache on the local network answers in a millisecond or two; one that does not
# within these many seconds is treated as down (redis-py waits forever by default).
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0


class CacheUnavailable(Exception):
    """A counter could not be read or moved: the cache is down."""


_DOWN = object()  # what _degrading answers for a counter while Redis is down


class _Outage:
    """Whether one Redis is down, for every thread of the process (Django makes a
    cache object per thread)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.since: float | None = None  # monotonic time of the first failure
        self.retry_at = 0.0

    def skip(self) -> bool:
        """Down, and too soon to ask again."""
        return self.since is not None and time.monotonic() < self.retry_at

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self.retry_at = now + RETRY_AFTER
        if self.since is None:
            self.since = now
            logger.warning(
                "cache at %s unavailable, pages are served without it and rate "
                "limits are not enforced until it answers: %s: %s",
                self.where,
                type(exc).__name__,
                exc,
            )

    def answered(self) -> None:
        since = self.since
        if since is not None:
            self.since = None
            logger.info(
                "cache at %s answers again after %d s",
                self.where,
                time.monotonic() - since,
            )


_outages: dict[tuple[str, ...], _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(servers: list[str]) -> _Outage:
    key = tuple(servers)
    outage = _outages.get(key)
    if outage is None:
        with _outages_lock:
            outage = _outages.setdefault(key, _Outage(_where(servers)))
    return outage


def _where(servers: list[str]) -> str:
    """host:port of each server, without the password."""
    places = []
    for server in servers:
        parts = urlsplit(server)
        places.append(
            f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path
        )
    return ",".join(places)


class _ReusingClient(RedisCacheClient):
    """Django builds a new redis.Redis (and its table of response callbacks) for every
    cache operation, about as much CPU as the round trip itself; a client object is
    thread-safe and holds no connection, so one per pool is kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient
        self._options = {
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": READ_TIMEOUT,
            **self._options,
        }
        self._outage = _outage_of(self._servers)

    def _degrading(self, fallback, operation, *args, **kwargs):
        """operation(...), or `fallback` when Redis is down."""
        outage = self._outage
        if outage.skip():
            return fallback
        try:
            result = operation(*args, **kwargs)
        except redis.RedisError as exc:
            outage.failed(exc)
            return fallback
        outage.answered()
        return result

    def _counting(self, operation, *args, **kwargs):
        """operation(...), or CacheUnavailable when Redis is down."""
        result = self._degrading(_DOWN, operation, *args, **kwargs)
        if result is _DOWN:
            raise CacheUnavailable(self._outage.where)
        return result

    # Reads miss, writes are dropped (the rest of BaseCache's API goes through these).

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrading(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._degrading(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrading(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrading(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._degrading(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._degrading({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._degrading(False, super().has_key, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's answer: the keys that were not stored.
        return self._degrading(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._degrading(None, super().delete_many, keys, version)

    def clear(self):
        return self._degrading(False, super().clear)

    def incr(self, key, delta=1, version=None):
        return self._counting(super().incr, key, delta, version)

    def count_in_window(self, key: str, window: int) -> int:
        """Add one to the counter `key` and return it; the first count starts a
        window of `window` seconds after which the counter is gone. INCR and EXPIRE NX
        in one MULTI/EXEC: one round trip (add-then-incr took two or three)."""
        return self._counting(self._count_in_window, key, window)

    def _count_in_window(self, key: str, window: int) -> int:
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        with client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            count, _ = pipe.execute()
        return count
