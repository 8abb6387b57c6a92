"""Registration and answering under concurrency, on PostgreSQL: parallel transactions,
real locks."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone, translation

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Answer, Appeal, Event, Notification, Status
from tests.factories import (
    AgencyFactory,
    paper_appeal,
    route_and_assign,
    staff_member,
    submit_answer,
)
from tests.helpers import login_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Rollback(Exception):
    pass


def _register(clerk, agency, i):
    return registration.register_paper_appeal(
        actor=clerk,
        agency=agency,
        channel="other",
        delivery="post",
        form="written",
        kind="statement",
        applicant_name=f"Applicant {i}",
        applicant_address="Бишкек",
        text="Parallel registration",
        language="ky",
        received_at=timezone.now(),
    )[0]


def test_parallel_registrations_give_numbers_without_gap_or_duplicate():
    clerk = staff_member("clerk")
    agency = Agency.objects.get(slug="gov-apparatus")
    workers, total = 8, 40
    barrier = threading.Barrier(workers)

    def work(i):
        try:
            if i < workers:
                barrier.wait(timeout=30)  # the first wave starts at the same moment
            if i % 5 == 4:
                # This clerk's transaction fails after taking a number: it is given back.
                with pytest.raises(Rollback), transaction.atomic():
                    _register(clerk, agency, i)
                    raise Rollback
                return None
            return _register(clerk, agency, i).registration_number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = [n for n in pool.map(work, range(total)) if n]

    year = timezone.localdate().year
    committed = sorted(Appeal.objects.values_list("registration_number", flat=True))
    assert len(numbers) == total - total // 5
    assert committed == sorted(numbers)
    assert committed == [f"GA-{year}-{n:06d}" for n in range(1, len(numbers) + 1)]


def test_two_clerks_registering_the_same_submission_end_in_one_registration():
    clerks = [staff_member("clerk"), staff_member("clerk")]
    agency = Agency.objects.get(slug="gov-apparatus")
    appeal = filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө жарык жок.",
        language="ky",
        kind="complaint",
    ).appeal
    barrier = threading.Barrier(2)

    def work(clerk):
        try:
            barrier.wait(timeout=30)
            registration.register_appeal(
                appeal_id=appeal.pk, actor=clerk, agency=agency
            )
            return "registered"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(work, clerks))

    assert results == ["refused", "registered"]
    appeal.refresh_from_db()
    assert appeal.registration_number == f"GA-{timezone.localdate().year}-000001"
    assert appeal.events.filter(type=Event.Type.REGISTERED).count() == 1


# --- Approving and returning an answer under concurrency ----------------------------


def _answer_awaiting_approval():
    """An appeal of an agency with two heads, its answer submitted for approval."""
    health = AgencyFactory(slug="min-health", code="MZ", name_ru="Минздрав")
    heads = [staff_member("head", health), staff_member("head", health)]
    clerk = staff_member("clerk", username="clerk")
    controller = staff_member("controller", username="controller")
    executor = staff_member("executor", health, username="executor")
    people = {"controller": controller, "head": heads[0], "executor": executor}
    appeal = paper_appeal(clerk, channel="president_office", delivery="")
    route_and_assign(appeal, people, health)
    submit_answer(appeal, people)
    return appeal, heads


def _letter_files(appeal) -> list[Path]:
    return sorted(
        Path(settings.MEDIA_ROOT).rglob(f"answer-{appeal.registration_number}*.pdf")
    )


def _at_once(*actions):
    """Run the actions in parallel threads released by one barrier: each returns its
    result or the error a person would be shown, and closes its connection."""
    barrier = threading.Barrier(len(actions))

    def run(action):
        try:
            barrier.wait(timeout=30)
            with translation.override("en"):
                return action(), None
        except (ValidationError, PermissionDenied) as error:
            return None, error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions))


def test_two_heads_approving_at_once_send_one_answer():
    appeal, heads = _answer_awaiting_approval()

    outcomes = _at_once(
        lambda: answering.approve_answer(appeal_id=appeal.pk, actor=heads[0]),
        lambda: answering.approve_answer(appeal_id=appeal.pk, actor=heads[1]),
    )

    errors = [error for _result, error in outcomes if error is not None]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert "no longer possible" in errors[0].messages[0]
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.outcome == "supported"
    answer = Answer.objects.get(appeal=appeal)
    assert answer.state == Answer.State.APPROVED and answer.approved_by in heads
    assert appeal.events.filter(type=Event.Type.ANSWERED).count() == 1
    assert Notification.objects.filter(appeal=appeal, template="answered").count() == 1
    assert _letter_files(appeal) == [Path(settings.MEDIA_ROOT) / answer.letter.name]


def test_approval_and_return_at_once_end_in_one_clean_state():
    appeal, heads = _answer_awaiting_approval()

    (approved, approve_error), (returned, return_error) = _at_once(
        lambda: answering.approve_answer(appeal_id=appeal.pk, actor=heads[0]),
        lambda: routing.return_appeal(
            appeal_id=appeal.pk, actor=heads[1], reason="Это вопрос Соцфонда."
        ),
    )

    assert (approve_error is None) != (return_error is None), "exactly one wins"
    loser = approve_error or return_error
    assert isinstance(loser, ValidationError | PermissionDenied)
    if isinstance(loser, ValidationError):
        assert "no longer possible" in loser.messages[0]
    appeal.refresh_from_db()
    events = list(appeal.events.values_list("type", flat=True))
    if approve_error is None:
        assert approved.state == Answer.State.APPROVED
        assert appeal.status == Status.CLOSED and appeal.outcome == "supported"
        assert Answer.objects.filter(appeal=appeal).get() == approved
        assert events.count(Event.Type.ANSWERED) == 1
        assert Event.Type.RETURNED not in events
        assert len(_letter_files(appeal)) == 1
        assert Notification.objects.filter(appeal=appeal, template="answered").count()
    else:
        assert returned.pk == appeal.pk
        assert appeal.status == Status.REGISTERED and appeal.outcome == ""
        assert not appeal.assignments.filter(is_active=True).exists()
        assert appeal.lead_agency is None and appeal.closed_at is None
        assert not Answer.objects.filter(appeal=appeal).exists()
        assert events.count(Event.Type.RETURNED) == 1
        assert Event.Type.ANSWERED not in events
        assert _letter_files(appeal) == []
        assert not Notification.objects.filter(appeal=appeal, template="answered")


def test_the_head_who_approves_second_on_the_work_page_is_told_why():
    """Through the view, not only the service: the loser sees the message on the work
    page of the answered appeal (it once landed on a 404, when approval ended the
    agency's assignment and with it the head's access)."""
    appeal, heads = _answer_awaiting_approval()
    clients = []
    for head in heads:
        client = Client()
        login_staff(client, head)
        clients.append(client)
    barrier = threading.Barrier(len(clients))

    def approve(client):
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/en/staff/inbox/{appeal.pk}/", {"action": "approve"}, follow=True
            )
            return response.status_code, response.content.decode()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(approve, clients))

    assert appeal.events.filter(type=Event.Type.ANSWERED).count() == 1
    assert [status for status, _html in results] == [200, 200]
    assert sum("no longer possible" in html for _status, html in results) == 1
