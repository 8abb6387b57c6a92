import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Agency, Membership
from appeals.intake import filing, registration
from appeals.models import Appeal, Event, Notification, Status
from appeals.register import codes, numbering

pytestmark = pytest.mark.django_db


@pytest.fixture
def apparatus():
    return Agency.objects.get(slug="gov-apparatus")


@pytest.fixture
def clerk(django_user_model, apparatus):
    user = django_user_model.objects.create_user("clerk1", password="x" * 16)
    Membership.objects.create(user=user, agency=apparatus, role=Membership.Role.CLERK)
    return user


def _submit(**overrides):
    data = {
        "submission_key": uuid.uuid4(),
        "applicant_name": "Асанов Бакыт",
        "applicant_email": "bakyt@example.kg",
        "text": "Биздин көчөдө жарык жок.",
        "language": "ky",
        "kind": "complaint",
    }
    data.update(overrides)
    return filing.submit_appeal(**data)


def test_submission_creates_appeal_event_and_receipt_in_one_go():
    submission = _submit()
    appeal = submission.appeal
    assert appeal.status == Status.SUBMITTED
    assert appeal.channel == "portal" and appeal.form == "written"
    assert list(appeal.events.values_list("type", flat=True)) == [Event.Type.SUBMITTED]
    assert codes.check_access_code(submission.access_code, appeal.access_code_hash)
    receipt = Notification.objects.get(appeal=appeal)
    assert receipt.template == "receipt" and receipt.language == "ky"


def test_same_submission_key_creates_exactly_one_appeal():
    key = uuid.uuid4()
    first = _submit(submission_key=key)
    again = _submit(submission_key=key)
    assert again.appeal.pk == first.appeal.pk
    assert not again.created and again.access_code is None
    assert Appeal.objects.count() == 1


def test_sending_the_same_key_again_writes_nothing_more():
    key = uuid.uuid4()
    first = _submit(submission_key=key)
    again = _submit(submission_key=key, text="Another text, sent with the same key.")
    assert again.appeal.pk == first.appeal.pk
    assert again.appeal.text == first.appeal.text
    assert Event.objects.filter(appeal=first.appeal).count() == 1
    assert Notification.objects.count() == 1


def test_a_tracking_number_already_taken_is_drawn_again(monkeypatch):
    taken = _submit().appeal.tracking_number
    drawn = iter([taken, taken, "K7QM4-X2D9P"])
    monkeypatch.setattr(codes, "new_tracking_number", lambda: next(drawn))
    submission = _submit()
    assert submission.created and submission.access_code
    assert submission.appeal.tracking_number == "K7QM4-X2D9P"
    assert Appeal.objects.count() == 2
    # The failed attempts left nothing behind: one event and one receipt each.
    assert Event.objects.count() == 2
    assert Notification.objects.count() == 2


def test_a_tracking_number_that_stays_taken_gives_up(monkeypatch):
    taken = _submit().appeal.tracking_number
    monkeypatch.setattr(codes, "new_tracking_number", lambda: taken)
    with pytest.raises(RuntimeError, match="tracking number"):
        _submit()
    assert Appeal.objects.count() == 1


def test_registration_numbers_follow_each_other_per_agency_and_year(clerk, apparatus):
    numbers = [
        registration.register_appeal(
            appeal_id=_submit().appeal.pk, actor=clerk, agency=apparatus
        ).registration_number
        for _ in range(3)
    ]
    year = timezone.localdate().year
    assert numbers == [f"GA-{year}-{n:06d}" for n in (1, 2, 3)]


def test_rolled_back_registration_gives_its_number_back(clerk, apparatus):
    year = 2030
    with pytest.raises(RuntimeError), transaction.atomic():
        numbering.next_registration_number(agency=apparatus, year=year)
        raise RuntimeError("clerk's transaction fails")
    with transaction.atomic():
        number = numbering.next_registration_number(agency=apparatus, year=year)
    assert number == "GA-2030-000001"


def test_only_clerks_register(django_user_model, apparatus):
    stranger = django_user_model.objects.create_user("someone", password="x" * 16)
    with pytest.raises(PermissionDenied):
        registration.register_appeal(
            appeal_id=_submit().appeal.pk, actor=stranger, agency=apparatus
        )


def test_registering_twice_is_refused_with_a_clear_message(clerk, apparatus):
    appeal = _submit().appeal
    registration.register_appeal(appeal_id=appeal.pk, actor=clerk, agency=apparatus)
    with pytest.raises(ValidationError):
        registration.register_appeal(appeal_id=appeal.pk, actor=clerk, agency=apparatus)


def test_left_without_consideration_keeps_the_reason_for_the_citizen(clerk):
    appeal = _submit().appeal
    registration.leave_without_consideration(
        appeal_id=appeal.pk,
        actor=clerk,
        ground="no_name_or_address",
        reason="No way to reach the applicant.",
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
    assert appeal.outcome == "left_without_consideration"
    assert appeal.outcome_reason == "No way to reach the applicant."


def test_database_refuses_a_registered_appeal_without_number(apparatus):
    appeal = _submit().appeal
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(status=Status.REGISTERED)


def test_paper_appeal_is_registered_with_number_and_history(clerk, apparatus):
    appeal, code = registration.register_paper_appeal(
        actor=clerk,
        agency=apparatus,
        channel="jogorku_kenesh",
        form="written",
        kind="statement",
        applicant_name="Иванова Мария",
        text="Прошу помочь.",
        language="ru",
        received_at=timezone.now() - dt.timedelta(hours=2),
        cover_letter_number="12-345",
        cover_letter_date=timezone.localdate(),
    )
    assert appeal.registration_number.startswith("GA-")
    assert appeal.status == Status.REGISTERED
    assert codes.check_access_code(code, appeal.access_code_hash)
    assert appeal.events.get().type == Event.Type.REGISTERED


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Асанов Бакыт", True),
        ("Мария Иванова-Петрова", True),
        ("O'Brien Seán", True),
        ("Your account is blocked visit evil.example now", False),
        ("Асанов Бакыт http://evil.example/login", False),
        ("Prize 1000000 som call +996555000000", False),
        ("а" * 61, False),
    ],
)
def test_the_applicants_name_is_echoed_into_e_mails_only_when_it_is_a_name(
    name, greeted
):
    """The address is not verified: the portal must not carry a stranger's text under
    its letterhead to anyone's mailbox (issue 25, item 8)."""
    submission = _submit(applicant_name=name, applicant_email="someone@example.kg")
    notice = Notification.objects.get(appeal=submission.appeal, template="receipt")
    first_line = notice.body.splitlines()[0]
    if greeted:
        assert name in first_line
    else:
        assert name not in notice.body
        assert first_line == "Урматтуу кайрылуучу!"
