"""Answers: co-executors' input, drafts, sending back, approval (the letter and the
notice), ratings, re-review, mass appeals answered together.
"""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Membership
from appeals.casework import letters
from appeals.deadlines import extensions
from appeals.models import (
    Answer,
    Appeal,
    Assignment,
    Contribution,
    Event,
    IssuedDocument,
    Outcome,
    Rating,
    ReReview,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import issuing, permissions, state, storage
from portal.signing import SigningError


@transaction.atomic
def add_contribution(
    *, appeal_id: int, actor: AbstractBaseUser, text: str
) -> Contribution:
    """A co-executor agency sends its input to the lead agency."""
    if not text.strip():
        raise ValidationError(_("Write the input for the lead agency."))
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.ROUTED, Status.IN_PROGRESS])
    assignment = state.agency_worker(appeal, actor)
    if assignment.role != Assignment.Role.CO_EXECUTOR:
        raise PermissionDenied
    contribution = Contribution.objects.create(
        assignment=assignment, author=actor, text=text.strip()
    )
    state.record_event(
        appeal=appeal,
        type=Event.Type.CONTRIBUTED,
        actor=actor,
        data={"agency_id": assignment.agency_id},
        is_public=False,
    )
    return contribution


def _open_answer(appeal: Appeal) -> Answer | None:
    return (
        Answer.objects.select_for_update()
        .filter(appeal=appeal)
        .exclude(state=Answer.State.APPROVED)
        .first()
    )


@transaction.atomic
def save_answer_draft(
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    text: str,
    outcome: str,
    submit: bool = False,
) -> Answer:
    """The executor writes (and may submit for approval) the lead agency's answer."""
    if outcome not in dict(Answer.OUTCOMES):
        raise ValidationError(_("Choose the outcome of the answer."))
    if len(text.strip()) < 20:
        raise ValidationError(_("The answer must address the citizen's question."))
    appeal = state.lock_appeal(appeal_id)
    state.check_transition(appeal, [Status.IN_PROGRESS])
    assignment = state.agency_worker(appeal, actor)
    if assignment.role != Assignment.Role.LEAD:
        raise PermissionDenied
    answer = _open_answer(appeal)
    if answer is not None and answer.state == Answer.State.SUBMITTED and not submit:
        raise ValidationError(_("The answer is waiting for the head's approval."))
    if answer is None:
        answer = Answer(appeal=appeal, agency_id=assignment.agency_id, author=actor)
    answer.text = text.strip()
    answer.outcome = outcome
    answer.author = actor
    answer.state = Answer.State.SUBMITTED if submit else Answer.State.DRAFT
    answer.save()
    if submit:
        state.record_event(
            appeal=appeal,
            type=Event.Type.ANSWER_SUBMITTED,
            actor=actor,
            is_public=False,
        )
    return answer


@transaction.atomic
def send_back_answer(
    *, appeal_id: int, actor: AbstractBaseUser, comment: str
) -> Answer:
    """The head sends the draft back to the executor with comments."""
    if not comment.strip():
        raise ValidationError(_("Write what must be changed."))
    appeal, _lead = state.lock_for_lead_head(appeal_id, actor, [Status.IN_PROGRESS])
    answer = _open_answer(appeal)
    if answer is None or answer.state != Answer.State.SUBMITTED:
        raise ValidationError(_("There is no answer waiting for approval."))
    answer.state = Answer.State.RETURNED
    answer.review_comment = comment.strip()
    answer.save()
    state.record_event(
        appeal=appeal,
        type=Event.Type.ANSWER_SENT_BACK,
        actor=actor,
        data={"comment": comment.strip()},
        is_public=False,
    )
    return answer


def approve_answer(*, appeal_id: int, actor: AbstractBaseUser) -> Answer:
    """The head approves the answer: the letter is rendered on the agency's letterhead
    in the appeal's language, the appeal closes with the outcome, the citizen is told."""
    with storage.atomic_with_files():
        appeal, _lead = state.lock_for_lead_head(appeal_id, actor, [Status.IN_PROGRESS])
        answer = _open_answer(appeal)
        if answer is None or answer.state != Answer.State.SUBMITTED:
            raise ValidationError(_("There is no answer waiting for approval."))
        now = timezone.now()
        answer.state = Answer.State.APPROVED
        answer.approved_by = actor
        answer.approved_at = now
        answer.save()
        signed = issue_letter(appeal=appeal, answer=answer)
        # A re-review is upheld when the new answer supports what the earlier did not.
        ReReview.objects.filter(appeal=appeal, upheld__isnull=True).update(
            upheld=answer.outcome == Outcome.SUPPORTED, decided_at=now
        )
        appeal.status = Status.CLOSED
        appeal.outcome = answer.outcome
        appeal.closed_at = now
        # The assignments stay: the agency that answered keeps seeing its appeal (the
        # inbox lists only open ones); a re-review routes it afresh.
        appeal.save()
        state.record_event(
            appeal=appeal,
            type=Event.Type.ANSWERED,
            actor=actor,
            data={"answer_id": answer.pk, "outcome": answer.outcome},
        )
        if signed:
            notifications.queue(
                appeal=appeal,
                template="answered",
                extra={"answer": answer},
                attachment=answer.letter.name,
            )
        _answer_mass_members(appeal, answer, actor)
    return answer


