"""Notifications through a real Celery worker: the receipt e-mail leaves after commit,
and the sweep delivers what a lost task message left pending."""

import uuid

import pytest

from appeals.intake import filing
from appeals.models import Notification
from appeals.notifications import outbox as notifications
from portal.celery import app as celery_app
from tests.helpers import celery_worker, wait_for

pytestmark = pytest.mark.django_db


def _submit(language="ky"):
    return filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_email="bakyt@example.kg",
        text="Биздин көчөдө жарык жок, үч айдан бери.",
        language=language,
        kind="complaint",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_receipt_email_is_sent_by_a_real_worker_after_commit(tmp_path):
    mail_dir = tmp_path / "mail"
    with celery_worker(extra_env={"EMAIL_URL": f"filemail://{mail_dir}"}) as queue:
        celery_app.conf.task_default_queue = queue
        try:
            submission = _submit(language="ru")
        finally:
            celery_app.conf.task_default_queue = "celery"
        sent = wait_for(
            lambda: Notification.objects.filter(
                appeal=submission.appeal, state=Notification.State.SENT
            ).exists(),
            timeout=60,
        )
    assert sent, Notification.objects.values("state", "attempts", "last_error").first()
    files = list(mail_dir.glob("*.log"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert submission.appeal.tracking_number in text
    assert "bakyt@example.kg" in text


def test_notification_is_written_in_the_same_transaction_as_its_cause():
    submission = _submit()
    notification = Notification.objects.get(appeal=submission.appeal)
    assert notification.state == Notification.State.PENDING
    assert submission.appeal.tracking_number in notification.subject


def test_sweep_delivers_what_was_never_enqueued(mailoutbox):
    _submit()  # on_commit never ran here: as if the broker had been down
    assert notifications.due_ids()
    from appeals.tasks import sweep_notifications

    assert sweep_notifications() == 1
    assert len(mailoutbox) == 1
    assert not notifications.due_ids()


def test_failed_delivery_is_retried_later_not_lost(settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.appeals.notifications.test_tasks.BrokenBackend"
    submission = _submit()
    notification = Notification.objects.get(appeal=submission.appeal)
    assert notifications.deliver(notification.pk) is False
    notification.refresh_from_db()
    assert notification.state == Notification.State.PENDING
    assert notification.attempts == 1 and "SMTP is down" in notification.last_error
    assert notification.next_attempt_at > notification.created_at
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=notification.created_at
    )
    assert notifications.deliver(notification.pk) is True
    assert len(mailoutbox) == 1


def test_delivering_twice_sends_once(mailoutbox):
    notification = Notification.objects.get(appeal=_submit().appeal)
    assert notifications.deliver(notification.pk) is True
    assert notifications.deliver(notification.pk) is False
    assert len(mailoutbox) == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("SMTP is down")


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_many_notices_go_fifty_to_a_message_and_a_real_worker_sends_them_all(
    tmp_path,
):
    from tests.helpers import ROOT

    mail_dir = tmp_path / "mail"
    rows = Notification.objects.bulk_create(
        Notification(
            template="reminder",
            language="ky",
            channel=Notification.Channel.EMAIL,
            recipient=f"executor{n}@example.kg",
            subject=f"Эскертүү {n}",
            body="Мөөнөт жакындап калды.",
        )
        for n in range(120)
    )
    ids = [row.pk for row in rows]
    with celery_worker(extra_env={"EMAIL_URL": f"filemail://{mail_dir}"}) as queue:
        celery_app.conf.task_default_queue = queue
        try:
            notifications._schedule_many(ids)
        finally:
            celery_app.conf.task_default_queue = "celery"
        done = wait_for(
            lambda: (
                Notification.objects.filter(
                    pk__in=ids, state=Notification.State.SENT
                ).count()
                == 120
            ),
            timeout=90,
        )
        log = (ROOT / "var" / f"worker-{queue}.log").read_text(encoding="utf-8")
    assert done, Notification.objects.filter(pk__in=ids).values("state").distinct()
    received = log.count("Task appeals.tasks.deliver_notifications[")
    assert received >= 3 and log.count("received") == 3  # 50 + 50 + 20
    text = "".join(path.read_text(encoding="utf-8") for path in mail_dir.glob("*.log"))
    assert all(f"executor{n}@example.kg" in text for n in range(120))


def test_one_notice_that_cannot_be_found_does_not_stop_the_others(mailoutbox):
    from appeals.notifications.outbox import deliver_notifications

    submission = _submit()
    notification = Notification.objects.get(appeal=submission.appeal)
    assert deliver_notifications([notification.pk + 1000, notification.pk]) == 1
    assert len(mailoutbox) == 1
