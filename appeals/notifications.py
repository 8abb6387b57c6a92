"""The notification outbox: rows written with their cause, delivered after commit.

A notification is rendered in the appeal's language when it is queued and stored, so
what the citizen receives does not depend on the worker's locale. The delivery task is
scheduled on commit; a sweep re-sends whatever a lost task message left pending, so no
notification is lost to a broker outage.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Appeal, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
TEMPLATES = (
    "receipt",
    "registered",
    "left_without_consideration",
    "routed",
    "forwarded",
    "answered",
)


def queue(
    *, appeal: Appeal, template: str, extra: dict | None = None, attachment: str = ""
) -> Notification | None:
    """Write an e-mail to the applicant into the outbox (nothing if no e-mail)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    if not appeal.applicant_email:
        return None
    context = {
        "appeal": appeal,
        "portal_url": settings.PORTAL_BASE_URL,
        **(extra or {}),
    }
    with translation.override(appeal.language):
        subject = render_to_string(f"appeals/email/{template}_subject.txt", context)
        body = render_to_string(f"appeals/email/{template}.txt", context)
    notification = Notification.objects.create(
        appeal=appeal,
        template=template,
        recipient=appeal.applicant_email,
        language=appeal.language,
        subject=" ".join(subject.split())[:300],
        body=body,
        attachment=attachment,
    )
    transaction.on_commit(lambda: _schedule(notification.pk))
    return notification


def _schedule(notification_id: int) -> None:
    from .tasks import deliver_notification

    try:
        deliver_notification.delay(notification_id)
    except Exception as exc:  # the broker is down: the sweep will pick the row up
        logger.warning(
            "could not enqueue notification %s (%r); the sweep will send it",
            notification_id,
            exc,
        )


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2**attempts, 24 * 60))


def deliver(notification_id: int) -> bool:
    """Send one pending notification; True if sent now. Safe to call twice."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, state=Notification.State.PENDING)
            .first()
        )
        if notification is None:
            return False
        try:
            _message(notification).send()
        except Exception as exc:
            notification.attempts += 1
            notification.last_error = repr(exc)[:2000]
            if notification.attempts >= MAX_ATTEMPTS:
                notification.state = Notification.State.FAILED
                logger.error("notification %s failed for good", notification.pk)
            notification.next_attempt_at = timezone.now() + backoff(
                notification.attempts
            )
            notification.save()
            return False
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.attempts += 1
        notification.save()
        return True


def _message(notification: Notification) -> EmailMessage:
    message = EmailMessage(
        notification.subject,
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient],
    )
    if notification.attachment:
        with default_storage.open(notification.attachment, "rb") as letter:
            name = notification.attachment.rsplit("/", 1)[-1]
            message.attach(name, letter.read(), "application/pdf")
    return message


def due_ids(limit: int = 500) -> list[int]:
    return list(
        Notification.objects.filter(
            state=Notification.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
