"""Fixed-window rate limits kept in the Django cache (Redis in production, so they hold
across web processes)."""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def client_id(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies that
    append to X-Forwarded-For, the address the outermost of them saw (entries a
    client wrote itself come before it and are ignored). Without this, every citizen
    behind the TLS proxy would share the proxy's address and its limits."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        chain = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        chain = [address.strip() for address in chain if address.strip()]
        if len(chain) >= count:
            return chain[-count]
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def hit(scope: str, subject: str, *, limit: int, window: int) -> bool:
    """Count one attempt; True while the subject stays within `limit` per `window` s.

    When the cache (Redis) is down the limit is not enforced: losing a citizen's
    appeal to a cache outage would be worse than letting a few extra through.
    """
    try:
        return _hit(scope, subject, limit=limit, window=window)
    except Exception as exc:  # the cache is down: fail open, loudly
        logger.warning("rate limit %s not enforced, cache unavailable: %r", scope, exc)
        return True


def _hit(scope: str, subject: str, *, limit: int, window: int) -> bool:
    key = _key(scope, subject)
    count_in_window = getattr(cache, "count_in_window", None)  # portal.cache
    if count_in_window is not None:
        return count_in_window(key, window) <= limit
    if cache.add(key, 1, timeout=window):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return True
    return count <= limit


def exceeded(scope: str, subject: str, *, limit: int) -> bool:
    """Whether the subject is already over its limit, without counting an attempt
    (False when the cache is down, like `hit`)."""
    try:
        return (cache.get(_key(scope, subject)) or 0) >= limit
    except Exception as exc:  # the cache is down: fail open, loudly
        logger.warning("rate limit %s not checked, cache unavailable: %r", scope, exc)
        return False
