import uuid

import pytest

from tests.helpers import using_postgres


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords and not using_postgres():
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _government_apparatus(request):
    """Transactional tests flush the tables, data migrations included: put back the
    Government Apparatus, the deadline rules, the consent and policy texts and the
    calendar's days off, as every real database has them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    if transactional or "live_server" in request.fixturenames:
        import importlib

        from django.apps import apps

        from agencies.defaults import ensure_government_apparatus
        from agencies.models import Agency

        request.getfixturevalue("transactional_db")
        ensure_government_apparatus(Agency)
        rules = importlib.import_module("appeals.migrations.0005_deadline_rules")
        rules.create_default_rules(apps, None)
        texts = "appeals.migrations.0022_consent_and_policy_texts"
        importlib.import_module(texts).create_texts(apps, None)
        days_off = "agencies.migrations.0006_calendar_2026_new_year"
        importlib.import_module(days_off).add_days_off(apps, None)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded files of a test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test sees an empty cache (rate limits!) without flushing the shared Redis,
    whose database also holds the Celery queues."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    # Playwright's sync API runs an event loop in this thread; the live server's ORM
    # calls from the test body are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from tests.helpers import CHROMIUM_ARGS, chromium_path, playwright_running

    with playwright_running() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def clock(monkeypatch):
    """Sets the moment the services see as now (they call timezone.now()):
    `clock(moment)`."""
    from django.utils import timezone

    def set_to(moment) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to
