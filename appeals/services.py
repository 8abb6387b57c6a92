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

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership, Topic
from portal.prepared import PreparedQuery

from . import (
    callbacks,
    codes,
    deadlines,
    letters,
    matching,
    notifications,
    permissions,
    uploads,
)
from .models import (
    Answer,
    Appeal,
    Assignment,
    Attachment,
    Channel,
    Contribution,
    Event,
    Form,
    Outcome,
    PersonalDataAccess,
    Rating,
    RegistrationCounter,
    ReReview,
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
    event = Event.objects.create(
        appeal=appeal,
        type=type,
        actor=actor if actor and actor.is_authenticated else None,
        data=data or {},
        is_public=is_public,
        at=at or timezone.now(),
    )
    # The one place where API clients' callbacks are queued: every change of an
    # appeal writes its event here, in the change's transaction.
    callbacks.queue_for_event(event)
    return event


def next_registration_number(*, agency: Agency, year: int) -> str:
    """The next number of the agency's register for the year: gap-free, no duplicate."""
    return reserve_registration_numbers(agency=agency, year=year, count=1)[0]


def reserve_registration_numbers(*, agency: Agency, year: int, count: int) -> list[str]:
    """The next `count` numbers of the agency's register for the year, in order.

    The counter row is locked until the caller's transaction ends, so concurrent
    registrations queue on it and a rolled-back registration gives its numbers back:
    the register has no gap and no duplicate.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("registration numbers must be reserved inside a transaction")
    counter = _locked_counter(agency=agency, year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [
        format_registration_number(agency, year, n) for n in range(first, first + count)
    ]


def format_registration_number(agency: Agency, year: int, sequence: int) -> str:
    return f"{agency.code}-{year}-{sequence:06d}"


def note_registration_number(*, agency: Agency, year: int, number: str) -> None:
    """An imported register kept its own number: later numbers must come after it."""
    prefix = f"{agency.code}-{year}-"
    if not number.startswith(prefix) or not number[len(prefix) :].isdigit():
        return
    sequence = int(number[len(prefix) :])
    counter = _locked_counter(agency=agency, year=year)
    if sequence > counter.last_number:
        counter.last_number = sequence
        counter.save(update_fields=["last_number"])


def _locked_counter(*, agency: Agency, year: int) -> RegistrationCounter:
    RegistrationCounter.objects.bulk_create(
        [RegistrationCounter(agency=agency, year=year)], ignore_conflicts=True
    )
    return RegistrationCounter.objects.select_for_update().get(agency=agency, year=year)


def review_due_on(registered_at: dt.datetime) -> dt.date:
    """The last day of the review: the rule in force when registration happened."""
    start = deadlines.counting_start(registered_at)
    return deadlines.due_date(start, deadlines.rule_for("review", on=start))


def applicant_fields(
    *, name: str, address: str = "", phone: str = "", email: str = ""
) -> dict:
    """The applicant's fields of an Appeal with their normalised keys."""
    return {
        "applicant_name": name,
        "applicant_address": address,
        "applicant_phone": phone,
        "applicant_email": email,
        "applicant_name_key": matching.name_key(name),
        "applicant_phone_key": matching.phone_key(phone),
    }


@dataclass(frozen=True)
class NewAttachment:
    """A file already through uploads.check (type sniffed, limits, virus scan)."""

    name: str  # display text only
    content_type: str
    content: bytes
    purpose: str = Attachment.Purpose.CITIZEN

    @classmethod
    def checked(
        cls, checked: uploads.CheckedFile, content: bytes, *, purpose: str
    ) -> "NewAttachment":
        return cls(
            name=checked.name,
            content_type=checked.content_type,
            content=content,
            purpose=purpose,
        )


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
        # Stored under the detected type's extension, never the sender's name.
        attachment.file.save(
            f"upload.{uploads.extension_of(item.content_type)}",
            ContentFile(item.content),
            save=False,
        )
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
    """Keep a file of an unsent form, once through uploads.check (content, limits,
    virus scan). The same file chosen again, even by a double-click's two parallel
    posts, is kept once (unique per form and content)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    staged = StagedUpload.objects.filter(submission_key=submission_key)
    duplicate = staged.filter(sha256=digest.hexdigest()).first()
    if duplicate:  # the same file chosen again: keep one
        return duplicate
    checked = uploads.check(
        upload,
        count_before=staged.count(),
        size_before=sum(staged.values_list("size", flat=True)),
    )
    item = StagedUpload(
        submission_key=submission_key,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=digest.hexdigest(),
    )
    item.file.save(checked.storage_name, upload, save=False)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        # A parallel post staged the same file first: keep that one.
        item.file.delete(save=False)
        return staged.get(sha256=item.sha256)
    except Exception:
        item.file.delete(save=False)
        raise
    return item


def discard_staged(*, submission_key: uuid.UUID, tokens: Iterable[str]) -> int:
    """The citizen removes files from the unsent form."""
    valid = []
    tokens = list(tokens)
    if not tokens:  # nearly every sending: no query
        return 0
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


# Every submission looks for its staged files (a prepared query: compiled once per
# process, see portal/prepared.py); a submission key is never the nil UUID.
_STAGED_FOR_UPDATE = PreparedQuery(
    lambda key: StagedUpload.objects.select_for_update().filter(submission_key=key),
    key=uuid.UUID(int=0),
)


def _attach_staged(
    appeal: Appeal,
    submission_key: uuid.UUID,
    purpose: str = Attachment.Purpose.CITIZEN,
) -> None:
    """The staged files become the appeal's attachments, without copying them."""
    staged = _STAGED_FOR_UPDATE(key=submission_key)
    if not staged:  # most appeals: building the empty insert and delete costs ~1 ms
        return
    _attachments_from_staged(appeal, staged, purpose)
    StagedUpload.objects.filter(pk__in=[item.pk for item in staged]).delete()


def _attachments_from_staged(
    appeal: Appeal, staged: Iterable[StagedUpload], purpose: str
) -> None:
    Attachment.objects.bulk_create(
        Attachment(
            appeal=appeal,
            purpose=purpose,
            file=item.file.name,
            original_name=item.original_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
        for item in staged
    )


def attach_late_uploads(*, appeal: Appeal, submission_key: uuid.UUID) -> int:
    """Files staged under a form's key after its appeal was sent (a second post of
    the same form, in parallel, with other files) join that appeal while it waits
    for the clerk, within the limits; otherwise the purge removes them."""
    if not StagedUpload.objects.filter(submission_key=submission_key).exists():
        return 0
    with transaction.atomic():
        appeal = _lock(appeal.pk)
        if appeal.status != Status.SUBMITTED:
            return 0
        staged = _STAGED_FOR_UPDATE(key=submission_key)
        kept = list(appeal.attachments.values_list("sha256", "size"))
        known = {sha for sha, _size in kept}
        count, total = len(kept), sum(size for _sha, size in kept)
        fitting = []
        for item in staged:
            if item.sha256 in known:
                continue
            if count + 1 > uploads.MAX_FILES or total + item.size > (
                uploads.MAX_TOTAL_SIZE
            ):
                break
            known.add(item.sha256)
            count, total = count + 1, total + item.size
            fitting.append(item)
        _attachments_from_staged(appeal, fitting, Attachment.Purpose.CITIZEN)
        StagedUpload.objects.filter(pk__in=[item.pk for item in fitting]).delete()
    return len(fitting)


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
    """A citizen's appeal through the portal: one transaction, exactly once per key.

    Lean on purpose (it is the busiest write): no look-up before the insert. The
    unique submission key makes a second sending of the same form fail the insert
    (sequentially or raced in from a parallel request) and then return the first
    one's appeal; the unique tracking number makes a drawn number that is already
    taken (odds of about n / 2**50) fail it too, and the whole transaction is
    retried with a new number."""
    received_at = received_at or timezone.now()
    files = list(files)
    for _attempt in range(TRACKING_ATTEMPTS):
        access_code = codes.new_access_code()
        try:
            appeal = _insert_submission(
                submission_key=submission_key,
                tracking_number=codes.new_tracking_number(),
                access_code=access_code,
                received_at=received_at,
                files=files,
                fields={
                    **applicant_fields(
                        name=applicant_name,
                        address=applicant_address,
                        phone=applicant_phone,
                        email=applicant_email,
                    ),
                    "kind": kind,
                    "is_collective": is_collective,
                    "signatories": signatories if is_collective else 1,
                    "addressee": addressee,
                    "topic": topic,
                    "text": text,
                    "language": language,
                },
            )
        except IntegrityError:
            # The same submission was sent before or raced in and won; else the
            # tracking number was taken: draw again.
            existing = Appeal.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                attach_late_uploads(appeal=existing, submission_key=submission_key)
                return Submission(appeal=existing, access_code=None, created=False)
            continue
        return Submission(appeal=appeal, access_code=access_code, created=True)
    raise RuntimeError("could not draw a free tracking number")  # 2**50 space


TRACKING_ATTEMPTS = 10


def _insert_submission(
    *,
    submission_key: uuid.UUID,
    tracking_number: str,
    access_code: str,
    received_at: dt.datetime,
    files: list[NewAttachment],
    fields: dict,
) -> Appeal:
    with _atomic_with_files():
        appeal = Appeal.objects.create(
            tracking_number=tracking_number,
            access_code_hash=codes.hash_access_code(access_code),
            submission_key=submission_key,
            channel=Channel.PORTAL,
            form=Form.WRITTEN,
            status=Status.SUBMITTED,
            received_at=received_at,
            received_on=local_date(received_at),
            consent_at=received_at,
            **fields,
        )
        _attach_staged(appeal, submission_key)
        _save_attachments(appeal, files)
        record_event(appeal=appeal, type=Event.Type.SUBMITTED, at=received_at)
        notifications.queue(appeal=appeal, template="receipt")
    return appeal


@transaction.atomic
def reissue_access_code(*, appeal: Appeal, actor: AbstractBaseUser | None) -> str:
    """A new access code for the appeal; the earlier one stops working. For an API
    client's retry, whose first answer carried a code that is never stored."""
    appeal = _lock(appeal.pk)
    code = codes.new_access_code()
    appeal.access_code_hash = codes.hash_access_code(code)
    appeal.save(update_fields=["access_code_hash", "updated_at"])
    record_event(
        appeal=appeal,
        type=Event.Type.ACCESS_CODE_REISSUED,
        actor=actor,
        is_public=False,
    )
    return code


def _unique_tracking_number() -> str:
    for _attempt in range(TRACKING_ATTEMPTS):
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
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    agency: Agency,
    repeat_of: Appeal | None = None,
) -> Appeal:
    """A clerk registers a portal submission: it gets its number and joins the queue."""
    if not permissions.can_register_for(actor, agency):
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
    appeal.due_on = review_due_on(now)
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.REGISTERED,
        actor=actor,
        data={"registration_number": appeal.registration_number},
    )
    if repeat_of is not None:
        _link_repeat(appeal, repeat_of, actor)
    notifications.queue(appeal=appeal, template="registered")
    return appeal


