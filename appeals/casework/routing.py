"""Routing: the lead agency and co-executors, forwarding outside the portal, the executor
assigned, an appeal returned as outside the agency's competence.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from appeals.models import (
    Answer,
    Appeal,
    Assignment,
    Event,
    Outcome,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import permissions, state


@transaction.atomic
def route_appeal(
    *,
    appeal_id: int,
    actor: AbstractBaseUser | None,
    lead: Agency,
    co_executors: Iterable[Agency] = (),
    cover_note: str = "",
    by_suggestion: float | None = None,
) -> Appeal:
    """A controller sends the appeal to the competent agency (and co-executors).

    `by_suggestion`: the probability with which the routing model routed it without a
    person (appeals.suggestions.routing, only to an agency that opted in); then there
    is no actor."""
    if by_suggestion is None and not permissions.can_route(actor):
        raise PermissionDenied
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.REGISTERED, Status.RE_REVIEW])
    co_executors = [agency for agency in co_executors if agency.pk != lead.pk]
    state.end_assignments(appeal)
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
    state.record_event(
        appeal=appeal,
        type=Event.Type.ROUTED,
        actor=actor,
        data={
            "agency_id": lead.pk,
            "co_executor_ids": [agency.pk for agency in co_executors],
            "cover_note": cover_note.strip(),
            **({"by_suggestion": by_suggestion} if by_suggestion is not None else {}),
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
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.REGISTERED, Status.ROUTED])
    state.end_assignments(appeal)
    appeal.status = Status.CLOSED
    appeal.outcome = Outcome.FORWARDED
    appeal.forwarded_to = body.strip()
    appeal.forwarding_letter_number = letter_number.strip()
    appeal.closed_at = timezone.now()
    appeal.save()
    state.record_event(
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
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.ROUTED, Status.IN_PROGRESS])
    assignment = (
        state.active_assignments(appeal)
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
    state.record_event(
        appeal=appeal,
        type=Event.Type.ASSIGNED,
        actor=actor,
        data={"agency_id": assignment.agency_id, "executor_id": executor.pk},
        is_public=False,
    )
    return appeal


@transaction.atomic
def return_appeal(*, appeal_id: int, actor: AbstractBaseUser, reason: str) -> Appeal:
    """The lead agency's head returns the appeal as outside its competence."""
    if not reason.strip():
        raise ValidationError(
            _("Say why the appeal is outside the agency's competence.")
        )
    # Only the head decides that the whole agency is not competent.
    appeal, assignment = state.lock_for_lead_head(
        appeal_id, actor, [Status.ROUTED, Status.IN_PROGRESS]
    )
    state.end_assignments(appeal)
    Answer.objects.filter(appeal=appeal).exclude(state=Answer.State.APPROVED).delete()
    appeal.status = Status.REGISTERED
    appeal.lead_agency = None
    appeal.save()
    state.record_event(
        appeal=appeal,
        type=Event.Type.RETURNED,
        actor=actor,
        data={"agency_id": assignment.agency_id, "reason": reason.strip()},
        is_public=False,
    )
    return appeal
