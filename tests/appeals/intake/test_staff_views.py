import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.intake import filing, registration
from appeals.models import Appeal, Event, Status
from appeals.register import codes, lookups
from tests.factories import (
    AgencyFactory,
    TopicFactory,
    staff_member,
    written_registration_form,
)
from tests.files import pdf_bytes, png_bytes, upload
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client):
    user = staff_member("clerk")
    login_staff(client, user)
    return user


def _written(**overrides):
    return written_registration_form(**overrides)


def test_staff_workspace_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/en/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/staff/login/")


def test_people_without_a_role_are_refused(client, django_user_model):
    user = django_user_model.objects.create_user("citizen", password="x" * 16)
    login_staff(client, user)
    assert client.get("/en/staff/").status_code == 403
    assert client.get("/en/staff/register/written/").status_code == 403


def test_staff_log_in_with_their_password(client):
    staff_member("clerk", username="aigul")
    response = client.post(
        "/ky/staff/login/", {"username": "aigul", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/ky/staff/"


def test_menu_follows_the_role(client):
    login_staff(client, staff_member("clerk"))
    html = client.get("/en/staff/").content.decode()
    assert "Register a written appeal" in html
    client.logout()
    login_staff(client, staff_member("executor", AgencyFactory()))
    html = client.get("/en/staff/").content.decode()
    assert "Register a written appeal" not in html


def test_clerk_registers_an_appeal_forwarded_by_the_jogorku_kenesh(client, clerk):
    data = _written()
    data["scan"] = upload("original.pdf", pdf_bytes())
    response = client.post("/en/staff/register/written/", data)
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/staff/appeals/{appeal.pk}/"
    assert appeal.registration_number == f"GA-{timezone.localdate().year}-000001"
    assert appeal.channel == "jogorku_kenesh" and appeal.form == "written"
    assert appeal.cover_letter_number == "12-3/456"
    assert appeal.attachments.get().purpose == "scan"
    card = client.get(response["Location"]).content.decode()
    assert appeal.registration_number in card
    code = re.search(r'id="access-code">([0-9A-Z-]+)<', card).group(1)
    assert codes.check_access_code(code, appeal.access_code_hash)


def test_forwarded_appeal_needs_the_cover_letter(client, clerk):
    response = client.post(
        "/en/staff/register/written/",
        _written(cover_letter_number="", cover_letter_date=""),
    )
    assert response.status_code == 400
    assert "cover letter" in response.content.decode()
    assert not Appeal.objects.exists()


def test_an_earlier_date_needs_a_reason(client, clerk):
    yesterday = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    response = client.post(
        "/en/staff/register/written/", _written(received_on=yesterday)
    )
    assert response.status_code == 400
    client.post(
        "/en/staff/register/written/",
        _written(received_on=yesterday, backdate_reason="Found in the post room late"),
    )
    appeal = Appeal.objects.get()
    assert appeal.received_on.isoformat() == yesterday
    assert appeal.backdate_reason == "Found in the post room late"


def test_other_means_need_the_delivery_method(client, clerk):
    response = client.post(
        "/en/staff/register/written/",
        _written(channel="other", cover_letter_number="", cover_letter_date=""),
    )
    assert response.status_code == 400
    client.post(
        "/en/staff/register/written/",
        _written(channel="other", delivery="box", cover_letter_number=""),
    )
    assert Appeal.objects.get().delivery == "box"


def test_scan_is_kept_when_the_form_has_an_error(client, clerk):
    data = _written(applicant_name="")
    data["scan"] = upload("original.png", png_bytes())
    response = client.post("/en/staff/register/written/", data)
    assert response.status_code == 400
    assert "original.png" in response.content.decode()
    data.pop("scan")
    data["applicant_name"] = "Мамытов Эрлан"
    assert client.post("/en/staff/register/written/", data).status_code == 302
    assert Appeal.objects.get().attachments.get().original_name == "original.png"


def test_double_click_registers_once(client, clerk):
    data = _written()
    client.post("/en/staff/register/written/", data)
    client.post("/en/staff/register/written/", data)
    assert Appeal.objects.count() == 1


def test_oral_appeal_records_who_received_the_citizen(client, clerk):
    heard = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(
        hours=1
    )
    data = {
        "submission_key": str(uuid.uuid4()),
        "received_at": heard.strftime("%Y-%m-%dT%H:%M"),
        "received_by": str(clerk.pk),
        "applicant_name": "Ким Ольга",
        "applicant_phone": "+996 555 000 111",
        "kind": "complaint",
        "text": "Жалуется на отказ в приёме документов в ЦОН.",
        "signatories": "1",
        "language": "ru",
    }
    response = client.post("/en/staff/register/oral/", data)
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.form == "oral" and appeal.channel == "public_reception"
    assert appeal.received_by == clerk
    assert timezone.localtime(appeal.received_at) == heard


def test_repeated_appeal_of_the_same_applicant_is_shown_and_linked(client, clerk):
    first = _written(applicant_phone="+996 555 123 456")
    client.post("/en/staff/register/written/", first)
    earlier = Appeal.objects.get()
    again = _written(
        applicant_name="МАМЫТОВ  Эрлан",
        applicant_phone="0555 123456",
        text="Дагы эле чечилген жок.",
    )
    response = client.post("/en/staff/register/written/", again)
    assert response.status_code == 200  # the clerk must answer first
    html = response.content.decode()
    assert 'id="similar-appeals"' in html and earlier.registration_number in html
    again.update(repeats_checked="1", repeat_of=str(earlier.pk))
    client.post("/en/staff/register/written/", again)
    repeat = Appeal.objects.exclude(pk=earlier.pk).get()
    assert repeat.repeat_of == earlier
    assert repeat.events.filter(type=Event.Type.LINKED_REPEAT).exists()


@pytest.fixture
def submission():
    return filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Иванова Мария",
        applicant_email="maria@example.kg",
        text="<b>Прошу</b> разобраться с начислением пенсии.",
        language="ru",
        kind="statement",
        topic=TopicFactory(),
    )


def test_queue_lists_portal_submissions_escaped(client, clerk, submission):
    html = client.get("/en/staff/queue/").content.decode()
    assert "Иванова Мария" in html
    item = client.get(f"/en/staff/queue/{submission.appeal.pk}/").content.decode()
    assert "&lt;b&gt;Прошу&lt;/b&gt;" in item


def test_clerk_registers_a_portal_submission_from_the_queue(client, clerk, submission):
    response = client.post(
        f"/en/staff/queue/{submission.appeal.pk}/",
        {
            "action": "register",
            "submission_key": str(uuid.uuid4()),
            "agency": Agency.objects.get(slug="gov-apparatus").pk,
        },
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.status == Status.REGISTERED and appeal.registration_number


def test_clerk_leaves_a_submission_without_consideration_with_a_reason(
    client, clerk, submission
):
    response = client.post(
        f"/ru/staff/queue/{submission.appeal.pk}/",
        {
            "action": "leave",
            "ground": "offensive",
            "details": "Обращение содержит оскорбительные выражения.",
        },
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.outcome == "left_without_consideration"
    assert appeal.outcome_reason  # the translated standard reason
    assert appeal.status == Status.CLOSED


def test_the_ground_needs_words_for_the_citizen(client, clerk, submission):
    response = client.post(
        f"/en/staff/queue/{submission.appeal.pk}/",
        {"action": "leave", "ground": "for_a_court", "details": ""},
    )
    assert response.status_code == 400
    assert Appeal.objects.get().status == Status.SUBMITTED


def test_second_clerk_acting_on_a_handled_submission_gets_a_clear_message(
    client, clerk, submission
):
    other = staff_member("clerk")
    registration.register_appeal(
        appeal_id=submission.appeal.pk,
        actor=other,
        agency=Agency.objects.get(slug="gov-apparatus"),
    )
    response = client.post(
        f"/en/staff/queue/{submission.appeal.pk}/",
        {"action": "register", "submission_key": str(uuid.uuid4())},
        follow=True,
    )
    assert "no longer possible" in response.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.status == Status.REGISTERED
    assert appeal.registered_by == other
    assert appeal.events.filter(type=Event.Type.REGISTERED).count() == 1


def test_attachments_are_served_only_to_staff_who_may_see_the_appeal(client, clerk):
    data = _written()
    data["scan"] = upload("original.pdf", pdf_bytes())
    client.post("/en/staff/register/written/", data)
    attachment = Appeal.objects.get().attachments.get()
    response = client.get(f"/en/staff/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.logout()
    login_staff(client, staff_member("clerk", AgencyFactory()))
    assert client.get(f"/en/staff/attachments/{attachment.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/en/staff/attachments/{attachment.pk}/").status_code == 302


def test_opening_an_appeal_is_logged_and_shown_in_its_history(client, clerk):
    from appeals.models import PersonalDataAccess

    client.post("/en/staff/register/written/", _written())
    appeal = Appeal.objects.get()
    html = client.get(f"/en/staff/appeals/{appeal.pk}/").content.decode()
    access = PersonalDataAccess.objects.get(appeal=appeal)
    assert access.user == clerk and access.what == "card" and access.ip == "127.0.0.1"
    assert "Openings of the applicant" in html


def test_working_days_left_are_shown_beside_the_due_date(client, clerk):
    from appeals.deadlines import calendar as deadlines
    from appeals.templatetags.deadlines import working_days_left

    client.post("/en/staff/register/written/", _written())
    appeal = Appeal.objects.get()
    html = client.get(f"/en/staff/appeals/{appeal.pk}/").content.decode()
    left = deadlines.working_days_between(timezone.localdate(), appeal.due_on)
    assert f"{left} working days left" in html
    assert working_days_left(timezone.localdate() - dt.timedelta(days=7)).startswith(
        "overdue by"
    )


@pytest.mark.postgres  # the text search with a time budget is PostgreSQL's
def test_a_text_search_out_of_time_is_said_and_the_same_applicant_still_shown(
    client, clerk, monkeypatch
):
    first = _written(applicant_phone="+996 555 123 456")
    client.post("/en/staff/register/written/", first)
    earlier = Appeal.objects.get()
    # As when the trigram search ran out of its budget on a large register.
    monkeypatch.setattr(lookups, "within_budget", lambda read, milliseconds: None)
    again = _written(applicant_phone="0555 123456", text=first["text"])
    response = client.post("/en/staff/register/written/", again)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="similar-text-skipped"' in html
    assert earlier.registration_number in html  # the same applicant was searched


@pytest.mark.parametrize(
    ("sent_as", "served_as"),
    [("scan_2026.pdf.bat", "scan_2026.pdf"), ("letter.hta", "letter.pdf")],
)
def test_an_attachment_is_downloaded_under_its_detected_type(
    client, clerk, sent_as, served_as
):
    data = _written()
    data["scan"] = upload(sent_as, pdf_bytes())
    client.post("/en/staff/register/written/", data)
    attachment = Appeal.objects.get().attachments.get()
    assert attachment.file.name.endswith(".pdf")
    response = client.get(f"/en/staff/attachments/{attachment.pk}/")
    assert response["Content-Disposition"] == f'attachment; filename="{served_as}"'
    assert response["Content-Type"] == "application/pdf"
