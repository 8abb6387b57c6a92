"""The citizen rates the answer and may ask for a re-review: who, when, how often."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import answering, worklists
from appeals.intake import registration
from appeals.models import Answer, Appeal, Event, Notification, Rating, ReReview, Status
from appeals.register import codes
from tests.factories import AgencyFactory, answer_appeal, paper_appeal, staff_member

pytestmark = pytest.mark.django_db
CODE = "RATE1-RATE2-RATE3"


@pytest.fixture
def health():
    return AgencyFactory(slug="min-health", code="MZ")


@pytest.fixture
def people(health):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health, email="head@mz.gov.kg"),
        "executor": staff_member("executor", health),
    }


def _answer(appeal, people, health, outcome="not_supported"):
    return answer_appeal(
        appeal,
        people,
        health,
        text="Проверка показала, что оснований для перерасчёта нет.",
        outcome=outcome,
    )


@pytest.fixture
def answered(people, health):
    appeal = paper_appeal(
        people["clerk"],
        channel="public_reception",
        delivery="",
        kind="complaint",
        applicant_name="Петров Сергей",
        applicant_email="petrov@example.kg",
        text="Прошу пересчитать пенсию с учётом стажа.",
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code(CODE)
    )
    _answer(appeal, people, health)
    appeal.refresh_from_db()
    return appeal


def test_citizen_rates_the_answer_once(answered):
    answering.rate_answer(
        appeal_id=answered.pk, score=2, addressed=False, comment="Отписка"
    )
    rating = Rating.objects.get()
    assert (rating.score, rating.addressed) == (2, False)
    with pytest.raises(ValidationError):
        answering.rate_answer(appeal_id=answered.pk, score=5, addressed=True)


@pytest.mark.parametrize("score", [0, 6])
def test_rating_outside_1_to_5_is_refused(answered, score):
    with pytest.raises(ValidationError):
        answering.rate_answer(appeal_id=answered.pk, score=score, addressed=True)


def test_there_is_nothing_to_rate_before_an_answer(people):
    appeal, _ = registration.register_paper_appeal(
        actor=people["clerk"],
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="other",
        delivery="post",
        form="written",
        kind="statement",
        applicant_name="Ким",
        applicant_address="Бишкек",
        text="Текст обращения без ответа.",
        language="ru",
        received_at=timezone.now(),
    )
    with pytest.raises(ValidationError):
        answering.rate_answer(appeal_id=appeal.pk, score=3, addressed=True)


def test_re_review_reopens_the_same_appeal_with_a_new_deadline_and_tells_the_head(
    answered,
):
    answering.request_re_review(
        appeal_id=answered.pk, reason="Стаж за 1990-е годы не учтён."
    )
    answered.refresh_from_db()
    assert answered.status == Status.RE_REVIEW and answered.outcome == ""
    assert answered.due_on > timezone.localdate()
    assert not answered.assignments.filter(is_active=True).exists()
    assert answered.events.filter(type=Event.Type.RE_REVIEW_REQUESTED).exists()
    notice = Notification.objects.get(template="staff_re_review")
    assert notice.recipient == "head@mz.gov.kg"

    assert answered in worklists.controllers_queue()


def test_re_review_only_once_per_answer(answered):
    answering.request_re_review(
        appeal_id=answered.pk, reason="Стаж за 1990-е годы не учтён."
    )
    with pytest.raises(ValidationError):
        answering.request_re_review(
            appeal_id=answered.pk, reason="И ещё раз, пожалуйста."
        )


def test_re_review_only_within_the_set_period(answered, settings):
    settings.RE_REVIEW_PERIOD_DAYS = 30
    Answer.objects.filter(appeal=answered).update(
        approved_at=timezone.now() - dt.timedelta(days=31)
    )
    with pytest.raises(ValidationError):
        answering.request_re_review(
            appeal_id=answered.pk, reason="Поздно, но всё же прошу."
        )


def test_re_review_is_upheld_when_the_new_answer_supports(answered, people, health):
    answering.request_re_review(
        appeal_id=answered.pk, reason="Стаж за 1990-е годы не учтён."
    )
    _answer(answered, people, health, outcome="supported")
    re_review = ReReview.objects.get()
    assert re_review.upheld is True
    answered.refresh_from_db()
    assert answered.status == Status.CLOSED and answered.outcome == "supported"
    assert answered.answers.filter(state="approved").count() == 2


def _track(client, appeal):
    client.post(
        "/ru/track/", {"tracking_number": appeal.tracking_number, "access_code": CODE}
    )


def test_tracking_page_offers_rating_and_re_review_after_the_answer(client, answered):
    _track(client, answered)
    html = client.get(f"/ru/track/{answered.tracking_number}/").content.decode()
    assert 'id="rating-form"' in html and 'id="re-review-form"' in html
    response = client.post(
        f"/ru/track/{answered.tracking_number}/rate/", {"score": "4", "addressed": "1"}
    )
    assert response.status_code == 302
    html = client.get(f"/ru/track/{answered.tracking_number}/").content.decode()
    assert 'id="rating-form"' not in html
    client.post(
        f"/ru/track/{answered.tracking_number}/re-review/",
        {"reason": "Не учтён стаж работы в колхозе."},
    )
    answered.refresh_from_db()
    assert answered.status == Status.RE_REVIEW


def test_only_a_visitor_with_the_code_may_rate(client, answered):
    response = client.post(
        f"/ru/track/{answered.tracking_number}/rate/", {"score": "1", "addressed": "0"}
    )
    assert response.status_code == 404
    assert not Rating.objects.exists()


def test_the_rating_form_is_shown_in_each_language_and_keeps_a_wrong_entry(
    client, answered
):
    # The empty forms' fields are rendered once per language and process (a fragment
    # cache); a form sent back with errors is rendered with what the citizen wrote.
    _track(client, answered)
    page = f"/{{}}/track/{answered.tracking_number}/"
    for _twice in range(2):
        assert "How do you rate the answer?" in client.get(page.format("en")).text
        assert "Как Вы оцениваете ответ?" in client.get(page.format("ru")).text
    response = client.post(
        f"/en/track/{answered.tracking_number}/rate/",
        {"addressed": "0", "comment": "Nobody read my letter."},
    )
    assert response.status_code == 400
    assert 'id="id_score_errors"' in response.text
    assert "Nobody read my letter.</textarea>" in response.text
    assert re.search(
        r'<input[^>]*value="0"[^>]*id="id_addressed_1"[^>]*checked', response.text
    )
    assert 'id="id_score_errors"' not in client.get(page.format("en")).text
