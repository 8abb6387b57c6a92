"""Requests for personal data on paper: the clerk records one (due seven calendar days
later), sees the register with overdue ones marked, answers with the same PDF and
marks it answered; another agency's clerk sees none of it."""

import datetime as dt
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from appeals.models import DataSubjectRequest, Event, PersonalDataAccess
from appeals.privacy import subject_access
from tests.factories import (
    AgencyFactory,
    paper_appeal,
    presidents_letter,
    staff_member,
)
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

NAME = "Сыдыкова Айжан"


def url(name, *args):
    with translation.override("en"):
        return reverse(f"staff:{name}", args=args)


@pytest.fixture
def clerk():
    return staff_member("clerk", username="clerk-ga")


@pytest.fixture
def appeal(clerk):
    return presidents_letter(clerk, NAME)[0]


@pytest.fixture
def clerk_client(client, clerk):
    login_staff(client, clerk)
    return client


def _record(client, appeal, *, received_on=None):
    received_on = received_on or timezone.localdate()
    return client.post(
        url("data_request_new"),
        {
            "agency": appeal.registering_agency_id,
            "requester_name": NAME,
            "requester_contact": "Бишкек, ул. Киевская, 10",
            "numbers": appeal.registration_number,
            "received_on": received_on.isoformat(),
            "note": "",
        },
    )


def test_clerk_records_a_request_due_in_seven_calendar_days(clerk_client, appeal):
    received = timezone.localdate() - dt.timedelta(days=2)
    response = _record(clerk_client, appeal, received_on=received)
    item = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("data_request", item.pk)
    assert item.due_on == received + dt.timedelta(days=7)
    assert list(item.appeals.all()) == [appeal]


def test_a_request_names_appeals_by_tracking_number_too(clerk_client, appeal):
    response = clerk_client.post(
        url("data_request_new"),
        {
            "agency": appeal.registering_agency_id,
            "requester_name": NAME,
            "numbers": appeal.tracking_number.lower(),
            "received_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert list(DataSubjectRequest.objects.get().appeals.all()) == [appeal]


def test_an_appeal_of_another_agency_is_not_found(client, appeal):
    other = AgencyFactory(slug="min-labour", code="MT")
    other_clerk = staff_member("clerk", other, username="clerk-mt")
    login_staff(client, other_clerk)
    response = client.post(
        url("data_request_new"),
        {
            "agency": other.pk,
            "requester_name": NAME,
            "numbers": appeal.registration_number,
            "received_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert "No appeal with these numbers" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_register_marks_overdue_requests(clerk_client, clerk, appeal):
    old = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name="Старый запрос",
        requester_contact="",
        appeals=[appeal],
        received_on=timezone.localdate() - dt.timedelta(days=8),
    )
    fresh = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name="Новый запрос",
        requester_contact="",
        appeals=[appeal],
        received_on=timezone.localdate(),
    )
    answered = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name="Отвеченный запрос",
        requester_contact="",
        appeals=[appeal],
        received_on=timezone.localdate() - dt.timedelta(days=20),
    )
    subject_access.mark_answered(request_id=answered.pk, actor=clerk)
    response = clerk_client.get(url("data_requests"))
    assert response.status_code == 200
    rows = {row["request"].pk: row["overdue"] for row in response.context["rows"]}
    assert rows == {old.pk: True, fresh.pk: False, answered.pk: False}
    html = response.content.decode()
    assert 'id="data-requests-overdue"' in html
    assert html.index("Старый запрос") < html.index("Новый запрос")
    assert html.index("Новый запрос") < html.index("Отвеченный запрос")


def test_due_today_is_not_overdue(clerk, appeal):
    item = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name=NAME,
        requester_contact="",
        appeals=[appeal],
        received_on=timezone.localdate() - dt.timedelta(days=7),
    )
    assert not subject_access.is_overdue(item)
    assert subject_access.is_overdue(
        item, today=timezone.localdate() + dt.timedelta(days=1)
    )


def test_clerk_answers_with_the_pdf_and_marks_it_answered(clerk_client, clerk, appeal):
    second = paper_appeal(clerk, applicant_name="Иванова Мария")
    _record(clerk_client, appeal)
    item = DataSubjectRequest.objects.get()
    item.appeals.add(second)
    page = clerk_client.get(url("data_request", item.pk))
    assert page.status_code == 200
    response = clerk_client.get(url("data_request_pdf", item.pk))
    assert response.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert NAME in text and "Иванова Мария" in text
    events = Event.objects.filter(type=Event.Type.PERSONAL_DATA_ISSUED)
    assert {e.appeal_id for e in events} == {appeal.pk, second.pk}
    assert all(e.actor == clerk and e.data["channel"] == "paper" for e in events)
    assert PersonalDataAccess.objects.filter(what="data_request").count() == 2
    one = clerk_client.get(url("data_request_pdf", item.pk) + f"?appeal={second.pk}")
    assert one.status_code == 200
    assert (
        clerk_client.get(
            url("data_request_pdf", item.pk) + "?appeal=999999"
        ).status_code
        == 404
    )
    response = clerk_client.post(url("data_request_answered", item.pk))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.answered_on == timezone.localdate()


def test_another_agencys_clerk_cannot_see_a_request(client, clerk, appeal):
    item = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name=NAME,
        requester_contact="",
        appeals=[appeal],
        received_on=timezone.localdate(),
    )
    other = AgencyFactory(slug="min-labour", code="MT")
    login_staff(client, staff_member("clerk", other, username="clerk-mt"))
    assert NAME not in client.get(url("data_requests")).content.decode()
    assert client.get(url("data_request", item.pk)).status_code == 404
    assert client.get(url("data_request_pdf", item.pk)).status_code == 404
    assert client.post(url("data_request_answered", item.pk)).status_code == 404
    item.refresh_from_db()
    assert item.answered_on is None


def test_other_roles_are_refused(client, appeal):
    login_staff(client, staff_member("controller", username="ctrl"))
    assert client.get(url("data_requests")).status_code == 403


def test_the_clerks_menu_links_the_register(clerk_client):
    html = clerk_client.get(url("dashboard")).content.decode()
    assert url("data_requests") in html
