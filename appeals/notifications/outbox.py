"""The notification outbox: rows written with their cause, delivered after commit.

A notification is rendered in the appeal's language when it is queued and stored, so
what the citizen receives does not depend on the worker's locale. Its delivery is
scheduled on commit (a notice by a drain of the outbox, a callback by a task of its
own); a sweep re-sends whatever a lost task message left pending, so no notification
is lost to a broker outage.
"""

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from celery import shared_task
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape

from appeals.models import Appeal, Notification
from appeals.notifications import sms, webhook

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
TEMPLATES = (
    "receipt",
    "registered",
    "left_without_consideration",
    "routed",
    "forwarded",
    "extended",
    "answered",
    "withdrawn",
)
STAFF_TEMPLATES = (
    "reminder",
    "overdue",
    "digest",
    "re_review",
    "addition",
    "withdrawn",
)


# A person's name: letters, with spaces, hyphens and apostrophes between them.
_NAME = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+){0,4}")
GREETING_NAME_LENGTH = 60


def greeting_name(name: str) -> str:
    """The applicant's name for the greeting of an official e-mail, or "" for the
    neutral greeting. The address is not verified: anyone can make the portal write
    to anyone, so a 'name' that carries more than a name (a link, a message, a
    sentence) is never echoed under the state's letterhead."""
    name = " ".join(name.split())
    if len(name) <= GREETING_NAME_LENGTH and _NAME.fullmatch(name):
        return name
    return ""