def issue_letter(*, appeal: Appeal, answer: Answer) -> bool:
    """The approved answer's letter: rendered with a fresh verification code, signed,
    stored. False when it cannot be signed now (a certificate or its password is
    missing or wrong): the letter then waits, unsent and never unsigned, until
    sign_waiting_letters signs and sends it."""
    document = issuing.reserve(
        kind=IssuedDocument.Kind.ANSWER_LETTER,
        agency=answer.agency,
        appeal=appeal,
        answer=answer,
        registration_number=appeal.registration_number,
        language=appeal.language,
    )
    content = letters.render_answer_letter(
        appeal=appeal, answer=answer, document=document
    )

    def store(signed: bytes) -> str:
        answer.letter.save(
            f"answer-{appeal.registration_number}.pdf", ContentFile(signed), save=False
        )
        storage.remember(answer.letter.storage, answer.letter.name)
        answer.save(update_fields=["letter"])
        return answer.letter.name

    try:
        issuing.sign(document, content, store=store)
    except SigningError:
        return False
    return True


def letter_waits_for_signing(answer: Answer) -> bool:
    return answer.state == Answer.State.APPROVED and not answer.letter


def sign_waiting_letters() -> int:
    """Signs the letters left waiting (oldest first) and sends each to its citizen;
    raises SigningError, with its reason, at the first that still cannot be signed."""
    sent = 0
    waiting = IssuedDocument.objects.filter(
        kind=IssuedDocument.Kind.ANSWER_LETTER,
        state=IssuedDocument.State.WAITING,
        answer__isnull=False,
    ).order_by("created_at")
    for document_id in waiting.values_list("pk", flat=True):
        with storage.atomic_with_files():
            document = (
                IssuedDocument.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=document_id, state=IssuedDocument.State.WAITING)
                .select_related("answer__appeal", "answer__agency")
                .first()
            )
            if document is None or document.answer.letter:
                continue
            answer, appeal = document.answer, document.answer.appeal
            content = letters.render_answer_letter(
                appeal=appeal, answer=answer, document=document
            )

            def store(signed: bytes, answer=answer, appeal=appeal) -> str:
                answer.letter.save(
                    f"answer-{appeal.registration_number}.pdf",
                    ContentFile(signed),
                    save=False,
                )
                storage.remember(answer.letter.storage, answer.letter.name)
                answer.save(update_fields=["letter"])
                return answer.letter.name

            issuing.sign(document, content, store=store)
            notifications.queue(
                appeal=appeal,
                template="answered",
                extra={"answer": answer},
                attachment=answer.letter.name,
            )
            sent += 1
    return sent


def _latest_answer(appeal: Appeal) -> Answer:
    answer = (
        Answer.objects.filter(appeal=appeal, state=Answer.State.APPROVED)
        .order_by("-approved_at")
        .first()
    )
    if answer is None or not appeal.is_answered:
        raise ValidationError(_("This appeal has no answer to rate yet."))
    return answer


@transaction.atomic
def rate_answer(
    *, appeal_id: int, score: int, addressed: bool, comment: str = ""
) -> Rating:
    """The citizen (with the access code) rates the latest answer, once per answer."""
    if not 1 <= score <= 5:
        raise ValidationError(_("Choose a rating from 1 to 5."))
    appeal = state.lock_appeal(appeal_id)
    answer = _latest_answer(appeal)
    if Rating.objects.filter(answer=answer).exists():
        raise ValidationError(_("You have already rated this answer."))
    rating = Rating.objects.create(
        answer=answer,
        appeal=appeal,
        score=score,
        addressed=addressed,
        comment=comment.strip()[:2000],
    )
    state.record_event(
        appeal=appeal,
        type=Event.Type.RATED,
        data={"score": score, "addressed": addressed},
        is_public=False,
    )
    return rating


