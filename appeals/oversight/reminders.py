"""The deadline sweeps: reminders to executors 3 and 1 working days before the due
date, missed deadlines flagged and escalated to the agency head and the chancellery's
controllers, and the heads' weekly digest.

Set-based (a few queries whatever the number of appeals) and idempotent: each notice
carries a dedup key and each escalation is marked on the appeal, so running a sweep
twice sends nothing twice.
"""

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agencies.models import Membership
from appeals.casework import worklists
from appeals.deadlines import calendar as deadlines
from appeals.models import Appeal, Assignment, Event, Status
from appeals.notifications import outbox as notifications

OPEN = [Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS, Status.RE_REVIEW]
REMINDER_WORKING_DAYS = (3, 1)
Role = Membership.Role
BATCH = 1000
# Long columns no notice reads, left out of the sweeps' queries.
_APPEAL_TEXT_FIELDS = ("text", "outcome_reason", "backdate_reason", "applicant_address")


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
        assignments = (
            Assignment.objects.filter(
                is_active=True,
                executor__isnull=False,
                appeal__status__in=OPEN,
                appeal__due_on=target,
            )
            # What the reminder's text reads, in the one query: no query per notice.
            .select_related("appeal__lead_agency", "executor__staff_profile")
            .defer(*(f"appeal__{name}" for name in _APPEAL_TEXT_FIELDS))
            .order_by("pk")
        )
        sent += notifications.queue_staff_many(
            notifications.StaffNotice(
                user=assignment.executor,
                template="reminder",
                context={"appeal": assignment.appeal, "days": days},
                appeal=assignment.appeal,
                dedup_key=(
                    f"reminder:{days}:{assignment.appeal_id}:"
                    f"{assignment.appeal.due_on}:{assignment.executor_id}"
                ),
            )
            for assignment in assignments.iterator(chunk_size=BATCH)
        )
    return sent


def escalate_overdue(*, today: dt.date) -> int:
    """Flag each newly missed deadline once and tell those who must act.

    A batch at a time, each its own transaction: its appeals locked (in the order of
    their ids, as a parallel sweep locks them) and checked again, marked with one
    UPDATE, their events and notices written in bulk."""
    missed = list(
        Appeal.objects.filter(status__in=OPEN, due_on__lt=today)
        .exclude(escalated_for=F("due_on"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    recipients = _EscalationRecipients()
    escalated = 0
    for start in range(0, len(missed), BATCH):
        with transaction.atomic():
            locked = list(
                Appeal.objects.select_for_update(of=("self",))
                .filter(pk__in=missed[start : start + BATCH])
                # A parallel sweep, or the appeal moved on: no longer to escalate.
                .filter(status__in=OPEN, due_on__lt=today)
                .exclude(escalated_for=F("due_on"))
                .select_related("lead_agency")
                .defer(*_APPEAL_TEXT_FIELDS)
                .order_by("pk")
            )
            if not locked:
                continue
            Appeal.objects.filter(pk__in=[a.pk for a in locked]).update(
                escalated_for=F("due_on")
            )
            Event.objects.bulk_create(
                Event(
                    appeal=appeal,
                    type=Event.Type.OVERDUE,
                    data={"due_on": appeal.due_on.isoformat()},
                    is_public=False,
                )
                for appeal in locked
            )
            notifications.queue_staff_many(
                notifications.StaffNotice(
                    user=user,
                    template="overdue",
                    context={"appeal": appeal},
                    appeal=appeal,
                    dedup_key=f"overdue:{appeal.pk}:{appeal.due_on}:{user.pk}",
                )
                for appeal in locked
                for user in recipients.of(appeal)
            )
            escalated += len(locked)
    return escalated


class _EscalationRecipients:
    """The chancellery's controllers of the registering agency and the head of the lead
    agency, active users only, read in one query for the whole sweep."""

    def __init__(self) -> None:
        self.controllers: dict[int, dict] = defaultdict(dict)
        self.heads: dict[int, dict] = defaultdict(dict)
        memberships = Membership.objects.filter(
            role__in=[Role.CONTROLLER, Role.HEAD], user__is_active=True
        ).select_related("user__staff_profile")
        for membership in memberships:
            by_agency = (
                self.controllers if membership.role == Role.CONTROLLER else self.heads
            )
            by_agency[membership.agency_id][membership.user_id] = membership.user

    def of(self, appeal: Appeal) -> list:
        users = dict(self.controllers.get(appeal.registering_agency_id, {}))
        if appeal.lead_agency_id:
            users.update(self.heads.get(appeal.lead_agency_id, {}))
        return [users[pk] for pk in sorted(users)]


def weekly_digest(*, today: dt.date | None = None) -> int:
    """Each agency head gets the week's figures of their inbox, once per ISO week."""
    today = today or timezone.localdate()
    year, week, _ = today.isocalendar()
    sent = 0
    heads = Membership.objects.filter(
        role=Role.HEAD, user__is_active=True
    ).select_related("user__staff_profile", "agency")
    for membership in heads:
        counts = worklists.inbox_counts(user=membership.user, agency=membership.agency)
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