def _link_repeat(appeal: Appeal, earlier: Appeal, actor: AbstractBaseUser) -> None:
    if earlier.pk == appeal.pk:
        raise ValidationError(_("An appeal cannot repeat itself."))
    # Link to the first appeal of the chain, so repeats group around one matter.
    original = earlier.repeat_of or earlier
    appeal.repeat_of = original
    appeal.save(update_fields=["repeat_of", "updated_at"])
    record_event(
        appeal=appeal,
        type=Event.Type.LINKED_REPEAT,
        actor=actor,
        data={
            "repeat_of": original.pk,
            "registration_number": original.registration_number or "",
        },
        is_public=False,
    )


@transaction.atomic
def link_repeat(*, appeal_id: int, earlier_id: int, actor: AbstractBaseUser) -> Appeal:
    """A clerk marks an appeal as a repeat of an earlier one of the same applicant."""
    if not permissions.can_register(actor):
        raise PermissionDenied
    appeal = _lock(appeal_id)
    _link_repeat(appeal, Appeal.objects.get(pk=earlier_id), actor)
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
    repeat_of: Appeal | None = None,
    submission_key: uuid.UUID | None = None,
) -> tuple[Appeal, str | None]:
    """A clerk registers an appeal that arrived on paper or was heard in person.

    Returns the appeal and its access code, which the clerk hands to the citizen (None
    when the same form was sent twice: the first registration stands). Files the form
    staged under its submission key become scans of the original.
    """
    if not permissions.can_register_for(actor, agency):
        raise PermissionDenied
    if submission_key is not None:
        existing = Appeal.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing, None
    received_on = local_date(received_at)
    access_code = codes.new_access_code()
    with _atomic_with_files():
        now = timezone.now()
        appeal = Appeal.objects.create(
            submission_key=submission_key,
            tracking_number=_unique_tracking_number(),
            access_code_hash=codes.hash_access_code(access_code),
            registration_number=next_registration_number(
                agency=agency, year=received_on.year
            ),
            registering_agency=agency,
            registered_at=now,
            registered_by=actor,
            due_on=review_due_on(now),
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
            **applicant_fields(
                name=applicant_name,
                address=applicant_address,
                phone=applicant_phone,
                email=applicant_email,
            ),
            is_collective=is_collective,
            signatories=signatories if is_collective else 1,
            addressee=addressee,
            topic=topic,
            text=text,
            language=language,
        )
        if submission_key is not None:
            _attach_staged(appeal, submission_key, purpose=Attachment.Purpose.SCAN)
        _save_attachments(appeal, files)
        record_event(
            appeal=appeal,
            type=Event.Type.REGISTERED,
            actor=actor,
            data={"registration_number": appeal.registration_number},
        )
        if repeat_of is not None:
            _link_repeat(appeal, repeat_of, actor)
        notifications.queue(appeal=appeal, template="registered")
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
    if registration_number:
        note_registration_number(
            agency=agency, year=received_on.year, number=registration_number
        )
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
        **applicant_fields(name=applicant_name),
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


