"""The retention period of personal data: what is removed from appeals closed longer
ago than PERSONAL_DATA_RETENTION_DAYS, and what stays.

Removed: the applicant's name, address, phone and e-mail with their look-up keys, the
text of the appeal, the access code (the tracking page no longer opens), every
attachment (the citizen's files and the scan of the original, files deleted from
storage), the answer letter PDF (it is addressed to the applicant by name and address),
the citizen's own words elsewhere (rating comments, re-review reasons, the texts added
after filing, the reason given for a withdrawal, and those reasons kept in the events), the citizen's notifications (address and text), and the
records of which staff member opened personal data once they are older than the period.

Kept, because they are the state's record or the figures: the register (numbers,
dates, channel, form, kind, topic, agencies, statuses, outcomes, deadlines), the
number of signatories, the text of the answer (the body's own document, kept with the
register), the staff's notes and the history. The intake report, open statistics and
ratings read only what is kept, so they do not change.

Works in batches of locked rows (SKIP LOCKED: a clerk's open appeal is left for the
next run), each batch one transaction with its Events; files are deleted after the
batch commits, so a rollback never leaves a row pointing at a removed file.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from appeals.models import (
    Addition,
    Answer,
    Appeal,
    Attachment,
    Event,
    Notification,
    Outcome,
    PersonalDataAccess,
    Rating,
    ReReview,
    Status,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass(frozen=True)
class RetentionResult:
    appeals: int  # appeals whose personal data was (or, dry run, would be) removed
    files: int  # files deleted from storage
    access_records: int  # personal-data access records removed
    cutoff: dt.datetime
    dry_run: bool


def retention_cutoff(*, older_than_days: int, now: dt.datetime | None = None):
    return (now or timezone.now()) - dt.timedelta(days=older_than_days)


def _expired(cutoff: dt.datetime):
    return Appeal.objects.filter(
        status=Status.CLOSED,
        closed_at__lt=cutoff,
        personal_data_removed_at__isnull=True,
    )


def remove_expired_personal_data(
    *,
    older_than_days: int | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
) -> RetentionResult:
    """Remove the personal data of appeals closed before the retention period."""
    if older_than_days is None:
        older_than_days = settings.PERSONAL_DATA_RETENTION_DAYS
    if older_than_days < 1:
        raise ValueError("the retention period is at least one day")
    now = now or timezone.now()
    cutoff = retention_cutoff(older_than_days=older_than_days, now=now)
    if dry_run:
        return RetentionResult(
            appeals=_expired(cutoff).count(),
            files=Attachment.objects.filter(appeal__in=_expired(cutoff)).count()
            + Answer.objects.filter(appeal__in=_expired(cutoff))
            .exclude(letter="")
            .count(),
            access_records=PersonalDataAccess.objects.filter(at__lt=cutoff).count(),
            cutoff=cutoff,
            dry_run=True,
        )
    appeals = files = 0
    while True:
        removed, batch_files = _remove_batch(
            cutoff=cutoff, now=now, older_than_days=older_than_days, size=batch_size
        )
        appeals += removed
        files += batch_files
        if removed < batch_size:
            break
    access_records = _remove_access_records(cutoff=cutoff, size=batch_size)
    logger.info(
        "retention: personal data removed from %s appeals closed before %s "
        "(%s files, %s access records)",
        appeals,
        cutoff.isoformat(),
        files,
        access_records,
    )
    return RetentionResult(
        appeals=appeals,
        files=files,
        access_records=access_records,
        cutoff=cutoff,
        dry_run=False,
    )


def _remove_batch(
    *, cutoff: dt.datetime, now: dt.datetime, older_than_days: int, size: int
) -> tuple[int, int]:
    with transaction.atomic():
        ids = list(
            _expired(cutoff)
            .order_by("closed_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return 0, 0
        file_names = list(
            Attachment.objects.filter(appeal_id__in=ids).values_list("file", flat=True)
        )
        file_names += list(
            Answer.objects.filter(appeal_id__in=ids)
            .exclude(letter="")
            .values_list("letter", flat=True)
        )
        Attachment.objects.filter(appeal_id__in=ids).delete()
        Answer.objects.filter(appeal_id__in=ids).exclude(letter="").update(letter="")
        Rating.objects.filter(appeal_id__in=ids).exclude(comment="").update(comment="")
        ReReview.objects.filter(appeal_id__in=ids).update(reason="")
        Addition.objects.filter(appeal_id__in=ids).exclude(text="").update(text="")
        Appeal.objects.filter(pk__in=ids, outcome=Outcome.WITHDRAWN).update(
            outcome_reason=""
        )
        Event.objects.filter(
            appeal_id__in=ids,
            type__in=[Event.Type.RE_REVIEW_REQUESTED, Event.Type.WITHDRAWN],
            data__has_key="reason",
        ).update(data={})
        Notification.objects.filter(appeal_id__in=ids, user__isnull=True).update(
            recipient="", body="", attachment=""
        )
        Appeal.objects.filter(pk__in=ids).update(
            applicant_name="",
            applicant_address="",
            applicant_phone="",
            applicant_email="",
            applicant_name_key="",
            applicant_phone_key="",
            text="",
            access_code_hash="",
            personal_data_removed_at=now,
        )
        Event.objects.bulk_create(
            Event(
                appeal_id=pk,
                type=Event.Type.PERSONAL_DATA_REMOVED,
                at=now,
                data={"retention_days": older_than_days},
                is_public=False,
            )
            for pk in ids
        )
        names = [name for name in file_names if name]
        transaction.on_commit(lambda: _delete_files(names))
    return len(ids), len(names)


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            # The row is gone already; a file left behind is found by its name.
            logger.exception("retention: could not delete file %s", name)


def _remove_access_records(*, cutoff: dt.datetime, size: int) -> int:
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                PersonalDataAccess.objects.filter(at__lt=cutoff)
                .order_by("at", "pk")
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                return removed
            removed += PersonalDataAccess.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < size:
            return removed
