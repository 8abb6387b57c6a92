"""Every change of an appeal goes through here: the row lock, the check of the
transition, the history event written in the same transaction, the log of who opened
personal data.
"""

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import (
    Appeal,
    Assignment,
    Event,
    PersonalDataAccess,
)
from appeals.notifications import callbacks
from appeals.register import permissions


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


def lock_appeal(appeal_id: int) -> Appeal:
    return Appeal.objects.select_for_update().get(pk=appeal_id)


def check_transition(appeal: Appeal, allowed: Iterable[str]) -> None:
    if appeal.status not in allowed:
        raise ValidationError(
            _("This appeal is %(status)s now; the action is no longer possible.")
            % {"status": appeal.get_status_display()},
            code="stale_status",
        )


def record_personal_data_access(
    *, appeal: Appeal, user: AbstractBaseUser, what: str, ip: str | None
) -> None:
    """Every opening of a citizen's personal data by staff is kept (who, when, where)."""
    PersonalDataAccess.objects.create(appeal=appeal, user=user, what=what, ip=ip)


def active_assignments(appeal: Appeal):
    return Assignment.objects.filter(appeal=appeal, is_active=True)


def lead_assignment(appeal: Appeal) -> Assignment:
    assignment = active_assignments(appeal).filter(role=Assignment.Role.LEAD).first()
    if assignment is None:
        raise ValidationError(_("This appeal is not with an agency now."))
    return assignment


def lock_for_lead_head(
    appeal_id: int, actor: AbstractBaseUser, statuses: Iterable[str]
) -> tuple[Appeal, Assignment]:
    """Lock the appeal, check its status, and that the actor heads the lead agency."""
    appeal = lock_appeal(appeal_id)
    check_transition(appeal, statuses)
    lead = lead_assignment(appeal)
    if not permissions.is_member(actor, lead.agency_id, permissions.Role.HEAD):
        raise PermissionDenied
    return appeal, lead


def end_assignments(appeal: Appeal) -> None:
    active_assignments(appeal).update(is_active=False, ended_at=timezone.now())


def agency_worker(appeal: Appeal, actor: AbstractBaseUser) -> Assignment:
    """The active assignment through which the actor works on the appeal, if any."""
    for assignment in active_assignments(appeal):
        if assignment.executor_id == actor.pk or permissions.is_member(
            actor, assignment.agency_id, permissions.Role.HEAD
        ):
            return assignment
    raise PermissionDenied
