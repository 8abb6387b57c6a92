"""The citizen's filing: files staged as they arrive, the submission written exactly once
per form, the access code (issued anew when an API client retries).
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Topic
from appeals.intake import flags, uploads
from appeals.models import (
    Addition,
    Appeal,
    Attachment,
    Channel,
    ConsentVersion,
    Event,
    Form,
    StagedUpload,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import codes, matching, state, storage
from portal import filestore
from portal.prepared import PreparedQuery


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


def save_attachments(
    appeal: Appeal, files: Iterable[NewAttachment], *, addition: Addition | None = None
) -> None:
    for item in files:
        attachment = Attachment(
            appeal=appeal,
            addition=addition,
            purpose=item.purpose,
            original_name=item.name[:255],
            content_type=item.content_type,
            size=len(item.content),
            sha256=hashlib.sha256(item.content).hexdigest(),
        )
        # Stored under the detected type's extension, never the sender's name.
        filestore.save(
            attachment.file,
            uploads.storage_name(uploads.extension_of(item.content_type)),
            ContentFile(item.content),
        )
        # Django has no on-rollback hook: remember the file so a failed transaction
        # does not leave it orphaned in storage.
        storage.remember(attachment.file.storage, attachment.file.name)
        attachment.save()


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
    try:
        filestore.save(
            item.file,
            uploads.storage_name(checked.extension),
            upload,
            what="staging an upload",
        )
    except filestore.StorageUnavailable as exc:
        # Nothing was kept: the form comes back with its text to try again.
        raise ValidationError(
            _(
                "We could not store the file %(name)s just now. Your text is kept: "
                "please choose the file again and send the form in a few minutes."
            )
            % {"name": checked.name}
        ) from exc
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


def attach_staged(
    appeal: Appeal,
    submission_key: uuid.UUID,
    purpose: str = Attachment.Purpose.CITIZEN,
    *,
    addition: Addition | None = None,
) -> None:
    """The staged files become the appeal's attachments (or an addition's), without
    copying them."""
    staged = _STAGED_FOR_UPDATE(key=submission_key)
    if not staged:  # most appeals: building the empty insert and delete costs ~1 ms
        return
    _attachments_from_staged(appeal, staged, purpose, addition=addition)
    StagedUpload.objects.filter(pk__in=[item.pk for item in staged]).delete()


def _attachments_from_staged(
    appeal: Appeal,
    staged: Iterable[StagedUpload],
    purpose: str,
    *,
    addition: Addition | None = None,
) -> None:
    Attachment.objects.bulk_create(
        Attachment(
            appeal=appeal,
            addition=addition,
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
        appeal = state.lock_appeal(appeal.pk)
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
    # Hints for the clerk (appeals.intake.flags), with no query: the repeat of an
    # answered appeal is looked for when the clerk registers it.
    arrival_flags = flags.flags_on_arrival(
        name=applicant_name,
        address=applicant_address,
        phone=applicant_phone,
        email=applicant_email,
        text=text,
        check_repeat=False,
    )
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
                    **matching.applicant_fields(
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
                    "flags": arrival_flags,
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
    with storage.atomic_with_files():
        appeal = Appeal.objects.create(
            tracking_number=tracking_number,
            access_code_hash=codes.hash_access_code(access_code),
            submission_key=submission_key,
            channel=Channel.PORTAL,
            form=Form.WRITTEN,
            status=Status.SUBMITTED,
            received_at=received_at,
            received_on=state.local_date(received_at),
            consent_at=received_at,
            # The consent text in effect as the appeal arrives, chosen inside the
            # insert itself: the busiest write gains no query.
            consent_version_id=Subquery(
                ConsentVersion.objects.filter(effective_from__lte=received_at)
                .order_by("-effective_from")
                .values("pk")[:1]
            ),
            **fields,
        )
        # The attribute still holds the expression: left unloaded (as a deferred
        # field is), it is read back from the row only if something asks for it.
        vars(appeal).pop("consent_version_id")
        attach_staged(appeal, submission_key)
        save_attachments(appeal, files)
        state.record_event(appeal=appeal, type=Event.Type.SUBMITTED, at=received_at)
        notifications.queue(appeal=appeal, template="receipt")
    return appeal


@transaction.atomic
def reissue_access_code(*, appeal: Appeal, actor: AbstractBaseUser | None) -> str:
    """A new access code for the appeal; the earlier one stops working. For an API
    client's retry, whose first answer carried a code that is never stored."""
    appeal = state.lock_appeal(appeal.pk)
    code = codes.new_access_code()
    appeal.access_code_hash = codes.hash_access_code(code)
    appeal.save(update_fields=["access_code_hash", "updated_at"])
    state.record_event(
        appeal=appeal,
        type=Event.Type.ACCESS_CODE_REISSUED,
        actor=actor,
        is_public=False,
    )
    return code


def unique_tracking_number() -> str:
    for _attempt in range(TRACKING_ATTEMPTS):
        number = codes.new_tracking_number()
        if not Appeal.objects.filter(tracking_number=number).exists():
            return number
    raise RuntimeError("could not draw a free tracking number")  # 2**50 space
