"""The citizen withdraws an appeal not yet answered: closed as `withdrawn` after a
confirmation step, assignments ended, staff told, the citizen's confirmation in the
appeal's language; counted as received and shown as its own outcome in reports."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appeals.citizen import withdrawal
from appeals.models import Appeal, Assignment, Event, Notification, Outcome, Status
from appeals.register import codes
from portal.periods import parse_period
from reports import selectors
from tests.factories import (
    answer_appeal,
    paper_appeal,
    route_and_assign,
)

pytestmark = pytest.mark.django_db
CODE = "WITHD-CODE1-CODE2"


@pytest.fixture
def in_work(people, health):
    appeal = paper_appeal(
        people["clerk"], language="ky", applicant_email="a@example.kg"
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code(CODE)
    )
    route_and_assign(appeal, people, health)
    appeal.refresh_from_db()
    return appeal


def test_withdrawal_closes_ends_assignments_and_tells_everyone(in_work):
    withdrawal.withdraw_appeal(appeal_id=in_work.pk, reason="Вопрос решён")
    in_work.refresh_from_db()
    assert (in_work.status, in_work.outcome) == (Status.CLOSED, Outcome.WITHDRAWN)
    assert in_work.outcome_reason == "Вопрос решён" and in_work.closed_at
    assert not Assignment.objects.filter(appeal=in_work, is_active=True).exists()
    event = Event.objects.get(appeal=in_work, type=Event.Type.WITHDRAWN)
    assert event.is_public and event.data == {"reason": "Вопрос решён"}
    staff = set(
        Notification.objects.filter(template="staff_withdrawn").values_list(
            "recipient", flat=True
        )
    )
    assert staff == {"exec@mz.gov.kg", "head@mz.gov.kg"}
    citizen = Notification.objects.get(template="withdrawn")
    assert citizen.recipient == "a@example.kg" and citizen.language == "ky"


def test_an_answered_or_withdrawn_appeal_cannot_be_withdrawn(in_work, people, health):
    withdrawal.withdraw_appeal(appeal_id=in_work.pk)
    with pytest.raises(ValidationError):
        withdrawal.withdraw_appeal(appeal_id=in_work.pk)
    answered = paper_appeal(people["clerk"])
    answer_appeal(answered, people, health)
    with pytest.raises(ValidationError):
        withdrawal.withdraw_appeal(appeal_id=answered.pk)


def test_a_portal_submission_can_be_withdrawn_before_registration():
    from tests.factories import portal_submission

    appeal = portal_submission().appeal
    withdrawal.withdraw_appeal(appeal_id=appeal.pk)
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.registration_number is None


def test_the_confirmation_step_then_the_withdrawal(client, in_work):
    client.post(
        "/en/track/", {"tracking_number": in_work.tracking_number, "access_code": CODE}
    )
    page = client.get(f"/en/track/{in_work.tracking_number}/withdraw/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "What happens when you withdraw it" in html and 'id="withdraw-form"' in html
    in_work.refresh_from_db()
    assert in_work.status == Status.IN_PROGRESS  # looking is not withdrawing
    response = client.post(
        f"/en/track/{in_work.tracking_number}/withdraw/", {"reason": ""}
    )
    assert response.status_code == 302
    html = client.get(f"/en/track/{in_work.tracking_number}/").content.decode()
    assert 'id="appeal-withdrawn"' in html and "Withdrawn by you" in html
    assert 'id="addition-form"' not in html and "/withdraw/" not in html
    # A second visit to the step finds the appeal closed.
    again = client.get(f"/en/track/{in_work.tracking_number}/withdraw/")
    assert again.status_code == 302


def test_without_the_access_code_nothing_is_withdrawn(client, in_work):
    response = client.post(f"/ru/track/{in_work.tracking_number}/withdraw/", {})
    assert response.status_code == 302
    assert response["Location"].startswith("/ru/track/?number=")
    in_work.refresh_from_db()
    assert in_work.status == Status.IN_PROGRESS


def test_a_withdrawn_appeal_counts_as_received_and_as_its_own_outcome(in_work):
    withdrawal.withdraw_appeal(appeal_id=in_work.pk)
    year = timezone.localdate().year
    report = selectors.build_intake_report(
        period=parse_period(str(year)), language="en"
    )
    outcomes = {row.code: row for row in report.current.by_outcome}
    assert outcomes["withdrawn"].count == 1
    assert outcomes["withdrawn"].label == "withdrawn by the citizen"
    assert report.current.written_total == 1
