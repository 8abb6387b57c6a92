"""Routing, answering and returning, through the services as staff would act."""

import datetime as dt
import shutil
import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from appeals.casework import answering, routing, worklists
from appeals.models import Answer, Appeal, Assignment, Event, Notification, Status
from tests.factories import (
    ANSWER,
    AgencyFactory,
    paper_appeal,
    staff_member,
    submit_answer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def health():
    return AgencyFactory(
        slug="min-health",
        code="MZ",
        name_ru="Минздрав",
        name_ky="Саламаттык",
        name_en="Health",
    )


@pytest.fixture
def labour():
    return AgencyFactory(
        slug="min-labour",
        code="MT",
        name_ru="Минтруд",
        name_ky="Эмгек",
        name_en="Labour",
    )


@pytest.fixture
def people(health, labour):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
        "labour_head": staff_member("head", labour),
        "labour_executor": staff_member("executor", labour),
    }


@pytest.fixture
def appeal(people):
    return paper_appeal(
        people["clerk"],
        channel="president_office",
        delivery="",
        kind="complaint",
        cover_letter_number="01-123",
        cover_letter_date=timezone.localdate(),
    )


def _route(appeal, people, health, labour=None):
    return routing.route_appeal(
        appeal_id=appeal.pk,
        actor=people["controller"],
        lead=health,
        co_executors=[labour] if labour else [],
        cover_note="Прошу рассмотреть.",
    )


def _answer_and_submit(appeal, people):
    routing.assign_executor(
        appeal_id=appeal.pk, actor=people["head"], executor=people["executor"]
    )
    return submit_answer(appeal, people)


def test_registration_sets_the_review_deadline(appeal):
    assert appeal.due_on is not None
    assert appeal.due_on > timezone.localdate()
    assert (appeal.due_on - timezone.localdate()).days >= 14  # 14 working days


def test_controller_routes_to_a_lead_and_co_executors_and_the_citizen_is_told(
    appeal, people, health, labour
):
    _route(appeal, people, health, labour)
    appeal.refresh_from_db()
    assert appeal.status == Status.ROUTED and appeal.lead_agency == health
    roles = dict(appeal.assignments.values_list("agency__code", "role"))
    assert roles == {"MZ": "lead", "MT": "co_executor"}
    assert Notification.objects.filter(appeal=appeal, template="routed").exists()
    assert appeal.events.filter(type=Event.Type.ROUTED).exists()


def test_only_controllers_route(appeal, people, health):
    with pytest.raises(PermissionDenied):
        routing.route_appeal(appeal_id=appeal.pk, actor=people["head"], lead=health)


