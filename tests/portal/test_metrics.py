"""Prometheus at /metrics (only for the scraper) and the superusers' operations page."""

import datetime as dt
import re
import uuid

import pytest
import redis
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import routing
from appeals.intake import registration
from appeals.models import Appeal, Notification
from portal.models import WorkerHeartbeat
from tests.factories import AgencyFactory, staff_member
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


def _value(text: str, name: str, labels: str = "") -> float | None:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _register_and_route(agency: Agency) -> Appeal:
    clerk, controller = staff_member("clerk"), staff_member("controller")
    appeal, _ = registration.register_paper_appeal(
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="president_office",
        form="written",
        kind="complaint",
        applicant_name="Иванова Мария",
        applicant_email="maria@example.kg",
        text="Третий месяц не выплачивают пособие по уходу за ребёнком.",
        language="ru",
        received_at=timezone.now(),
        cover_letter_number="01-123",
        cover_letter_date=timezone.localdate(),
    )
    return routing.route_appeal(
        appeal_id=appeal.pk,
        actor=controller,
        lead=agency,
        co_executors=[],
        cover_note="Прошу рассмотреть.",
    )


def test_metrics_are_served_to_an_allowed_address(client):
    client.get("/healthz")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'view="healthz"' in text
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert "portal_notification_oldest_pending_age_seconds" in text


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.7"},
        # Through the proxy every address is the proxy's: the address proves nothing.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
    ],
)
def test_metrics_are_not_found_for_anyone_else(client, headers):
    assert client.get("/metrics", **headers).status_code == 404


def test_metrics_token_lets_the_scraper_in_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    forwarded = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "10.0.0.9"}
    good = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789", **forwarded
    )
    bad = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **forwarded)
    assert good.status_code == 200
    assert bad.status_code == 404


def test_outbox_gauges_show_the_oldest_pending_notification(client):
    Notification.objects.create(
        template="receipt",
        recipient="a@example.kg",
        language="ky",
        subject="s",
        body="b",
    )
    old = Notification.objects.create(
        template="receipt",
        recipient="b@example.kg",
        language="ky",
        subject="s",
        body="b",
    )
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=30)
    )
    Notification.objects.create(
        template="receipt",
        recipient="c@example.kg",
        language="ky",
        subject="s",
        body="b",
        state=Notification.State.FAILED,
    )
    text = client.get("/metrics").content.decode()
    age = _value(text, "portal_notification_oldest_pending_age_seconds")
    assert 1790 <= age <= 1900
    assert _value(text, "portal_notifications", '{state="pending"}') == 2
    assert _value(text, "portal_notifications", '{state="failed"}') == 1
    assert "example.kg" not in text


def test_overdue_appeals_are_counted_per_lead_agency(client):
    health = AgencyFactory(slug="min-health", code="MZ")
    labour = AgencyFactory(slug="min-labour", code="MT")
    late = [_register_and_route(health) for _ in range(2)]
    _register_and_route(health)  # on time
    labour_late = _register_and_route(labour)
    # Time passes: their due dates are now behind us.
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Appeal.objects.filter(pk__in=[a.pk for a in [*late, labour_late]]).update(
        due_on=yesterday
    )
    text = client.get("/metrics").content.decode()
    assert _value(text, "portal_overdue_appeals", '{agency="min-health"}') == 2
    assert _value(text, "portal_overdue_appeals", '{agency="min-labour"}') == 1


def test_queue_length_is_read_from_the_redis_broker(client, settings):
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"
    settings.METRICS_QUEUES = [queue]
    connection = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        connection.rpush(queue, "a", "b", "c")
        text = client.get("/metrics").content.decode()
    finally:
        connection.delete(queue)
        connection.close()
    assert _value(text, "portal_celery_queue_length", f'{{queue="{queue}"}}') == 3


def test_operations_page_shows_the_outbox_queues_and_workers(client, settings):
    failed = Notification.objects.create(
        template="answer",
        recipient="x@example.kg",
        language="ru",
        subject="s",
        body="b",
        state=Notification.State.FAILED,
        attempts=5,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    WorkerHeartbeat.objects.create(
        worker="celery@worker-1", seen_at=timezone.now() - dt.timedelta(minutes=20)
    )
    admin = get_user_model().objects.create_superuser(
        "ops-admin", "ops@example.kg", "a-long-test-password"
    )
    login_staff(client, admin)
    response = client.get("/en/admin/operations/")
    assert response.status_code == 200, response
    html = response.content.decode()
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in html
    assert f"#{failed.pk}" in html
    assert "celery@worker-1" in html and "silent for too long" in html
    assert 'id="queues"' in html


def test_operations_page_is_for_superusers_only(client):
    login_staff(client, staff_member("head", AgencyFactory()))
    response = client.get("/en/admin/operations/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
