"""The citizen adds a text and files to an open appeal (from the tracking page, or an
API client with the `file` scope on their behalf). The addition is its own history
entry; the executor and the head are told; the deadline stays as it is."""

import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import ApiClient, Membership
from appeals.intake import filing
from appeals.models import Addition, Appeal, Assignment, Event, Status
from appeals.notifications import outbox as notifications
from appeals.register import state, storage


def can_add(appeal: Appeal) -> bool:
    """Until the answer is approved (then a re-review is the way); never to a closed
    appeal (answered, forwarded, left without consideration, withdrawn)."""
    return appeal.status != Status.CLOSED


def add_to_appeal(
    *,
    appeal_id: int,
    text: str,
    submission_key: uuid.UUID | None = None,
    files: Iterable[filing.NewAttachment] = (),
    api_client: ApiClient | None = None,
) -> Addition:
    """Record the addition with the files staged under `submission_key` (the web
    form's) and `files` (the API's), in one transaction with its history entry;
    exactly once per `submission_key`."""
    text = text.strip()
    files = list(files)
    with storage.atomic_with_files():
        appeal = state.lock_appeal(appeal_id)
        if submission_key is not None:
            # The same form sent twice (a double click, a retry): the appeal's lock
            # orders the two, and the second finds the first's addition.
            earlier = Addition.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                return earlier
        if not can_add(appeal):
            raise ValidationError(
                _(
                    "This appeal is closed, so nothing can be added to it. If it was "
                    "answered, you can ask for a re-review; otherwise send a new "
                    "appeal that cites this one."
                ),
                code="closed",
            )
        addition = Addition.objects.create(
            appeal=appeal,
            text=text,
            added_at=timezone.now(),
            submission_key=submission_key,
            api_client=api_client,
        )
        if submission_key is not None:
            filing.attach_staged(appeal, submission_key, addition=addition)
        filing.save_attachments(appeal, files, addition=addition)
        count = addition.attachments.count()
        if not text and not count:
            raise ValidationError(_("Write a text or attach a file to add."))
        state.record_event(
            appeal=appeal,
            type=Event.Type.ADDED_BY_CITIZEN,
            at=addition.added_at,
            data={"addition_id": addition.pk, "files": count},
        )
        for user in people_to_tell(appeal):
            notifications.queue_staff(
                user=user,
                template="addition",
                context={"appeal": appeal, "addition": addition, "files": count},
                appeal=appeal,
                dedup_key=f"addition:{addition.pk}:{user.pk}",
            )
    return addition


def people_to_tell(appeal: Appeal) -> list:
    """The executors of the appeal's active assignments and the heads of their
    agencies (lead and co-executors), each once."""
    assignments = list(
        Assignment.objects.filter(appeal=appeal, is_active=True).select_related(
            "executor__staff_profile"
        )
    )
    people = {a.executor.pk: a.executor for a in assignments if a.executor_id}
    heads = Membership.objects.filter(
        agency_id__in={a.agency_id for a in assignments},
        role=Membership.Role.HEAD,
        user__is_active=True,
    ).select_related("user__staff_profile")
    for membership in heads:
        people.setdefault(membership.user.pk, membership.user)
    return list(people.values())
