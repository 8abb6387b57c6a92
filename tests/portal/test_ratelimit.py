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
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    assert ratelimit.hit("submit", "client", limit=1, window=60) is True
    from agencies.models import Topic
    from appeals.models import Appeal
    from tests.appeals.test_public_views import _form_data

    topic = Topic.objects.create(code="roads", name_ky="Жолдор", name_en="Roads")
    response = client.post("/en/appeal/", _form_data(topic))
    assert response.status_code == 302
    assert Appeal.objects.count() == 1