# --- Routing, answering, returning (the agencies' side) ----------------------------


def _active_assignments(appeal: Appeal):
    return Assignment.objects.filter(appeal=appeal, is_active=True)


def _lead_assignment(appeal: Appeal) -> Assignment:
    assignment = _active_assignments(appeal).filter(role=Assignment.Role.LEAD).first()
    if assignment is None:
        raise ValidationError(_("This appeal is not with an agency now."))
    return assignment


def _lock_for_lead_head(
    appeal_id: int, actor: AbstractBaseUser, statuses: Iterable[str]
) -> tuple[Appeal, Assignment]:
    """Lock the appeal, check its status, and that the actor heads the lead agency."""
    appeal = _lock(appeal_id)
    _check_transition(appeal, statuses)
    lead = _lead_assignment(appeal)
    if not permissions.is_member(actor, lead.agency_id, permissions.Role.HEAD):
        raise PermissionDenied
    return appeal, lead


def _end_assignments(appeal: Appeal) -> None:
    _active_assignments(appeal).update(is_active=False, ended_at=timezone.now())


@transaction.atomic
def route_appeal(
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    lead: Agency,
    co_executors: Iterable[Agency] = (),
    cover_note: str = "",
) -> Appeal:
    """A controller sends the appeal to the competent agency (and co-executors)."""
    if not permissions.can_route(actor):
        raise PermissionDenied
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.REGISTERED, Status.RE_REVIEW])
    co_executors = [agency for agency in co_executors if agency.pk != lead.pk]
    _end_assignments(appeal)
    Assignment.objects.bulk_create(
        [
            Assignment(
                appeal=appeal,
                agency=agency,
                role=role,
                cover_note=cover_note.strip(),
                routed_by=actor,
            )
            for agency, role in [
                (lead, Assignment.Role.LEAD),
                *((agency, Assignment.Role.CO_EXECUTOR) for agency in co_executors),
            ]
        ]
    )
    appeal.status = Status.ROUTED
    appeal.lead_agency = lead
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.ROUTED,
        actor=actor,
        data={
            "agency_id": lead.pk,
            "co_executor_ids": [agency.pk for agency in co_executors],
            "cover_note": cover_note.strip(),
        },
    )
    notifications.queue(appeal=appeal, template="routed")
    return appeal


