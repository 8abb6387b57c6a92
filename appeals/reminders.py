"""The deadline sweeps: reminders to executors 3 and 1 working days before the due
date, missed deadlines flagged and escalated to the agency head and the chancellery's
controllers, and the heads' weekly digest.

Set-based (a few queries whatever the number of appeals) and idempotent: each notice
carries a dedup key and each escalation is marked on the appeal, so running a sweep
twice sends nothing twice.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agencies.models import Membership

from . import deadlines, notifications, selectors
from .models import Appeal, Assignment, Event, Status

OPEN = [Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS, Status.RE_REVIEW]
REMINDER_WORKING_DAYS = (3, 1)
Role = Membership.Role


def daily_sweep(*, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    return {
        "reminders": send_reminders(today=today),
        "escalated": escalate_overdue(today=today),
    }


def send_reminders(*, today: dt.date) -> int:
    calendar = deadlines.default_calendar()
    sent = 0
    for days in REMINDER_WORKING_DAYS:
        target = deadlines.add_working_days(today, days, calendar)
        assignments = Assignment.objects.filter(
            is_active=True,
            executor__isnull=False,
            appeal__status__in=OPEN,
            appeal__due_on=target,
        ).select_related("appeal", "executor__staff_profile")
        for assignment in assignments.iterator(chunk_size=500):
            appeal = assignment.appeal
            with transaction.atomic():
                sent += bool(
                    notifications.queue_staff(
                        user=assignment.executor,
                        template="reminder",
                        context={"appeal": appeal, "days": days},
                        appeal=appeal,
                        dedup_key=(
                            f"reminder:{days}:{appeal.pk}:{appeal.due_on}:"
                            f"{assignment.executor_id}"
                        ),
                    )
                )
    return sent


def escalate_overdue(*, today: dt.date) -> int:
    """Flag each newly missed deadline once and tell those who must act."""
    missed = (
        Appeal.objects.filter(status__in=OPEN, due_on__lt=today)
        .exclude(escalated_for=F("due_on"))
        .select_related("lead_agency", "registering_agency")
    )
    escalated = 0
    for appeal in missed.iterator(chunk_size=500):
        with transaction.atomic():
            locked = (
                Appeal.objects.select_for_update()
                .filter(pk=appeal.pk, status__in=OPEN, due_on__lt=today)
                .exclude(escalated_for=F("due_on"))
                .first()
            )
            if locked is None:  # a parallel sweep, or the appeal moved on
                continue
            Event.objects.create(
                appeal=locked,
                type=Event.Type.OVERDUE,
                data={"due_on": locked.due_on.isoformat()},
                is_public=False,
            )
            Appeal.objects.filter(pk=locked.pk).update(escalated_for=locked.due_on)
            for user in _escalation_recipients(locked):
                notifications.queue_staff(
                    user=user,
                    template="overdue",
                    context={"appeal": locked},
                    appeal=locked,
                    dedup_key=f"overdue:{locked.pk}:{locked.due_on}:{user.pk}",
                )
            escalated += 1
    return escalated


def _escalation_recipients(appeal: Appeal):
    agencies = [appeal.registering_agency_id]
    memberships = Membership.objects.filter(
        agency_id__in=agencies, role=Role.CONTROLLER
    )
    if appeal.lead_agency_id:
        memberships = memberships | Membership.objects.filter(
            agency_id=appeal.lead_agency_id, role=Role.HEAD
        )
    users = {m.user for m in memberships.select_related("user__staff_profile")}
    return sorted((u for u in users if u.is_active), key=lambda u: u.pk)


def weekly_digest(*, today: dt.date | None = None) -> int:
    """Each agency head gets the week's figures of their inbox, once per ISO week."""
    today = today or timezone.localdate()
    year, week, _ = today.isocalendar()
    sent = 0
    heads = Membership.objects.filter(
        role=Role.HEAD, user__is_active=True
    ).select_related("user__staff_profile", "agency")
    for membership in heads:
        counts = selectors.inbox_counts(user=membership.user, agency=membership.agency)
        with transaction.atomic():
            sent += bool(
                notifications.queue_staff(
                    user=membership.user,
                    template="digest",
                    context={"agency": membership.agency, "counts": counts},
                    dedup_key=f"digest:{membership.pk}:{year}-W{week:02d}",
                )
            )
    return sent
