"""Rate limits count in the cache, and a cache outage never costs a citizen's appeal."""

import socket

import pytest

from portal import ratelimit


def test_attempts_beyond_the_limit_are_refused():
    results = [ratelimit.hit("test", "client-1", limit=3, window=60) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert ratelimit.hit("test", "client-2", limit=3, window=60)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_a_submission_is_saved_when_the_cache_is_down(settings, client):
    settings.CACHES = {
        **settings.CACHES,  # the template fragments' own cache stays
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        },
    }
    assert ratelimit.hit("submit", "client", limit=1, window=60) is True
    from agencies.models import Topic
    from appeals.models import Appeal
    from tests.appeals.intake.test_public_views import _form_data

    topic = Topic.objects.create(code="roads", name_ky="Жолдор", name_en="Roads")
    response = client.post("/en/appeal/", _form_data(topic))
    assert response.status_code == 302
    assert Appeal.objects.count() == 1


def _redis_cache():
    from django.core.cache import cache

    if not hasattr(cache, "count_in_window"):
        pytest.skip("needs the portal's Redis cache (REDIS_URL)")
    return cache


def test_the_window_starts_at_the_first_attempt_and_later_ones_do_not_extend_it():
    cache = _redis_cache()
    assert ratelimit.hit("test", "window", limit=5, window=100)
    key = cache.make_and_validate_key(ratelimit._key("test", "window"))
    client = cache._cache.get_client(write=True)
    assert 90 < client.ttl(key) <= 100
    client.expire(key, 40)  # as if a minute had passed
    assert ratelimit.hit("test", "window", limit=5, window=100)
    assert 0 < client.ttl(key) <= 40
    # The count reads back through the cache, as `exceeded` reads it.
    assert cache.get(ratelimit._key("test", "window")) == 2
    assert not ratelimit.exceeded("test", "window", limit=3)
    assert ratelimit.exceeded("test", "window", limit=2)


def test_the_cache_keeps_one_redis_client_per_connection_pool():
    cache = _redis_cache()
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