@transaction.atomic
def forward_appeal(
    *, appeal_id: int, actor: AbstractBaseUser, body: str, letter_number: str
) -> Appeal:
    """A controller forwards the appeal to a body outside the system; it closes."""
    if not permissions.can_route(actor):
        raise PermissionDenied
    if not body.strip() or not letter_number.strip():
        raise ValidationError(_("Give the body and the outgoing letter number."))
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.REGISTERED, Status.ROUTED])
    _end_assignments(appeal)
    appeal.status = Status.CLOSED
    appeal.outcome = Outcome.FORWARDED
    appeal.forwarded_to = body.strip()
    appeal.forwarding_letter_number = letter_number.strip()
    appeal.closed_at = timezone.now()
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.FORWARDED,
        actor=actor,
        data={"body": appeal.forwarded_to, "letter_number": letter_number.strip()},
    )
    notifications.queue(appeal=appeal, template="forwarded")
    return appeal


@transaction.atomic
def assign_executor(
    *, appeal_id: int, actor: AbstractBaseUser, executor: AbstractBaseUser
) -> Appeal:
    """The agency head gives the appeal to an executor of the agency."""
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.ROUTED, Status.IN_PROGRESS])
    assignment = (
        _active_assignments(appeal)
        .filter(agency__in=permissions.agencies_with_role(actor, permissions.Role.HEAD))
        .first()
    )
    if assignment is None:
        raise PermissionDenied
    if not permissions.is_member(
        executor, assignment.agency_id, permissions.Role.EXECUTOR, permissions.Role.HEAD
    ):
        raise ValidationError(_("The executor must work in the agency."))
    assignment.executor = executor
    assignment.save(update_fields=["executor", "updated_at"])
    if assignment.role == Assignment.Role.LEAD:
        appeal.status = Status.IN_PROGRESS
        appeal.save(update_fields=["status", "updated_at"])
    record_event(
        appeal=appeal,
        type=Event.Type.ASSIGNED,
        actor=actor,
        data={"agency_id": assignment.agency_id, "executor_id": executor.pk},
        is_public=False,
    )
    return appeal


