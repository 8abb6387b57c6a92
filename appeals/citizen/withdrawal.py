"""The citizen withdraws an appeal that is not yet answered: it closes with the outcome
`withdrawn` (counted as received in every report, its own line among the outcomes),
every open assignment ends, staff are told, and the citizen gets a confirmation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.citizen.additions import people_to_tell
from appeals.models import Appeal, Event, Outcome, Status
from appeals.notifications import outbox as notifications
from appeals.register import state

REASON_MAX = 2000


def can_withdraw(appeal: Appeal) -> bool:
    """Any appeal still open; a closed one (answered or not) stays as it is."""
    return appeal.status != Status.CLOSED


@transaction.atomic
def withdraw_appeal(*, appeal_id: int, reason: str = "") -> Appeal:
    reason = reason.strip()[:REASON_MAX]
    appeal = state.lock_appeal(appeal_id)
    if not can_withdraw(appeal):
        raise ValidationError(
            _("This appeal is closed already and cannot be withdrawn."),
            code="closed",
        )
    to_tell = people_to_tell(appeal)  # before their assignments end
    state.end_assignments(appeal)
    appeal.status = Status.CLOSED
    appeal.outcome = Outcome.WITHDRAWN
    appeal.outcome_reason = reason
    appeal.closed_at = timezone.now()
    appeal.save()
    state.record_event(
        appeal=appeal,
        type=Event.Type.WITHDRAWN,
        at=appeal.closed_at,
        data={"reason": reason} if reason else {},
    )
    for user in to_tell:
        notifications.queue_staff(
            user=user,
            template="withdrawn",
            context={"appeal": appeal},
            appeal=appeal,
            dedup_key=f"withdrawn:{appeal.pk}:{user.pk}",
        )
    notifications.queue(appeal=appeal, template="withdrawn")
    return appeal
