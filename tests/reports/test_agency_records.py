"""The public page compares bodies: answers on time, ratings, re-reviews; no names."""

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.intake import registration
from tests.factories import AgencyFactory, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered_and_rated():
    health = AgencyFactory(slug="min-health", code="MZ", name_en="Ministry of Health")
    clerk, controller = staff_member("clerk"), staff_member("controller")
    head, executor = staff_member("head", health), staff_member("executor", health)
    appeal, _ = registration.register_paper_appeal(
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="other",
        delivery="post",
        form="written",
        kind="complaint",
        applicant_name="Тайный Заявитель",
        applicant_address="Бишкек",
        text="Прошу разобраться с очередью в поликлинике.",
        language="ru",
        received_at=timezone.now(),
    )
    routing.route_appeal(appeal_id=appeal.pk, actor=controller, lead=health)
    routing.assign_executor(appeal_id=appeal.pk, actor=head, executor=executor)
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=executor,
        text="Запись к терапевту открыта онлайн; очереди сокращены вдвое.",
        outcome="explained",
        submit=True,
    )
    answering.approve_answer(appeal_id=appeal.pk, actor=head)
    answering.rate_answer(appeal_id=appeal.pk, score=4, addressed=True)
    return appeal


def _cells(client):
    html = client.get("/en/statistics/").content.decode()
    assert "Тайный Заявитель" not in html  # no personal data
    row = html[html.index('data-agency="min-health"') :]
    row = row[: row.index("</tr>")]
    # answered, on time %, overdue now, median days, rating (count), re-reviews, upheld
    return [c.split(">")[-1] for c in row.split("</td>")[:-1]]


def test_each_body_has_its_public_record(client, answered_and_rated):
    cells = _cells(client)
    assert cells[0] == "1" and cells[1] == "100.0" and cells[4] == "4.0 (1)"
    assert cells[5] == "0"
    answering.request_re_review(
        appeal_id=answered_and_rated.pk, reason="Онлайн-запись не работает."
    )
    assert _cells(client)[5] == "1"