def _agency_worker(appeal: Appeal, actor: AbstractBaseUser) -> Assignment:
    """The active assignment through which the actor works on the appeal, if any."""
    for assignment in _active_assignments(appeal):
        if assignment.executor_id == actor.pk or permissions.is_member(
            actor, assignment.agency_id, permissions.Role.HEAD
        ):
            return assignment
    raise PermissionDenied


@transaction.atomic
def return_appeal(*, appeal_id: int, actor: AbstractBaseUser, reason: str) -> Appeal:
    """The lead agency's head returns the appeal as outside its competence."""
    if not reason.strip():
        raise ValidationError(
            _("Say why the appeal is outside the agency's competence.")
        )
    # Only the head decides that the whole agency is not competent.
    appeal, assignment = _lock_for_lead_head(
        appeal_id, actor, [Status.ROUTED, Status.IN_PROGRESS]
    )
    _end_assignments(appeal)
    Answer.objects.filter(appeal=appeal).exclude(state=Answer.State.APPROVED).delete()
    appeal.status = Status.REGISTERED
    appeal.lead_agency = None
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.RETURNED,
        actor=actor,
        data={"agency_id": assignment.agency_id, "reason": reason.strip()},
        is_public=False,
    )
    return appeal


@transaction.atomic
def add_contribution(
    *, appeal_id: int, actor: AbstractBaseUser, text: str
) -> Contribution:
    """A co-executor agency sends its input to the lead agency."""
    if not text.strip():
        raise ValidationError(_("Write the input for the lead agency."))
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.ROUTED, Status.IN_PROGRESS])
    assignment = _agency_worker(appeal, actor)
    if assignment.role != Assignment.Role.CO_EXECUTOR:
        raise PermissionDenied
    contribution = Contribution.objects.create(
        assignment=assignment, author=actor, text=text.strip()
    )
    record_event(
        appeal=appeal,
        type=Event.Type.CONTRIBUTED,
        actor=actor,
        data={"agency_id": assignment.agency_id},
        is_public=False,
    )
    return contribution


