"""The operations page and the error page in Chromium (screenshots in var/screenshots)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from appeals.models import Notification
from portal.models import WorkerHeartbeat
from tests.helpers import SCREENSHOTS, browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

PASSWORD = "a-long-test-password"


def test_superuser_reads_the_outbox_and_workers_on_the_operations_page(
    live_server, browser
):
    get_user_model().objects.create_superuser("ops-admin", "ops@example.kg", PASSWORD)
    for state, error in (
        ("failed", "SMTPRecipientsRefused: 550 mailbox unavailable"),
        ("pending", ""),
        ("sent", ""),
    ):
        Notification.objects.create(
            template="answered",
            recipient="someone@example.kg",
            language="ru",
            subject="s",
            body="b",
            state=state,
            attempts=5 if error else 0,
            last_error=error,
        )
    WorkerHeartbeat.objects.create(worker="celery@worker-1", seen_at=timezone.now())
    WorkerHeartbeat.objects.create(
        worker="celery@worker-2", seen_at=timezone.now() - dt.timedelta(minutes=12)
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live_server.url, "ops-admin", PASSWORD, lang="en")
    page.goto(f"{live_server.url}/en/admin/")
    page.click("text=Operations: outbox, queues and workers")
    page.wait_for_url("**/en/admin/operations/")
    assert page.locator("#outbox td").first.inner_text() == "1"
    assert "550 mailbox unavailable" in page.locator("#failures").inner_text()
    workers = page.locator("#workers").inner_text()
    assert "celery@worker-2" in workers and "silent for too long" in workers
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ops-operations-page.png"), full_page=True)


def test_error_page_in_the_browser_shows_the_request_id(live_server, browser, settings):
    settings.ROOT_URLCONF = "tests.portal.test_errors"
    page = browser.new_page(viewport={"width": 1024, "height": 600})
    page.set_extra_http_headers({"X-Request-ID": "req-browser-0042"})
    response = page.goto(f"{live_server.url}/ru/boom/")
    assert response.status == 500
    assert page.locator("#request-id").inner_text() == "req-browser-0042"
    assert page.locator("html").get_attribute("lang") == "ru"
    page.screenshot(path=str(SCREENSHOTS / "ops-500-ru.png"), full_page=True)
