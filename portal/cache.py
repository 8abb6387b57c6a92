"""The portal's Redis cache: Django's, with one client object per connection pool and
a counter that takes one round trip (the rate limits)."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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

    def count_in_window(self, key: str, window: int) -> int:
        """Add one to the counter `key` and return it; the first count starts a
        window of `window` seconds after which the counter is gone. INCR and EXPIRE NX
        in one MULTI/EXEC: one round trip (add-then-incr took two or three)."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        with client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            count, _ = pipe.execute()
        return count