def _open_answer(appeal: Appeal) -> Answer | None:
    return (
        Answer.objects.select_for_update()
        .filter(appeal=appeal)
        .exclude(state=Answer.State.APPROVED)
        .first()
    )


@transaction.atomic
def save_answer_draft(
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    text: str,
    outcome: str,
    submit: bool = False,
) -> Answer:
    """The executor writes (and may submit for approval) the lead agency's answer."""
    if outcome not in dict(Answer.OUTCOMES):
        raise ValidationError(_("Choose the outcome of the answer."))
    if len(text.strip()) < 20:
        raise ValidationError(_("The answer must address the citizen's question."))
    appeal = _lock(appeal_id)
    _check_transition(appeal, [Status.IN_PROGRESS])
    assignment = _agency_worker(appeal, actor)
    if assignment.role != Assignment.Role.LEAD:
        raise PermissionDenied
    answer = _open_answer(appeal)
    if answer is not None and answer.state == Answer.State.SUBMITTED and not submit:
        raise ValidationError(_("The answer is waiting for the head's approval."))
    if answer is None:
        answer = Answer(appeal=appeal, agency_id=assignment.agency_id, author=actor)
    answer.text = text.strip()
    answer.outcome = outcome
    answer.author = actor
    answer.state = Answer.State.SUBMITTED if submit else Answer.State.DRAFT
    answer.save()
    if submit:
        record_event(
            appeal=appeal,
            type=Event.Type.ANSWER_SUBMITTED,
            actor=actor,
            is_public=False,
        )
    return answer


@transaction.atomic
def send_back_answer(
    *, appeal_id: int, actor: AbstractBaseUser, comment: str
) -> Answer:
    """The head sends the draft back to the executor with comments."""
    if not comment.strip():
        raise ValidationError(_("Write what must be changed."))
    appeal, _lead = _lock_for_lead_head(appeal_id, actor, [Status.IN_PROGRESS])
    answer = _open_answer(appeal)
    if answer is None or answer.state != Answer.State.SUBMITTED:
        raise ValidationError(_("There is no answer waiting for approval."))
    answer.state = Answer.State.RETURNED
    answer.review_comment = comment.strip()
    answer.save()
    record_event(
        appeal=appeal,
        type=Event.Type.ANSWER_SENT_BACK,
        actor=actor,
        data={"comment": comment.strip()},
        is_public=False,
    )
    return answer


def approve_answer(*, appeal_id: int, actor: AbstractBaseUser) -> Answer:
    """The head approves the answer: the letter is rendered on the agency's letterhead
    in the appeal's language, the appeal closes with the outcome, the citizen is told."""
    with _atomic_with_files():
        appeal, _lead = _lock_for_lead_head(appeal_id, actor, [Status.IN_PROGRESS])
        answer = _open_answer(appeal)
        if answer is None or answer.state != Answer.State.SUBMITTED:
            raise ValidationError(_("There is no answer waiting for approval."))
        now = timezone.now()
        answer.state = Answer.State.APPROVED
        answer.approved_by = actor
        answer.approved_at = now
        letter = letters.render_answer_letter(appeal=appeal, answer=answer)
        answer.letter.save(
            f"answer-{appeal.registration_number}.pdf", ContentFile(letter), save=False
        )
        _stored_files.get().append((answer.letter.storage, answer.letter.name))
        answer.save()
        # A re-review is upheld when the new answer supports what the earlier did not.
        ReReview.objects.filter(appeal=appeal, upheld__isnull=True).update(
            upheld=answer.outcome == Outcome.SUPPORTED, decided_at=now
        )
        appeal.status = Status.CLOSED
        appeal.outcome = answer.outcome
        appeal.closed_at = now
        # The assignments stay: the agency that answered keeps seeing its appeal (the
        # inbox lists only open ones); a re-review routes it afresh.
        appeal.save()
        record_event(
            appeal=appeal,
            type=Event.Type.ANSWERED,
            actor=actor,
            data={"answer_id": answer.pk, "outcome": answer.outcome},
        )
        notifications.queue(
            appeal=appeal,
            template="answered",
            extra={"answer": answer},
            attachment=answer.letter.name,
        )
        _answer_mass_members(appeal, answer, actor)
    return answer


