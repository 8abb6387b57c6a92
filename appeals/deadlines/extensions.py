"""The review's deadline: set on registration from the rule in force, extended with a
reason within the law's limit.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.deadlines import calendar as deadlines
from appeals.models import (
    Appeal,
    Event,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import state


def review_due_on(registered_at: dt.datetime) -> dt.date:
    """The last day of the review: the rule in force when registration happened."""
    start = deadlines.counting_start(registered_at)
    return deadlines.due_date(start, deadlines.rule_for("review", on=start))


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
    appeal, _lead = state.lock_for_lead_head(
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
    state.record_event(
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