def queue(
    *, appeal: Appeal, template: str, extra: dict | None = None, attachment: str = ""
) -> Notification | None:
    """Write a notice to the applicant into the outbox, in the appeal's language: by
    e-mail when there is an address, else by SMS to the phone, else nothing."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    if appeal.applicant_email:
        channel, recipient = Notification.Channel.EMAIL, appeal.applicant_email
    elif appeal.applicant_phone:
        channel, recipient = Notification.Channel.SMS, appeal.applicant_phone
    else:
        return None
    context = {
        "appeal": appeal,
        "greeting_name": greeting_name(appeal.applicant_name),
        "portal_url": settings.PORTAL_BASE_URL,
        **(extra or {}),
    }
    return _write(
        template=template,
        context=context,
        language=appeal.language,
        channel=channel,
        recipient=recipient,
        appeal=appeal,
        attachment=attachment if channel == Notification.Channel.EMAIL else "",
    )


def queue_staff(
    *,
    user,
    template: str,
    context: dict,
    appeal: Appeal | None = None,
    dedup_key: str | None = None,
) -> Notification | None:
    """A notice to a staff member in their own language. With a dedup_key, a second
    call for the same key writes nothing (sweeps may run twice)."""
    if template not in STAFF_TEMPLATES:
        raise ValueError(f"unknown staff notification template {template!r}")
    if not user.email:
        return None
    if dedup_key and Notification.objects.filter(dedup_key=dedup_key).exists():
        return None
    profile = getattr(user, "staff_profile", None)
    language = profile.language if profile else settings.LANGUAGE_CODE
    context = {"user": user, "portal_url": settings.PORTAL_BASE_URL, **context}
    try:
        with transaction.atomic():
            return _write(
                template=f"staff_{template}",
                context=context,
                language=language,
                channel=Notification.Channel.EMAIL,
                recipient=user.email,
                appeal=appeal,
                user=user,
                dedup_key=dedup_key,
            )
    except IntegrityError:  # the same key written by a parallel sweep
        return None


@dataclass(frozen=True, slots=True)
class StaffNotice:
    """One notice of a sweep to a staff member, before it is rendered (queue_staff_many)."""

    user: object
    template: str
    context: dict
    dedup_key: str
    appeal: Appeal | None = None


BULK_BATCH = 1000


def queue_staff_many(notices: Iterable[StaffNotice], *, batch: int = BULK_BATCH) -> int:
    """queue_staff for many notices at once, with a few queries a batch whatever its
    size: the keys already in the outbox looked up together, each new notice rendered
    with what the caller selected (the user's staff_profile and whatever the template
    reads, so no query per notice), all written by one INSERT that skips a key a
    parallel sweep wrote first, and their delivery enqueued on commit. Returns how many
    were written."""
    written = 0
    notices = (n for n in notices if n.user.email)
    while chunk := list(islice(notices, batch)):
        written += len(_write_staff_batch(chunk))
    return written


def _write_staff_batch(notices: list[StaffNotice]) -> list[int]:
    for notice in notices:
        if notice.template not in STAFF_TEMPLATES:
            raise ValueError(f"unknown staff notification template {notice.template!r}")
    existing = set(
        Notification.objects.filter(
            dedup_key__in=[n.dedup_key for n in notices]
        ).values_list("dedup_key", flat=True)
    )
    rows = []
    stencils: dict = {}
    for notice in notices:
        if notice.dedup_key in existing:
            continue
        existing.add(notice.dedup_key)  # twice in one batch: written once
        rows.append(_staff_row(notice, stencils=stencils))
    ids = _insert_skipping_written_keys(rows)
    if ids:
        transaction.on_commit(lambda: _schedule_many(ids))
    return ids


def _staff_row(notice: StaffNotice, *, stencils: dict | None = None) -> Notification:
    user = notice.user
    profile = getattr(user, "staff_profile", None)
    language = profile.language if profile else settings.LANGUAGE_CODE
    context = {"user": user, "portal_url": settings.PORTAL_BASE_URL, **notice.context}
    template = f"staff_{notice.template}"
    if stencils is not None and notice.template in STENCIL_TEMPLATES:
        subject, body = _from_stencil(
            stencils, template=template, context=context, language=language
        )
    else:
        subject, body = _render(
            template=template,
            context=context,
            language=language,
            channel=Notification.Channel.EMAIL,
        )
    return Notification(
        template=template,
        language=language,
        subject=subject,
        body=body,
        channel=Notification.Channel.EMAIL,
        recipient=user.email,
        appeal=notice.appeal,
        user=user,
        dedup_key=notice.dedup_key,
    )


# The reminder and escalation texts differ between two appeals of the same lead agency
# only in the appeal's number, id and due date: a sweep renders them once per language
# and shape with stand-ins (rendering is most of a notice's cost), then fills them in.
# Only what these templates read of the appeal is stood in for (a test compares the
# result with queue_staff's).
STENCIL_TEMPLATES = ("reminder", "overdue")
_NUMBER, _ID = "\ue000number\ue000", "\ue000id\ue000"
_DUE = dt.date(1900, 12, 31)


@dataclass(frozen=True, slots=True)
class _AppealStandIn:
    lead_agency: object
    pk: str = _ID
    registration_number: str = _NUMBER
    due_on: dt.date = _DUE


def _from_stencil(
    stencils: dict, *, template: str, context: dict, language: str
) -> tuple[str, str]:
    appeal = context["appeal"]
    user = context["user"]
    shape = (
        template,
        language,
        getattr(user, "staff_profile", None) is None,
        context.get("days"),
        appeal.lead_agency_id,
    )
    if shape not in stencils:
        stand_in = {**context, "appeal": _AppealStandIn(lead_agency=appeal.lead_agency)}
        with translation.override(language):
            stencils[shape] = (
                render_to_string(f"appeals/email/{template}_subject.txt", stand_in),
                render_to_string(f"appeals/email/{template}.txt", stand_in),
                formats.date_format(_DUE, "SHORT_DATE_FORMAT"),
            )
    subject, body, due_stand_in = stencils[shape]
    due_key = (language, appeal.due_on)
    if due_key not in stencils:
        with translation.override(language):
            stencils[due_key] = formats.date_format(appeal.due_on, "SHORT_DATE_FORMAT")
    values = {
        _NUMBER: appeal.registration_number,
        _ID: str(appeal.pk),
        due_stand_in: stencils[due_key],
    }
    for stand_in, value in values.items():
        # The subject templates escape what they print (the bodies do not).
        subject = subject.replace(stand_in, conditional_escape(value))
        body = body.replace(stand_in, value)
    return " ".join(subject.split())[:300], body


def _insert_skipping_written_keys(rows: list[Notification]) -> list[int]:
    """INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id: the ids of the rows
    written (bulk_create(ignore_conflicts=True) does not say which were)."""
    if not rows:
        return []
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    params = [
        field.get_db_prep_save(field.pre_save(row, True), connection)
        for row in rows
        for field in fields
    ]
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} "  # noqa: S608 (names only)
        f"({', '.join(quote(f.column) for f in fields)}) VALUES {values} "
        f"ON CONFLICT ({quote('dedup_key')}) DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# Notices per broker message when many are queued at once (the daily sweep's):
# 10,000 reminders are 200 messages, not 10,000 (~1.4 ms each), and the workers
# still share them out.
MESSAGE_BATCH = 50


def _schedule_many(ids: list[int]) -> None:
    """Enqueue the delivery of many notices, MESSAGE_BATCH to a message, through one
    broker connection; at the first failure stop (each retry would wait on the
    broker) and leave the rest to the sweep."""
    try:
        with deliver_notifications.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), MESSAGE_BATCH):
                deliver_notifications.apply_async(
                    (ids[start : start + MESSAGE_BATCH],), producer=producer
                )
    except Exception as exc:
        logger.warning(
            "could not enqueue %s notifications (%r); the sweep will send them",
            len(ids),
            exc,
        )


def _render(
    *, template: str, context: dict, language: str, channel: str
) -> tuple[str, str]:
    with translation.override(language):
        subject = render_to_string(f"appeals/email/{template}_subject.txt", context)
        body = render_to_string(f"appeals/email/{template}.txt", context)
    subject = " ".join(subject.split())[:300]
    if channel == Notification.Channel.SMS:
        # An SMS carries the one line that matters and the way to read more.
        body = f"{subject} {settings.PORTAL_BASE_URL}/{language}/track/"
    return subject, body


def _write(*, template: str, context: dict, language: str, **fields) -> Notification:
    subject, body = _render(
        template=template, context=context, language=language, channel=fields["channel"]
    )
    notification = Notification.objects.create(
        template=template, language=language, subject=subject, body=body, **fields
    )
    transaction.on_commit(lambda: _ring(notification.pk))
    return notification


def write_callback(*, appeal: Appeal, client, event_type: str, body: str):
    """A signed post to an API client's system, queued like any notice (callbacks)."""
    notification = Notification.objects.create(
        template=f"callback_{event_type}"[:64],
        channel=Notification.Channel.CALLBACK,
        recipient=client.callback_url[:254],
        api_client=client,
        appeal=appeal,
        language=appeal.language,
        subject=event_type,
        body=body,
    )
    transaction.on_commit(lambda: _schedule(notification.pk))
    return notification


