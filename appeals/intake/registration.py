"""The clerks' registration: portal submissions registered, paper and oral appeals
registered, repeats linked, appeals left without consideration, archival appeals
imported.
"""

import datetime as dt
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Topic
from appeals.deadlines import extensions
from appeals.intake import filing, flags
from appeals.models import (
    Appeal,
    Attachment,
    Event,
    InadmissibilityGround,
    Outcome,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import codes, matching, numbering, permissions, state, storage


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
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.SUBMITTED])
    now = timezone.now()
    appeal.registration_number = numbering.next_registration_number(
        agency=agency, year=appeal.received_on.year
    )
    appeal.registering_agency = agency
    appeal.registered_at = now
    appeal.registered_by = actor
    appeal.status = Status.REGISTERED
    appeal.due_on = extensions.review_due_on(now)
    # The filing left the repeat check to this moment (appeals.intake.flags).
    appeal.flags = flags.with_repeat(
        appeal.flags,
        flags.answered_repeat_of(
            name=appeal.applicant_name,
            phone=appeal.applicant_phone,
            email=appeal.applicant_email,
            text=appeal.text,
        ),
    )
    appeal.save()
    state.record_event(
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
    state.record_event(
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
    appeal = state.lock_appeal(appeal_id)
    _link_repeat(appeal, Appeal.objects.get(pk=earlier_id), actor)
    return appeal


@transaction.atomic
def leave_without_consideration(
    *, appeal_id: int, actor: AbstractBaseUser, ground: str, reason: str
) -> Appeal:
    """Close an appeal the law lets a body leave unconsidered, on one of its legal
    grounds; the citizen is told the ground and the explanation."""
    if not permissions.can_leave_without_consideration(actor):
        raise PermissionDenied
    if ground not in InadmissibilityGround.values:
        raise ValidationError(_("Choose the legal ground."))
    if not reason.strip():
        raise ValidationError(_("Give the reason the citizen will see."))
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.SUBMITTED, Status.REGISTERED])
    appeal.status = Status.CLOSED
    appeal.outcome = Outcome.LEFT_WITHOUT_CONSIDERATION
    appeal.inadmissibility_ground = ground
    appeal.outcome_reason = reason.strip()
    appeal.closed_at = timezone.now()
    appeal.save()
    state.record_event(
        appeal=appeal,
        type=Event.Type.LEFT_WITHOUT_CONSIDERATION,
        actor=actor,
        data={"ground": ground, "reason": appeal.outcome_reason},
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
    files: Iterable[filing.NewAttachment] = (),
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
    received_on = state.local_date(received_at)
    access_code = codes.new_access_code()
    arrival_flags = flags.flags_on_arrival(
        name=applicant_name,
        address=applicant_address,
        phone=applicant_phone,
        email=applicant_email,
        text=text,
    )
    with storage.atomic_with_files():
        now = timezone.now()
        appeal = Appeal.objects.create(
            submission_key=submission_key,
            tracking_number=filing.unique_tracking_number(),
            access_code_hash=codes.hash_access_code(access_code),
            registration_number=numbering.next_registration_number(
                agency=agency, year=received_on.year
            ),
            registering_agency=agency,
            registered_at=now,
            registered_by=actor,
            due_on=extensions.review_due_on(now),
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
            **matching.applicant_fields(
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
            flags=arrival_flags,
        )
        if submission_key is not None:
            filing.attach_staged(
                appeal, submission_key, purpose=Attachment.Purpose.SCAN
            )
        filing.save_attachments(appeal, files)
        state.record_event(
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
        numbering.note_registration_number(
            agency=agency, year=received_on.year, number=registration_number
        )
    appeal = Appeal.objects.create(
        tracking_number=filing.unique_tracking_number(),
        registration_number=registration_number
        or numbering.next_registration_number(agency=agency, year=received_on.year),
        registering_agency=agency,
        registered_at=received_at,
        channel=channel,
        delivery=delivery,
        form=form,
        kind=kind,
        status=Status.CLOSED,
        received_at=received_at,
        received_on=received_on,
        **matching.applicant_fields(name=applicant_name),
        text=text,
        is_imported=True,
        closed_at=received_at,
    )
    state.record_event(
        appeal=appeal,
        type=Event.Type.IMPORTED,
        actor=actor,
        data={"registration_number": appeal.registration_number},
        is_public=False,
    )
    return appeal