def record_personal_data_access(
    *, appeal: Appeal, user: AbstractBaseUser, what: str, ip: str | None
) -> None:
    """Every opening of a citizen's personal data by staff is kept (who, when, where)."""
    PersonalDataAccess.objects.create(appeal=appeal, user=user, what=what, ip=ip)


@transaction.atomic
def extend_deadline(
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    reason: str,
    until: dt.date | None = None,
) -> Appeal:
    """The lead agency's head extends the review once, with a reason, within the limit
    the law sets (the extension rule); the citizen is told."""
    if not reason.strip():
        raise ValidationError(
            _("Give the reason for the extension; the citizen sees it.")
        )
    appeal, _lead = _lock_for_lead_head(
        appeal_id, actor, [Status.ROUTED, Status.IN_PROGRESS]
    )
    if appeal.extended_at is not None:
        raise ValidationError(
            _("The review of this appeal has already been extended once.")
        )
    rule = deadlines.rule_for("extension", on=appeal.due_on)
    latest = deadlines.due_date(appeal.due_on, rule)
    if until is not None and not appeal.due_on < until <= latest:
        raise ValidationError(
            _("The new date must be after %(due)s and no later than %(latest)s.")
            % {"due": appeal.due_on.isoformat(), "latest": latest.isoformat()}
        )
    previous = appeal.due_on
    appeal.due_on = until or latest
    appeal.extended_at = timezone.now()
    appeal.extension_reason = reason.strip()
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.EXTENDED,
        actor=actor,
        data={
            "reason": appeal.extension_reason,
            "from": previous.isoformat(),
            "to": appeal.due_on.isoformat(),
        },
    )
    notifications.queue(appeal=appeal, template="extended")
    return appeal


# --- The citizen's word on the answer ------------------------------------------------


def _latest_answer(appeal: Appeal) -> Answer:
    answer = (
        Answer.objects.filter(appeal=appeal, state=Answer.State.APPROVED)
        .order_by("-approved_at")
        .first()
    )
    if answer is None or not appeal.is_answered:
        raise ValidationError(_("This appeal has no answer to rate yet."))
    return answer


@transaction.atomic
def rate_answer(
    *, appeal_id: int, score: int, addressed: bool, comment: str = ""
) -> Rating:
    """The citizen (with the access code) rates the latest answer, once per answer."""
    if not 1 <= score <= 5:
        raise ValidationError(_("Choose a rating from 1 to 5."))
    appeal = _lock(appeal_id)
    answer = _latest_answer(appeal)
    if Rating.objects.filter(answer=answer).exists():
        raise ValidationError(_("You have already rated this answer."))
    rating = Rating.objects.create(
        answer=answer,
        appeal=appeal,
        score=score,
        addressed=addressed,
        comment=comment.strip()[:2000],
    )
    record_event(
        appeal=appeal,
        type=Event.Type.RATED,
        data={"score": score, "addressed": addressed},
        is_public=False,
    )
    return rating