def _earlier_callback_pending(notification: Notification) -> bool:
    return Notification.objects.filter(
        api_client_id=notification.api_client_id,
        appeal_id=notification.appeal_id,
        state=Notification.State.PENDING,
        pk__lt=notification.pk,
    ).exists()


def _schedule(notification_id: int) -> None:
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
        is_callback = notification.channel == Notification.Channel.CALLBACK
        if is_callback and _earlier_callback_pending(notification):
            return False  # never overtakes: sent after the earlier one of its appeal
        try:
            if is_callback:
                webhook.post(notification)
            else:
                _send(notification)
        except Exception as exc:
            _record_failure(notification, exc)
            return False
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["state", "sent_at", "attempts", "updated_at"])
        if is_callback:
            _schedule_next_callback(notification)
        return True


def _send(notification: Notification, mail=None) -> None:
    """Send an e-mail or SMS notice (through `mail`, an open mail connection, if
    given); raises what the mail server or the SMS gateway raised."""
    if notification.channel == Notification.Channel.SMS:
        sms.send(notification.recipient, notification.body)
    else:
        _message(notification, mail).send()


def _record_failure(notification: Notification, exc: Exception) -> None:
    notification.attempts += 1
    notification.last_error = repr(exc)[:2000]
    # A callback is never given up (later ones of its appeal wait for it); revoking
    # the client ends it.
    if (
        notification.attempts >= MAX_ATTEMPTS
        and notification.channel != Notification.Channel.CALLBACK
    ):
        notification.state = Notification.State.FAILED
        logger.error("notification %s failed for good", notification.pk)
    notification.next_attempt_at = timezone.now() + backoff(notification.attempts)
    notification.save(
        update_fields=[
            "attempts",
            "last_error",
            "state",
            "next_attempt_at",
            "updated_at",
        ]
    )


# --- The drain: notices sent in batches ----------------------------------------------
#
# A notice (to a citizen or to staff) does not get a task message of its own. On
# commit, a process rings the drain at most once per DRAIN_WINDOW seconds (per queue),
# with a countdown of DRAIN_DELAY, longer than the window: when it runs, every notice
# that found the window open has been committed, and it sends all that are due
# through one mail connection. Under load that is one broker message a second per web
# process instead of one per appeal (a Celery message costs the worker some 5 ms of
# CPU, whatever it carries); on a quiet day a receipt leaves DRAIN_DELAY seconds after
# the appeal is saved. A ring that never reached the broker, or a drain that ran early
# (a worker whose clock is ahead by more than DRAIN_DELAY - DRAIN_WINDOW), leaves its
# notices to the periodic sweep: late by a minute at most, never lost.
DRAIN_WINDOW = 1.0
DRAIN_DELAY = 1.5
# Notices sent and marked sent in one transaction. A worker killed in the middle of
# a batch sends that batch's mails again (at least once, as every delivery here).
# Smaller batches cost more per notice: each batch's index scan steps over the rows
# the drain's earlier batches marked sent (50 a batch: 0.34-0.41 ms of CPU a notice,
# 100: 0.25-0.33 ms, in process; at 10M through gunicorn 151-171 against 179-200
# submissions a second).
DRAIN_BATCH = 100
# A drain that finds a large backlog sends this many batches, then rings again, so
# one task does not hold a worker for long.
DRAIN_MAX_BATCHES = 20