def test_forwarding_outside_the_system_closes_the_appeal(appeal, people):
    routing.forward_appeal(
        appeal_id=appeal.pk,
        actor=people["controller"],
        body="Жогорку сот",
        letter_number="07-55",
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.outcome == "forwarded"
    assert appeal.forwarded_to == "Жогорку сот"
    assert Notification.objects.filter(appeal=appeal, template="forwarded").exists()


def test_head_assigns_an_executor_of_the_agency(appeal, people, health):
    _route(appeal, people, health)
    with pytest.raises(ValidationError):
        routing.assign_executor(
            appeal_id=appeal.pk,
            actor=people["head"],
            executor=people["labour_executor"],
        )
    routing.assign_executor(
        appeal_id=appeal.pk, actor=people["head"], executor=people["executor"]
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS


def test_another_agency_cannot_assign_or_answer(appeal, people, health):
    _route(appeal, people, health)
    with pytest.raises(PermissionDenied):
        routing.assign_executor(
            appeal_id=appeal.pk,
            actor=people["labour_head"],
            executor=people["labour_executor"],
        )


def test_return_as_not_our_competence_goes_back_to_the_controllers(
    appeal, people, health
):
    _route(appeal, people, health)
    routing.return_appeal(
        appeal_id=appeal.pk, actor=people["head"], reason="Это вопрос Соцфонда."
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.REGISTERED and appeal.lead_agency is None
    assert not appeal.assignments.filter(is_active=True).exists()
    types = list(appeal.events.values_list("type", flat=True))
    assert types[-2:] == [Event.Type.ROUTED, Event.Type.RETURNED]


def test_co_executor_sends_input_the_lead_sees(appeal, people, health, labour):
    _route(appeal, people, health, labour)
    routing.assign_executor(
        appeal_id=appeal.pk,
        actor=people["labour_head"],
        executor=people["labour_executor"],
    )
    contribution = answering.add_contribution(
        appeal_id=appeal.pk,
        actor=people["labour_executor"],
        text="Справка о выплатах прилагается.",
    )
    assert contribution.assignment.agency == labour
    with pytest.raises(PermissionDenied):
        answering.add_contribution(
            appeal_id=appeal.pk, actor=people["executor"], text="x"
        )


def test_head_sends_the_draft_back_with_comments(appeal, people, health):
    _route(appeal, people, health)
    _answer_and_submit(appeal, people)
    answer = answering.send_back_answer(
        appeal_id=appeal.pk, actor=people["head"], comment="Укажите сроки выплаты."
    )
    assert answer.state == Answer.State.RETURNED
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=people["executor"],
        text=ANSWER + " До 30 ноября.",
        outcome="supported",
        submit=True,
    )
    assert Answer.objects.get().state == Answer.State.SUBMITTED


def test_executor_cannot_approve(appeal, people, health):
    _route(appeal, people, health)
    _answer_and_submit(appeal, people)
    with pytest.raises(PermissionDenied):
        answering.approve_answer(appeal_id=appeal.pk, actor=people["executor"])


def test_approval_renders_the_letter_closes_the_appeal_and_emails_it(
    appeal, people, health
):
    _route(appeal, people, health)
    _answer_and_submit(appeal, people)
    answer = answering.approve_answer(appeal_id=appeal.pk, actor=people["head"])
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.outcome == "supported"
    assert appeal.is_answered
    pdf = answer.letter.read()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "минздрав" in text.lower()  # the letterhead in the appeal's language
        assert "пособие будет выплачено" in text
        assert appeal.registration_number in text
    notification = Notification.objects.get(appeal=appeal, template="answered")
    assert notification.attachment == answer.letter.name
    assert notification.language == "ru"
    # The agency that answered keeps its appeal (it left the inbox by its status).
    assert appeal.assignments.get(is_active=True).agency == health


def test_answer_letter_is_attached_to_the_email(appeal, people, health, mailoutbox):
    from appeals.notifications import outbox as notifications

    _route(appeal, people, health)
    _answer_and_submit(appeal, people)
    answering.approve_answer(appeal_id=appeal.pk, actor=people["head"])
    notification = Notification.objects.get(appeal=appeal, template="answered")
    assert notifications.deliver(notification.pk)
    message = mailoutbox[-1]
    assert message.attachments and message.attachments[0][2] == "application/pdf"
    assert ANSWER in message.body


def test_an_empty_answer_is_refused(appeal, people, health):
    _route(appeal, people, health)
    routing.assign_executor(
        appeal_id=appeal.pk, actor=people["head"], executor=people["executor"]
    )
    with pytest.raises(ValidationError):
        answering.save_answer_draft(
            appeal_id=appeal.pk,
            actor=people["executor"],
            text="Ок.",
            outcome="explained",
        )


def test_second_approval_gets_a_clear_message(appeal, people, health):
    _route(appeal, people, health)
    _answer_and_submit(appeal, people)
    answering.approve_answer(appeal_id=appeal.pk, actor=people["head"])
    with translation.override("en"), pytest.raises(ValidationError) as error:
        answering.approve_answer(appeal_id=appeal.pk, actor=people["head"])
    assert "no longer possible" in error.value.messages[0]
    assert Answer.objects.filter(state=Answer.State.APPROVED).count() == 1


def test_routing_again_after_a_return_keeps_every_step(appeal, people, health, labour):
    _route(appeal, people, health)
    routing.return_appeal(
        appeal_id=appeal.pk, actor=people["head"], reason="Не наш вопрос."
    )
    routing.route_appeal(appeal_id=appeal.pk, actor=people["controller"], lead=labour)
    assert Assignment.objects.filter(appeal=appeal).count() == 2
    assert Assignment.objects.get(appeal=appeal, is_active=True).agency == labour
    assert [e.type for e in appeal.events.order_by("at", "id")][-3:] == [
        Event.Type.ROUTED,
        Event.Type.RETURNED,
        Event.Type.ROUTED,
    ]


def test_overdue_and_due_soon_are_derived_from_the_due_date(appeal, people, health):
    _route(appeal, people, health)
    today = timezone.localdate()
    Appeal.objects.filter(pk=appeal.pk).update(due_on=today - dt.timedelta(days=1))
    assert (
        worklists.inbox_queryset(
            user=people["head"], agency=health, tab="overdue"
        ).count()
        == 1
    )
    Appeal.objects.filter(pk=appeal.pk).update(due_on=today)
    assert (
        worklists.inbox_queryset(
            user=people["head"], agency=health, tab="due_soon"
        ).count()
        == 1
    )
    assert (
        worklists.inbox_queryset(
            user=people["head"], agency=health, tab="overdue"
        ).count()
        == 0
    )
