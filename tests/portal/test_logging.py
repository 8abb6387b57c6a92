"""Logs: JSON lines with a request id that follows a request into its Celery tasks,
and no personal data (a citizen's name, e-mail and phone never reach them)."""

import io
import json
import logging
import uuid

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from agencies.models import Topic
from appeals.models import Appeal, Notification
from portal.celery import app as celery_app
from portal.logging import (
    PersonalDataFilter,
    RequestIdFilter,
    request_id_var,
    scrub,
)
from tests.helpers import ROOT, celery_worker, wait_for

NAME = "Жумабеков Нурлан"
EMAIL = "nurlan.zh@example.kg"
PHONE = "+996 700 987 654"


def _form_data(topic) -> dict:
    return {
        "submission_key": str(uuid.uuid4()),
        "addressee": "",
        "kind": "complaint",
        "topic": topic.code,
        "text": "Мектептин чатыры агып жатат, балдар суук бөлмөдө окушат.",
        "applicant_name": NAME,
        "applicant_address": "",
        "applicant_phone": PHONE,
        "applicant_email": EMAIL,
        "is_collective": "0",
        "signatories": "",
        "language": "ky",
        "consent": "on",
        "website": "",
    }


def _topic() -> Topic:
    return Topic.objects.create(
        code="schools", name_ky="Мектептер", name_ru="Школы", name_en="Schools"
    )


@pytest.fixture
def console_output():
    """What the configured console handler writes, as JSON lines, at the configured
    level: the real handler with its filters, its stream swapped for a buffer."""
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
    )
    json_config = settings.LOGGING["formatters"]["json"]
    buffer = io.StringIO()
    old_stream, old_formatter = handler.stream, handler.formatter
    handler.setStream(buffer)
    handler.setFormatter(
        JsonFormatter(json_config["format"], rename_fields=json_config["rename_fields"])
    )
    try:
        yield buffer
    finally:
        handler.setStream(old_stream)
        handler.setFormatter(old_formatter)


def test_console_handler_adds_the_request_id_and_scrubs_personal_data():
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
    )
    kinds = {type(f) for f in handler.filters}
    assert {RequestIdFilter, PersonalDataFilter} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "mail to bakyt.asanov@example.kg failed",
        "SMS to +996 555 123 456",
        "SMS to +996 555 12****",
        "call 0555-12-34-56 back",
        "number 996555123456 unknown",
    ],
)
def test_scrub_removes_emails_and_phone_numbers(text):
    scrubbed = scrub(text)
    assert "@example" not in scrubbed
    assert "555" not in scrubbed
    assert "[email]" in scrubbed or "[phone]" in scrubbed


@pytest.mark.parametrize(
    "text",
    ["appeal GA-2026-000123 registered", "due 2026-11-23 15:00", "took 1234567 ms"],
)
def test_scrub_leaves_registration_numbers_dates_and_figures(text):
    assert scrub(text) == text


def test_log_lines_are_json_with_the_request_id_and_scrubbed(console_output):
    token = request_id_var.set("req-0123456789")
    try:
        logging.getLogger("appeals.test").warning(
            "could not send to %s (%s)", EMAIL, PHONE
        )
        try:
            raise ValueError(f"bad address {EMAIL}")
        except ValueError:
            logging.getLogger("appeals.test").exception("delivery failed")
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in console_output.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "could not send to [email] ([phone])",
        "delivery failed",
    ]
    assert {line["request_id"] for line in lines} == {"req-0123456789"}
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "appeals.test"
    assert "ValueError: bad address [email]" in lines[1]["exc_info"]
    assert EMAIL not in console_output.getvalue()


@pytest.mark.django_db
def test_a_submission_leaves_no_personal_data_in_the_logs(
    client, console_output, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = "appeals.notifications.sms.LoggingBackend"
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/ky/appeal/",
                _form_data(_topic()),
                headers={"X-Request-ID": "req-submission-1"},
            )
    finally:
        celery_app.conf.task_always_eager = False
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-submission-1"
    assert Notification.objects.filter(state=Notification.State.SENT).exists()
    output = console_output.getvalue()
    for secret in (NAME, "Жумабеков", EMAIL, "987 654", "987654"):
        assert secret not in output


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_request_id_follows_the_request_into_the_task_a_real_worker_runs(
    client, tmp_path
):
    request_id = f"req-{uuid.uuid4().hex[:16]}"
    topic = _topic()
    env = {"LOG_FORMAT": "json", "EMAIL_URL": f"filemail://{tmp_path / 'mail'}"}
    with celery_worker(extra_env=env) as queue:
        celery_app.conf.task_default_queue = queue
        try:
            response = client.post(
                "/en/appeal/", _form_data(topic), headers={"X-Request-ID": request_id}
            )
        finally:
            celery_app.conf.task_default_queue = "celery"
        assert response.status_code == 302
        appeal = Appeal.objects.get()
        sent = wait_for(
            lambda: Notification.objects.filter(
                appeal=appeal, state=Notification.State.SENT
            ).exists(),
            timeout=60,
        )
        log_path = ROOT / "var" / f"worker-{queue}.log"
        # The worker writes its "succeeded" line right after the row is committed.
        wait_for(lambda: "succeeded" in log_path.read_text(encoding="utf-8"))
    assert sent
    text = log_path.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    task_lines = [
        r
        for r in records
        if "appeals.tasks.drain_notifications" in r["message"]
        and "succeeded" in r["message"]
    ]
    assert task_lines, text[-3000:]
    assert {r["request_id"] for r in task_lines} == {request_id}
    for secret in (NAME, EMAIL, "987 654"):
        assert secret not in text


@pytest.mark.django_db
def test_django_request_lines_carry_the_request_id_of_their_request(
    client, console_output
):
    response = client.get("/en/no-such-page/", headers={"X-Request-ID": "req-404-0001"})
    assert response.status_code == 404
    lines = [json.loads(line) for line in console_output.getvalue().splitlines()]
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found and not_found[0]["request_id"] == "req-404-0001"