@transaction.atomic
def request_re_review(*, appeal_id: int, reason: str) -> ReReview:
    """The citizen asks to review the answer again: within the set period after the
    answer, once per answer. The same appeal goes back to the controllers' queue with
    a new review deadline; the head of the agency that answered is told."""
    if len(reason.strip()) < 10:
        raise ValidationError(_("Explain why the answer does not satisfy you."))
    appeal = _lock(appeal_id)
    answer = _latest_answer(appeal)
    deadline = answer.approved_at + dt.timedelta(days=settings.RE_REVIEW_PERIOD_DAYS)
    if timezone.now() > deadline:
        raise ValidationError(
            _("A re-review can be asked for within %(days)s days of the answer.")
            % {"days": settings.RE_REVIEW_PERIOD_DAYS}
        )
    if ReReview.objects.filter(answer=answer).exists():
        raise ValidationError(
            _("A re-review of this answer has already been asked for.")
        )
    now = timezone.now()
    re_review = ReReview.objects.create(
        appeal=appeal, answer=answer, reason=reason.strip()
    )
    _end_assignments(appeal)
    appeal.status = Status.RE_REVIEW
    appeal.outcome = ""
    appeal.closed_at = None
    appeal.extended_at = None
    appeal.extension_reason = ""
    appeal.due_on = review_due_on(now)
    appeal.save()
    record_event(
        appeal=appeal,
        type=Event.Type.RE_REVIEW_REQUESTED,
        data={"reason": re_review.reason, "answer_id": answer.pk},
    )
    for membership in Membership.objects.filter(
        agency_id=answer.agency_id, role=Membership.Role.HEAD, user__is_active=True
    ).select_related("user__staff_profile"):
        notifications.queue_staff(
            user=membership.user,
            template="re_review",
            context={"appeal": appeal, "re_review": re_review},
            appeal=appeal,
            dedup_key=f"re_review:{re_review.pk}:{membership.user_id}",
        )
    return re_review


# --- Mass appeals ---------------------------------------------------------------------


@transaction.atomic
def group_mass_appeals(
    *, lead_id: int, member_ids: Iterable[int], actor: AbstractBaseUser
) -> list[Appeal]:
    """A controller groups appeals of many applicants on one matter with a lead appeal:
    one answer, approved once, goes to all of them."""
    if not permissions.can_route(actor):
        raise PermissionDenied
    open_statuses = [Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS]
    ids = sorted({int(i) for i in member_ids} - {lead_id})
    # Lock in id order, lead included, so two controllers grouping at once cannot
    # deadlock or split a group.
    locked = {
        a.pk: a
        for a in Appeal.objects.select_for_update()
        .filter(pk__in=[lead_id, *ids])
        .order_by("pk")
    }
    lead = locked.get(lead_id)
    if lead is None or lead.status not in open_statuses or lead.mass_lead_id:
        raise ValidationError(
            _("The lead appeal of a group must be open and not in a group.")
        )
    members = []
    for member_id in ids:
        member = locked.get(member_id)
        if member is None or member.status not in open_statuses or member.mass_lead_id:
            raise ValidationError(
                _("Appeal %(number)s cannot join the group.")
                % {"number": member.registration_number if member else member_id}
            )
        if member.mass_members.exists():
            raise ValidationError(_("A group's lead cannot join another group."))
        member.mass_lead = lead
        member.save(update_fields=["mass_lead", "updated_at"])
        record_event(
            appeal=member,
            type=Event.Type.GROUPED,
            actor=actor,
            data={"lead_id": lead.pk, "registration_number": lead.registration_number},
            is_public=False,
        )
        members.append(member)
    return members


def _answer_mass_members(lead: Appeal, answer: Answer, actor: AbstractBaseUser) -> int:
    """The lead's approved answer, for each open member of its group: its own answer
    row and letter in its own language, closed with the same outcome, notified."""
    members = Appeal.objects.select_for_update().filter(
        mass_lead=lead,
        status__in=[Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS],
    )
    count = 0
    for member in members:
        copy = Answer.objects.create(
            appeal=member,
            agency=answer.agency,
            author=answer.author,
            text=answer.text,
            outcome=answer.outcome,
            state=Answer.State.APPROVED,
            approved_by=actor,
            approved_at=answer.approved_at,
        )
        letter = letters.render_answer_letter(appeal=member, answer=copy)
        copy.letter.save(
            f"answer-{member.registration_number}.pdf", ContentFile(letter), save=False
        )
        _stored_files.get().append((copy.letter.storage, copy.letter.name))
        copy.save(update_fields=["letter"])
        member.status = Status.CLOSED
        member.outcome = answer.outcome
        member.closed_at = answer.approved_at
        member.save()
        record_event(
            appeal=member,
            type=Event.Type.ANSWERED,
            actor=actor,
            data={"answer_id": copy.pk, "outcome": copy.outcome, "mass_lead": lead.pk},
        )
        notifications.queue(
            appeal=member,
            template="answered",
            extra={"answer": copy},
            attachment=copy.letter.name,
        )
        count += 1
    return count