@transaction.atomic
def request_re_review(*, appeal_id: int, reason: str) -> ReReview:
    """The citizen asks to review the answer again: within the set period after the
    answer, once per answer. The same appeal goes back to the controllers' queue with
    a new review deadline; the head of the agency that answered is told."""
    if len(reason.strip()) < 10:
        raise ValidationError(_("Explain why the answer does not satisfy you."))
    appeal = state.lock_appeal(appeal_id)
    answer = _latest_answer(appeal)
    deadline = answer.approved_at + dt.timedelta(days=settings.RE_REVIEW_PERIOD_DAYS)
    if timezone.now() > deadline:
        raise ValidationError(
            _("A re-review can be asked for within %(days)s days of the answer.")
            % {"days": settings.RE_REVIEW_PERIOD_DAYS}
        )
    if ReReview.objects.filter(answer=answer).exists():
        raise ValidationError(
            _("A re-review of this answer has already been asked for.")
        )
    now = timezone.now()
    re_review = ReReview.objects.create(
        appeal=appeal, answer=answer, reason=reason.strip()
    )
    state.end_assignments(appeal)
    appeal.status = Status.RE_REVIEW
    appeal.outcome = ""
    appeal.closed_at = None
    appeal.extended_at = None
    appeal.extension_reason = ""
    appeal.due_on = extensions.review_due_on(now)
    appeal.save()
    state.record_event(
        appeal=appeal,
        type=Event.Type.RE_REVIEW_REQUESTED,
        data={"reason": re_review.reason, "answer_id": answer.pk},
    )
    for membership in Membership.objects.filter(
        agency_id=answer.agency_id, role=Membership.Role.HEAD, user__is_active=True
    ).select_related("user__staff_profile"):
        notifications.queue_staff(
            user=membership.user,
            template="re_review",
            context={"appeal": appeal, "re_review": re_review},
            appeal=appeal,
            dedup_key=f"re_review:{re_review.pk}:{membership.user_id}",
        )
    return re_review


@transaction.atomic
def group_mass_appeals(
    *, lead_id: int, member_ids: Iterable[int], actor: AbstractBaseUser
) -> list[Appeal]:
    """A controller groups appeals of many applicants on one matter with a lead appeal:
    one answer, approved once, goes to all of them."""
    if not permissions.can_route(actor):
        raise PermissionDenied
    open_statuses = [Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS]
    ids = sorted({int(i) for i in member_ids} - {lead_id})
    # Lock in id order, lead included, so two controllers grouping at once cannot
    # deadlock or split a group.
    locked = {
        a.pk: a
        for a in Appeal.objects.select_for_update()
        .filter(pk__in=[lead_id, *ids])
        .order_by("pk")
    }
    lead = locked.get(lead_id)
    if lead is None or lead.status not in open_statuses or lead.mass_lead_id:
        raise ValidationError(
            _("The lead appeal of a group must be open and not in a group.")
        )
    members = []
    for member_id in ids:
        member = locked.get(member_id)
        if member is None or member.status not in open_statuses or member.mass_lead_id:
            raise ValidationError(
                _("Appeal %(number)s cannot join the group.")
                % {"number": member.registration_number if member else member_id}
            )
        if member.mass_members.exists():
            raise ValidationError(_("A group's lead cannot join another group."))
        member.mass_lead = lead
        member.save(update_fields=["mass_lead", "updated_at"])
        state.record_event(
            appeal=member,
            type=Event.Type.GROUPED,
            actor=actor,
            data={"lead_id": lead.pk, "registration_number": lead.registration_number},
            is_public=False,
        )
        members.append(member)
    return members


def _answer_mass_members(lead: Appeal, answer: Answer, actor: AbstractBaseUser) -> int:
    """The lead's approved answer, for each open member of its group: its own answer
    row and letter in its own language, closed with the same outcome, notified."""
    members = Appeal.objects.select_for_update().filter(
        mass_lead=lead,
        status__in=[Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS],
    )
    count = 0
    for member in members:
        copy = Answer.objects.create(
            appeal=member,
            agency=answer.agency,
            author=answer.author,
            text=answer.text,
            outcome=answer.outcome,
            state=Answer.State.APPROVED,
            approved_by=actor,
            approved_at=answer.approved_at,
        )
        signed = issue_letter(appeal=member, answer=copy)
        member.status = Status.CLOSED
        member.outcome = answer.outcome
        member.closed_at = answer.approved_at
        member.save()
        state.record_event(
            appeal=member,
            type=Event.Type.ANSWERED,
            actor=actor,
            data={"answer_id": copy.pk, "outcome": copy.outcome, "mass_lead": lead.pk},
        )
        if signed:
            notifications.queue(
                appeal=member,
                template="answered",
                extra={"answer": copy},
                attachment=copy.letter.name,
            )
        count += 1
    return count
