"""Every write to appeals: one function a verb, each owning its transaction.

A state change checks who may do it, locks the appeal row, writes an Event in the same
transaction and leaves side effects (notifications) to transaction.on_commit.
"""

import contextvars
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Topic

from . import codes, notifications, permissions, uploads
from .models import (
    Appeal,
    Attachment,
    Channel,
    Event,
    Form,
    Outcome,
    RegistrationCounter,
    StagedUpload,
    Status,
)


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Bishkek calendar day of a moment."""
    return timezone.localtime(moment).date()


def record_event(
    *,
    appeal: Appeal,
    type: str,
    actor: AbstractBaseUser | None = None,
    data: dict | None = None,
    is_public: bool = True,
    at: dt.datetime | None = None,
) -> Event:
    return Event.objects.create(
        appeal=appeal,
        type=type,
        actor=actor if actor and actor.is_authenticated else None,
        data=data or {},
        is_public=is_public,
        at=at or timezone.now(),
    )


def next_registration_number(*, agency: Agency, year: int) -> str:
    """The next number of the agency's register for the year: gap-free, no duplicate.

    The counter row is locked until the caller's transaction ends, so concurrent
    registrations queue on it and a rolled-back registration gives its number back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_registration_number must run inside a transaction")
    RegistrationCounter.objects.bulk_create(
        [RegistrationCounter(agency=agency, year=year)], ignore_conflicts=True
    )
    counter = RegistrationCounter.objects.select_for_update().get(
        agency=agency, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{agency.code}-{year}-{counter.last_number:06d}"


@dataclass(frozen=True)
class NewAttachment:
    """A file already checked by the form (type sniffed from its content, size)."""

    name: str
    content_type: str
    content: bytes
    purpose: str = Attachment.Purpose.CITIZEN


def _save_attachments(appeal: Appeal, files: Iterable[NewAttachment]) -> None:
    for item in files:
        attachment = Attachment(
            appeal=appeal,
            purpose=item.purpose,
            original_name=item.name[:255],
            content_type=item.content_type,
            size=len(item.content),
            sha256=hashlib.sha256(item.content).hexdigest(),
        )
        attachment.file.save(item.name, ContentFile(item.content), save=False)
        # Django has no on-rollback hook: remember the file so a failed transaction
        # does not leave it orphaned in storage.
        _stored_files.get().append((attachment.file.storage, attachment.file.name))
        attachment.save()


_stored_files: contextvars.ContextVar[list] = contextvars.ContextVar("stored_files")


@contextmanager
def _atomic_with_files():
    """transaction.atomic() that also deletes the files it stored if it rolls back."""
    token = _stored_files.set([])
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in _stored_files.get():
            storage.delete(name)
        raise
    finally:
        _stored_files.reset(token)


def stage_upload(*, submission_key: uuid.UUID, upload) -> StagedUpload:
    """Keep a file of an unsent form, once checked by its content and the limits."""
    checked = uploads.sniff(upload)
    staged = StagedUpload.objects.filter(submission_key=submission_key)
    uploads.check_totals(
        count=staged.count() + 1,
        total_size=sum(staged.values_list("size", flat=True)) + checked.size,
    )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    duplicate = staged.filter(sha256=digest.hexdigest()).first()
    if duplicate:  # the same file chosen again: keep one
        return duplicate
    item = StagedUpload(
        submission_key=submission_key,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=digest.hexdigest(),
    )
    item.file.save(f"upload.{checked.extension}", upload, save=False)
    try:
        item.save()
    except Exception:
        item.file.delete(save=False)
        raise
    return item


def discard_staged(*, submission_key: uuid.UUID, tokens: Iterable[str]) -> int:
    """The citizen removes files from the unsent form."""
    valid = []
    for token in tokens:
        try:
            valid.append(uuid.UUID(str(token)))
        except ValueError:
            continue
    removed = 0
    for item in StagedUpload.objects.filter(
        submission_key=submission_key, token__in=valid
    ):
        item.file.delete(save=False)
        item.delete()
        removed += 1
    return removed


def purge_stale_uploads(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Files of forms that were never sent are removed after a day."""
    removed = 0
    cutoff = timezone.now() - older_than
    for item in StagedUpload.objects.filter(created_at__lt=cutoff).iterator():
        item.file.delete(save=False)
        item.delete()
        removed += 1
    return removed


def _attach_staged(appeal: Appeal, submission_key: uuid.UUID) -> None:
    """The staged files become the appeal's attachments, without copying them."""
    staged = list(
        StagedUpload.objects.select_for_update().filter(submission_key=submission_key)
    )
    Attachment.objects.bulk_create(
        Attachment(
            appeal=appeal,
            purpose=Attachment.Purpose.CITIZEN,
            file=item.file.name,
            original_name=item.original_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
        for item in staged
    )
    StagedUpload.objects.filter(pk__in=[item.pk for item in staged]).delete()


@dataclass(frozen=True)
class Submission:
    appeal: Appeal
    access_code: str | None  # None when the same submission was sent again
    created: bool


def submit_appeal(
    *,
    submission_key: uuid.UUID,
    applicant_name: str,
    text: str,
    language: str,
    kind: str,
    addressee: Agency | None = None,
    topic: Topic | None = None,
    applicant_address: str = "",
    applicant_phone: str = "",
    applicant_email: str = "",
    is_collective: bool = False,
    signatories: int = 1,
    files: Iterable[NewAttachment] = (),
    received_at: dt.datetime | None = None,
) -> Submission:
    """A citizen's appeal through the portal: one transaction, exactly once per key."""
    existing = Appeal.objects.filter(submission_key=submission_key).first()
    if existing:
        return Submission(appeal=existing, access_code=None, created=False)
    received_at = received_at or timezone.now()
    access_code = codes.new_access_code()
    try:
        with _atomic_with_files():
            appeal = Appeal.objects.create(
                tracking_number=_unique_tracking_number(),
                access_code_hash=codes.hash_access_code(access_code),
                submission_key=submission_key,
                channel=Channel.PORTAL,
                form=Form.WRITTEN,
                kind=kind,
                status=Status.SUBMITTED,
                received_at=received_at,
                received_on=local_date(received_at),
                applicant_name=applicant_name,
                applicant_address=applicant_address,
                applicant_phone=applicant_phone,
                applicant_email=applicant_email,
                is_collective=is_collective,
                signatories=signatories if is_collective else 1,
                consent_at=received_at,
                addressee=addressee,
                topic=topic,
                text=text,
                language=language,
            )
            _attach_staged(appeal, submission_key)
            _save_attachments(appeal, files)
            record_event(appeal=appeal, type=Event.Type.SUBMITTED, at=received_at)
            notifications.queue(appeal=appeal, template="receipt")
    except IntegrityError:
        # The same submission raced in from a second request and won.
        existing = Appeal.objects.filter(submission_key=submission_key).first()
        if existing is None:
            raise
        return Submission(appeal=existing, access_code=None, created=False)
    return Submission(appeal=appeal, access_code=access_code, created=True)


def _unique_tracking_number() -> str:
    for _attempt in range(10):
        number = codes.new_tracking_number()
        if not Appeal.objects.filter(tracking_number=number).exists():
            return number
    raise RuntimeError("could not draw a free tracking number")  # 2**50 space


def _lock(appeal_id: int) -> Appeal:
    return Appeal.objects.select_for_update().get(pk=appeal_id)


def _check_transition(appeal: Appeal, allowed: Iterable[str]) -> None:
    if appeal.status not in allowed:
        raise ValidationError(
            _("This appeal is %(status)s now; the action is no longer possible.")
            % {"status": appeal.get_status_display()},
            code="stale_status",
        )


@transaction.atomic
def register_appeal(
    *, appeal_id: int, actor: AbstractBaseUser, agency: Agency
) -> Appeal:
    """A clerk registers a portal submission: it gets its number and joins the queue."""
    if not permissions.can_register(actor):
        raise PermissionDenied
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.SUBMITTED])
    now = timezone.now()
    appeal.registration_number = next_registration_number(
        agency=agency, year=appeal.received_on.year
    )
    appeal.registering_agency = agency
    appeal.registered_at = now
    appeal.registered_by = actor
    appeal.status = Status.REGISTERED
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.REGISTERED,
        actor=actor,
        data={"registration_number": appeal.registration_number},
    )
    notifications.queue(appeal=appeal, template="registered")
    return appeal