_rung_until: dict[str, float] = {}
_ring_lock = threading.Lock()


def _ring(notification_id: int) -> None:
    """Ask for a drain that will send this notice, unless one is on its way already."""
    app = drain_notifications.app
    if app.conf.task_always_eager:
        # An eager task ignores its countdown: send this notice now, on its own.
        _schedule(notification_id)
        return
    queue = app.conf.task_default_queue
    now = time.monotonic()
    with _ring_lock:
        if _rung_until.get(queue, 0.0) > now:
            return
        _rung_until[queue] = now + DRAIN_WINDOW
    try:
        drain_notifications.apply_async(countdown=DRAIN_DELAY)
    except Exception as exc:  # the broker is down: the sweep will pick the row up
        with _ring_lock:
            _rung_until.pop(queue, None)  # the next notice tries again
        logger.warning(
            "could not enqueue notification %s (%r); the sweep will send it",
            notification_id,
            exc,
        )


def drain() -> int:
    """Send the due e-mail and SMS notices, DRAIN_BATCH at a time (callbacks go one by
    one, in order, by deliver()); returns how many were sent."""
    sent = 0
    for _batch in range(DRAIN_MAX_BATCHES):
        taken, delivered = _drain_batch()
        sent += delivered
        if taken < DRAIN_BATCH:
            return sent
    drain_notifications.delay()  # more are waiting: another drain takes them
    return sent


def _drain_batch() -> tuple[int, int]:
    """One batch: the rows locked (skipping those another delivery holds), each sent,
    the sent ones marked by one UPDATE and each failure recorded on its row."""
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                state=Notification.State.PENDING, next_attempt_at__lte=timezone.now()
            )
            .exclude(channel=Notification.Channel.CALLBACK)
            .order_by("next_attempt_at", "pk")[:DRAIN_BATCH]
        )
        if not batch:
            return 0, 0
        mail, mail_down = get_connection(), None
        if any(n.channel == Notification.Channel.EMAIL for n in batch):
            try:
                mail.open()
            except Exception as exc:  # the mail server is down: no e-mail goes now
                mail_down = exc
        sent = []
        try:
            for notification in batch:
                try:
                    if mail_down and notification.channel == Notification.Channel.EMAIL:
                        raise mail_down
                    _send(notification, mail)
                except Exception as exc:
                    _record_failure(notification, exc)
                else:
                    sent.append(notification.pk)
        finally:
            mail.close()
        if sent:
            now = timezone.now()
            Notification.objects.filter(pk__in=sent).update(
                state=Notification.State.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        return len(batch), len(sent)


def _schedule_next_callback(notification: Notification) -> None:
    """The next callback of the same appeal and client may go now."""
    following = (
        Notification.objects.filter(
            api_client_id=notification.api_client_id,
            appeal_id=notification.appeal_id,
            state=Notification.State.PENDING,
            pk__gt=notification.pk,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        transaction.on_commit(lambda: _schedule(following))


def _message(notification: Notification, mail=None) -> EmailMessage:
    message = EmailMessage(
        notification.subject,
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient],
        connection=mail,
    )
    if notification.attachment:
        with default_storage.open(notification.attachment, "rb") as letter:
            name = notification.attachment.rsplit("/", 1)[-1]
            message.attach(name, letter.read(), "application/pdf")
    return message


def due_ids(limit: int = 500) -> list[int]:
    # A callback waiting behind an earlier one of its appeal is not due yet.
    earlier_callback = Notification.objects.filter(
        api_client_id=OuterRef("api_client_id"),
        appeal_id=OuterRef("appeal_id"),
        state=Notification.State.PENDING,
        pk__lt=OuterRef("pk"),
    )
    return list(
        Notification.objects.filter(
            state=Notification.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .exclude(Exists(earlier_callback))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# The outbox's own delivery tasks live here, beside what schedules them (their names
# are those they had in appeals.tasks, so queued messages still find them).
@shared_task(name="appeals.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> None:
    deliver(notification_id)


@shared_task(name="appeals.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver several notices queued together; one that fails stays pending with
    its next attempt set (deliver records it) and does not stop the others."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += deliver(notification_id)
        except Exception:  # e.g. the database went away: the sweep retries it
            logger.exception("could not deliver notification %s", notification_id)
    return sent


@shared_task(name="appeals.tasks.drain_notifications", ignore_result=True)
def drain_notifications() -> int:
    """Send the e-mail and SMS notices that are due, in batches (notifications.drain)."""
    return drain()
