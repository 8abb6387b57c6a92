"""The drain of the outbox: notices written on commit ring for one task, which sends
every due e-mail and SMS notice in batches through one mail connection."""

import datetime as dt
import re
import time
import uuid
from contextlib import contextmanager

import pytest
from django.utils import timezone

from appeals.models import Notification
from appeals.notifications import outbox as notifications
from appeals.notifications.outbox import drain_notifications
from portal.celery import app as celery_app
from tests.factories import portal_submission
from tests.helpers import ROOT, celery_worker, free_port, wait_for

pytestmark = pytest.mark.django_db


def _notice(n: int, **fields) -> Notification:
    return Notification.objects.create(
        **{
            "template": "reminder",
            "language": "ky",
            "channel": Notification.Channel.EMAIL,
            "recipient": f"executor{n}@example.kg",
            "subject": f"Эскертүү {n}",
            "body": "Мөөнөт жакындап калды.",
            **fields,
        }
    )


def _submit(n: int = 0):
    return portal_submission(applicant_email=f"bakyt{n}@example.kg")


@contextmanager
def own_queue():
    """The test process's task messages go to a queue of this test's own, whose
    messages the test counts on the configured broker and drops afterwards."""
    queue = f"test-drain-{uuid.uuid4().hex[:12]}"
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = "celery"
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def _waiting(queue: str) -> int:
    with celery_app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True)[1]


def test_drain_sends_due_email_and_sms_notices_and_leaves_the_rest(mailoutbox):
    emails = [_notice(n) for n in range(3)]
    sms = _notice(
        3, channel=Notification.Channel.SMS, recipient="+996555123456", body="Кыска"
    )
    later = _notice(4, next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    done = _notice(5, state=Notification.State.SENT, attempts=1)
    failed = _notice(6, state=Notification.State.FAILED, attempts=12)

    assert notifications.drain() == 4

    assert sorted(m.to[0] for m in mailoutbox) == [n.recipient for n in emails]
    for notification in [*emails, sms]:
        notification.refresh_from_db()
        assert notification.state == Notification.State.SENT
        assert notification.attempts == 1
        assert notification.sent_at is not None
        assert notification.updated_at >= notification.sent_at
    for notification, state in (
        (later, Notification.State.PENDING),
        (done, Notification.State.SENT),
        (failed, Notification.State.FAILED),
    ):
        notification.refresh_from_db()
        assert (notification.state, notification.attempts) == (
            state,
            {"pending": 0, "sent": 1, "failed": 12}[state],
        )
    assert notifications.drain() == 0  # nothing is sent twice
    assert len(mailoutbox) == 3


def test_drain_leaves_callbacks_to_their_ordered_delivery(mailoutbox):
    from agencies.defaults import ensure_government_apparatus
    from agencies.models import Agency
    from appeals.api.clients import create_api_client

    ensure_government_apparatus(Agency)
    client = create_api_client(
        name="Tunduk",
        agency=Agency.objects.get(slug="gov-apparatus"),
        scopes=[],
        callback_url="https://127.0.0.1:9/hook",
    ).client
    callback = _notice(
        0,
        channel=Notification.Channel.CALLBACK,
        recipient=client.callback_url,
        api_client=client,
    )
    _notice(1)
    assert notifications.drain() == 1
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Notification.State.PENDING, 0)


def test_mail_server_down_records_each_email_once_and_still_sends_the_sms(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody
    settings.EMAIL_TIMEOUT = 2
    emails = [_notice(n) for n in range(2)]
    sms = _notice(
        2, channel=Notification.Channel.SMS, recipient="+996555123456", body="Кыска"
    )
    before = timezone.now()

    assert notifications.drain() == 1

    for notification in emails:
        notification.refresh_from_db()
        assert notification.state == Notification.State.PENDING
        assert notification.attempts == 1
        assert "Connection refused" in notification.last_error
        assert notification.next_attempt_at >= before + notifications.backoff(1)
    sms.refresh_from_db()
    assert sms.state == Notification.State.SENT
    assert notifications.drain() == 0  # not due again before the backoff


def test_a_backlog_larger_than_one_drain_goes_on_in_another(monkeypatch, mailoutbox):
    monkeypatch.setattr(notifications, "DRAIN_BATCH", 3)
    monkeypatch.setattr(notifications, "DRAIN_MAX_BATCHES", 2)
    rows = [_notice(n) for n in range(8)]
    with own_queue() as queue:
        assert notifications.drain() == 6
        assert _waiting(queue) == 1  # the rest is rung for
    assert len(mailoutbox) == 6
    assert Notification.objects.filter(state=Notification.State.PENDING).count() == 2
    assert notifications.drain() == 2
    assert {m.to[0] for m in mailoutbox} == {n.recipient for n in rows}


@pytest.mark.django_db(transaction=True)
def test_notices_committed_within_the_window_ring_once():
    with own_queue() as queue:
        started = time.monotonic()
        for n in range(3):
            _submit(n)
        assert time.monotonic() - started < notifications.DRAIN_WINDOW
        assert _waiting(queue) == 1
        # Once the window has closed, the next notice rings again.
        time.sleep(notifications.DRAIN_WINDOW)
        _submit(3)
        assert _waiting(queue) == 2


@pytest.mark.django_db(transaction=True)
def test_a_ring_that_did_not_reach_the_broker_is_tried_again_by_the_next_notice():
    from tests.appeals.test_faults import celery_publishing_to

    with own_queue() as queue:
        with celery_publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
            lost = _submit(0)  # the broker is down: the warning, nothing else
        _submit(1)
        assert _waiting(queue) == 1
    # The first receipt waits for the drain (or the sweep), not lost.
    assert Notification.objects.get(appeal=lost.appeal).state == "pending"


def test_eager_tasks_send_each_notice_at_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    # Eager tasks ignore countdowns: a drain rung in the window would run before
    # the window's later notices; so each is sent on its own.
    celery_app.conf.task_always_eager = True
    try:
        for n in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                _submit(n)
    finally:
        celery_app.conf.task_always_eager = False
    assert [m.to[0] for m in mailoutbox] == ["bakyt0@example.kg", "bakyt1@example.kg"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_a_real_worker_sends_the_receipts_of_a_busy_second_in_one_drain(tmp_path):
    mail_dir = tmp_path / "mail"
    with celery_worker(extra_env={"EMAIL_URL": f"filemail://{mail_dir}"}) as queue:
        celery_app.conf.task_default_queue = queue
        try:
            appeals = [_submit(n).appeal for n in range(5)]
        finally:
            celery_app.conf.task_default_queue = "celery"
        sent = wait_for(
            lambda: (
                Notification.objects.filter(
                    appeal__in=appeals, state=Notification.State.SENT
                ).count()
                == 5
            ),
            timeout=60,
        )
        log_path = ROOT / "var" / f"worker-{queue}.log"
        wait_for(lambda: "succeeded" in log_path.read_text(encoding="utf-8"))
        log = log_path.read_text(encoding="utf-8")
    assert sent, log[-3000:]
    name = re.escape(drain_notifications.name)
    assert len(re.findall(rf"Task {name}\[\S+\] received", log)) == 1
    assert re.findall(rf"Task {name}\[\S+\] succeeded in \S+s: (\d+)", log) == ["5"]
    text = "".join(p.read_text(encoding="utf-8") for p in mail_dir.glob("*.log"))
    assert all(a.tracking_number in text for a in appeals)