@transaction.atomic
def leave_without_consideration(
    *, appeal_id: int, actor: AbstractBaseUser, reason: str
) -> Appeal:
    """Close an appeal the law lets a body leave unconsidered; the citizen sees why."""
    if not permissions.can_register(actor):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("Give the reason the citizen will see."))
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.SUBMITTED, Status.REGISTERED])
    appeal.status = Status.CLOSED
    appeal.outcome = Outcome.LEFT_WITHOUT_CONSIDERATION
    appeal.outcome_reason = reason.strip()
    appeal.closed_at = timezone.now()
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.LEFT_WITHOUT_CONSIDERATION,
        actor=actor,
        data={"reason": appeal.outcome_reason},
    )
    notifications.queue(appeal=appeal, template="left_without_consideration")
    return appeal


def register_paper_appeal(
    *,
    actor: AbstractBaseUser,
    agency: Agency,
    channel: str,
    form: str,
    kind: str,
    applicant_name: str,
    text: str,
    language: str,
    received_at: dt.datetime,
    delivery: str = "",
    backdate_reason: str = "",
    cover_letter_number: str = "",
    cover_letter_date: dt.date | None = None,
    applicant_address: str = "",
    applicant_phone: str = "",
    applicant_email: str = "",
    is_collective: bool = False,
    signatories: int = 1,
    addressee: Agency | None = None,
    topic: Topic | None = None,
    received_by: AbstractBaseUser | None = None,
    files: Iterable[NewAttachment] = (),
) -> tuple[Appeal, str]:
    """A clerk registers an appeal that arrived on paper or was heard in person.

    Returns the appeal and its access code, which the clerk hands to the citizen.
    """
    if not permissions.can_register(actor):
        raise PermissionDenied
    received_on = local_date(received_at)
    access_code = codes.new_access_code()
    with _atomic_with_files():
        now = timezone.now()
        appeal = Appeal.objects.create(
            tracking_number=_unique_tracking_number(),
            access_code_hash=codes.hash_access_code(access_code),
            registration_number=next_registration_number(
                agency=agency, year=received_on.year
            ),
            registering_agency=agency,
            registered_at=now,
            registered_by=actor,
            channel=channel,
            delivery=delivery,
            form=form,
            kind=kind,
            status=Status.REGISTERED,
            received_at=received_at,
            received_on=received_on,
            backdate_reason=backdate_reason,
            cover_letter_number=cover_letter_number,
            cover_letter_date=cover_letter_date,
            received_by=received_by,
            applicant_name=applicant_name,
            applicant_address=applicant_address,
            applicant_phone=applicant_phone,
            applicant_email=applicant_email,
            is_collective=is_collective,
            signatories=signatories if is_collective else 1,
            addressee=addressee,
            topic=topic,
            text=text,
            language=language,
        )
        _save_attachments(appeal, files)
        record_event(
            appeal=appeal,
            type=Event.Type.REGISTERED,
            actor=actor,
            data={"registration_number": appeal.registration_number},
        )
    return appeal, access_code


@transaction.atomic
def import_archival_appeal(
    *,
    agency: Agency,
    received_on: dt.date,
    channel: str,
    form: str,
    applicant_name: str,
    delivery: str = "",
    kind: str = "",
    text: str = "",
    registration_number: str = "",
    actor: AbstractBaseUser | None = None,
) -> Appeal:
    """A record of an old register: closed, flagged imported, no deadline, no notice.

    The caller owns the transaction (an import is all or nothing).
    """
    received_at = timezone.make_aware(dt.datetime.combine(received_on, dt.time(9)))
    appeal = Appeal.objects.create(
        tracking_number=_unique_tracking_number(),
        registration_number=registration_number
        or next_registration_number(agency=agency, year=received_on.year),
        registering_agency=agency,
        registered_at=received_at,
        channel=channel,
        delivery=delivery,
        form=form,
        kind=kind,
        status=Status.CLOSED,
        received_at=received_at,
        received_on=received_on,
        applicant_name=applicant_name,
        text=text,
        is_imported=True,
        closed_at=received_at,
    )
    record_event(
        appeal=appeal,
        type=Event.Type.IMPORTED,
        actor=actor,
        data={"registration_number": appeal.registration_number},
        is_public=False,
    )
    return appeal
