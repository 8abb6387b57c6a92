import re
import shutil
import subprocess
import uuid

import pytest
from django.core import mail
from django.test import Client

from agencies.models import Agency, Topic
from appeals.intake import filing, flags, registration
from appeals.models import Appeal, Notification, StagedUpload
from appeals.register import codes
from portal.celery import app as celery_app
from tests.factories import filing_form
from tests.files import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    return Topic.objects.create(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _form_data(topic, **overrides):
    # The name's double space checks that the form folds it.
    return filing_form(topic.code, **{"applicant_name": "Асанов  Бакыт", **overrides})


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_form_opens_in_each_language_with_that_language_preselected(client, lang):
    html = client.get(f"/{lang}/appeal/").content.decode()
    assert f'<option value="{lang}" selected>' in html
    assert 'name="submission_key"' in html


def test_form_preselects_the_agency_from_the_directory(client):
    Agency.objects.create(
        slug="min-health", code="MZ", name_ky="Саламаттык", name_en="Health"
    )
    html = client.get("/en/appeal/?agency=min-health").content.decode()
    assert '<option value="min-health" selected>' in html


def test_sending_an_appeal_shows_tracking_number_and_access_code(client, topic):
    response = client.post("/en/appeal/", _form_data(topic))
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/appeal/sent/{appeal.tracking_number}/"
    html = client.get(response["Location"]).content.decode()
    assert appeal.tracking_number in html
    code = re.search(r'id="access-code">([0-9A-Z-]+)<', html).group(1)
    assert codes.check_access_code(code, appeal.access_code_hash)
    assert appeal.applicant_name == "Асанов Бакыт"
    assert appeal.status == "submitted" and appeal.channel == "portal"


def test_the_same_form_sent_twice_creates_one_appeal(client, topic):
    data = _form_data(topic)
    first = client.post("/en/appeal/", data)
    second = client.post("/en/appeal/", data)
    assert Appeal.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_validation_error_keeps_the_text_and_the_uploaded_file(client, topic):
    data = _form_data(topic, applicant_name="")
    data["attachments"] = upload("scan.png", png_bytes())
    response = client.post("/ky/appeal/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "үч айдан бери жарык" in html
    assert "scan.png" in html
    assert StagedUpload.objects.count() == 1
    # The citizen fixes the name and sends, without attaching the file again.
    data.pop("attachments")
    data["applicant_name"] = "Асанов Бакыт"
    assert client.post("/ky/appeal/", data).status_code == 302
    assert Appeal.objects.get().attachments.get().original_name == "scan.png"


def test_a_file_that_lies_about_its_type_is_refused_and_nothing_else_is_lost(
    client, topic
):
    data = _form_data(topic)
    data["attachments"] = [
        upload("real.pdf", pdf_bytes()),
        upload("fake.pdf", b"this is not a pdf at all"),
    ]
    response = client.post("/en/appeal/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "fake.pdf" in html and "we check the content" in html
    assert "real.pdf" in html
    assert not Appeal.objects.exists()


def test_citizen_can_remove_a_staged_file(client, topic):
    data = _form_data(topic, applicant_name="")
    data["attachments"] = upload("scan.png", png_bytes())
    client.post("/en/appeal/", data)
    staged = StagedUpload.objects.get()
    data.pop("attachments")
    data.update(applicant_name="Bakyt Asanov", remove=str(staged.token))
    assert client.post("/en/appeal/", data).status_code == 302
    assert not Appeal.objects.get().attachments.exists()


def test_at_least_one_way_to_reach_the_applicant_is_required(client, topic):
    data = _form_data(
        topic, applicant_phone="", applicant_email="", applicant_address=""
    )
    response = client.post("/en/appeal/", data)
    assert response.status_code == 400
    assert "at least one way to reach you" in response.content.decode()


def test_collective_appeal_needs_its_number_of_signatories(client, topic):
    response = client.post("/en/appeal/", _form_data(topic, is_collective="1"))
    assert response.status_code == 400
    client.post("/en/appeal/", _form_data(topic, is_collective="1", signatories="25"))
    appeal = Appeal.objects.get()
    assert appeal.is_collective and appeal.signatories == 25


def test_honeypot_filled_by_a_robot_sends_nothing(client, topic):
    response = client.post("/en/appeal/", _form_data(topic, website="http://spam"))
    assert response.status_code == 400
    assert not Appeal.objects.exists()


def test_submissions_per_client_are_rate_limited_without_losing_the_text(
    client, topic, settings
):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit": (2, 3600)}
    for _ in range(2):
        assert client.post("/en/appeal/", _form_data(topic)).status_code == 302
    response = client.post("/en/appeal/", _form_data(topic))
    assert response.status_code == 429
    assert "үч айдан бери жарык" in response.content.decode()
    assert Appeal.objects.count() == 2


def test_receipt_email_goes_out_in_the_language_of_the_appeal(
    client, topic, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/appeal/", _form_data(topic, language="ru"))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bakyt@example.kg"]
    assert Appeal.objects.get().tracking_number in message.subject
    assert "Ваше обращение" in message.subject
    assert Notification.objects.get().state == Notification.State.SENT


def test_receipt_pdf_carries_the_tracking_number_and_code(client, topic):
    response = client.post("/ky/appeal/", _form_data(topic))
    html = client.get(response["Location"]).content.decode()
    code = re.search(r'id="access-code">([0-9A-Z-]+)<', html).group(1)
    appeal = Appeal.objects.get()
    pdf = client.get(f"/ky/appeal/sent/{appeal.tracking_number}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout.decode()
        assert appeal.tracking_number in text and code in text
        assert "жарык күйбөй" in text


def test_receipt_pdf_is_only_for_the_session_that_sent_the_appeal(client, topic):
    client.post("/en/appeal/", _form_data(topic))
    appeal = Appeal.objects.get()
    client.logout()
    client.cookies.clear()
    assert (
        client.get(f"/en/appeal/sent/{appeal.tracking_number}/receipt.pdf").status_code
        == 404
    )


def test_sending_an_appeal_writes_no_session_and_few_queries(
    client, topic, django_assert_max_num_queries
):
    from django.contrib.sessions.models import Session

    # The form's topic, the key looked up once, the appeal, its staged files, event
    # and receipt (and the savepoint around them in a test): no session row. The
    # flags' word list is read once per process, not per filing: read it first.
    flags.word_matcher()
    with django_assert_max_num_queries(8):
        response = client.post("/en/appeal/", _form_data(topic))
    assert response.status_code == 302
    assert not Session.objects.exists()
    cookie = response.cookies["appeal_receipts"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    appeal = Appeal.objects.get()
    # The receipt, its PDF and the status page open in this browser without the code.
    html = client.get(response["Location"]).content.decode()
    code = re.search(r'id="access-code">([0-9A-Z-]+)<', html).group(1)
    assert codes.check_access_code(code, appeal.access_code_hash)
    status = client.get(f"/en/track/{appeal.tracking_number}/")
    assert status.status_code == 200


def test_a_tampered_receipt_cookie_opens_nothing(client, topic):
    response = client.post("/en/appeal/", _form_data(topic))
    appeal = Appeal.objects.get()
    value = response.cookies["appeal_receipts"].value
    forged = value.replace(value[-3:], "AAA" if value[-3:] != "AAA" else "BBB")
    client.cookies["appeal_receipts"] = forged
    html = client.get(response["Location"]).content.decode()
    assert 'id="access-code"' not in html
    pdf = client.get(f"/en/appeal/sent/{appeal.tracking_number}/receipt.pdf")
    assert pdf.status_code == 404
    status = client.get(f"/en/track/{appeal.tracking_number}/")
    assert status.status_code == 302 and "/track/" in status["Location"]


def test_the_receipt_cookie_keeps_the_last_appeals_of_this_browser(
    client, topic, settings
):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit": (9, 3600)}
    numbers = []
    for _n in range(7):
        response = client.post("/en/appeal/", _form_data(topic))
        numbers.append(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    opened = [
        'id="access-code"' in client.get(f"/en/appeal/sent/{n}/").content.decode()
        for n in numbers
    ]
    assert opened == [False, False, True, True, True, True, True]


def test_the_same_form_sent_again_does_not_count_against_the_limit(
    client, topic, settings
):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit": (1, 3600)}
    data = _form_data(topic)
    first = client.post("/en/appeal/", data)
    again = client.post("/en/appeal/", data)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Appeal.objects.count() == 1
    assert client.post("/en/appeal/", _form_data(topic)).status_code == 429


def _submitted(**overrides):
    data = {
        "submission_key": uuid.uuid4(),
        "applicant_name": "Иванова Мария",
        "applicant_phone": "+996 700 000 001",
        "text": "<script>alert('x')</script> Прошу разобраться.",
        "language": "ru",
        "kind": "statement",
    }
    data.update(overrides)
    return filing.submit_appeal(**data)


def test_tracking_with_the_right_code_shows_the_history(client):
    submission = _submitted()
    response = client.post(
        "/ru/track/",
        {
            "tracking_number": submission.appeal.tracking_number.lower(),
            "access_code": submission.access_code,
        },
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Получено через портал" in html or "Received through the portal" in html
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html


def test_wrong_code_gets_one_generic_message(client):
    submission = _submitted()
    wrong = client.post(
        "/en/track/",
        {
            "tracking_number": submission.appeal.tracking_number,
            "access_code": "AAAA-BBBB-CCCCC",
        },
    )
    unknown = client.post(
        "/en/track/",
        {"tracking_number": "0000-0000-00", "access_code": "AAAA-BBBB-CCCCC"},
    )
    assert wrong.status_code == unknown.status_code == 400
    message = "could not find an appeal with this tracking number and access code"
    assert message in wrong.content.decode() and message in unknown.content.decode()


def test_status_page_without_the_code_asks_for_it(client):
    submission = _submitted()
    response = client.get(f"/en/track/{submission.appeal.tracking_number}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/track/?number=")


def test_tracking_attempts_are_limited_per_tracking_number(client, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "track_number": (3, 3600),
    }
    submission = _submitted()
    number = submission.appeal.tracking_number
    for _ in range(3):
        client.post(
            "/en/track/", {"tracking_number": number, "access_code": "WRONG-CODE-1"}
        )
    blocked = client.post(
        "/en/track/", {"tracking_number": number, "access_code": submission.access_code}
    )
    assert blocked.status_code == 429


def test_tracking_attempts_are_limited_per_client(client, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "track_client": (3, 900),
    }
    for i in range(3):
        client.post(
            "/en/track/", {"tracking_number": f"0000-0000-0{i}", "access_code": "X"}
        )
    submission = _submitted()
    blocked = client.post(
        "/en/track/",
        {
            "tracking_number": submission.appeal.tracking_number,
            "access_code": submission.access_code,
        },
    )
    assert blocked.status_code == 429


def test_left_without_consideration_shows_the_reason(client, django_user_model):
    from agencies.models import Membership

    clerk = django_user_model.objects.create_user("clerk9", password="x" * 16)
    apparatus = Agency.objects.get(slug="gov-apparatus")
    Membership.objects.create(user=clerk, agency=apparatus, role="clerk")
    submission = _submitted()
    registration.leave_without_consideration(
        appeal_id=submission.appeal.pk,
        actor=clerk,
        ground="no_name_or_address",
        reason="Нет способа связаться с заявителем.",
    )
    client.post(
        "/ru/track/",
        {
            "tracking_number": submission.appeal.tracking_number,
            "access_code": submission.access_code,
        },
    )
    html = client.get(
        f"/ru/track/{submission.appeal.tracking_number}/"
    ).content.decode()
    assert "Нет способа связаться с заявителем." in html


# --- what the security probe found (issue 25) ----------------------------------------


def test_the_receipt_page_shows_the_e_mail_only_to_the_browser_that_sent_it(
    client, topic
):
    sent = client.post("/en/appeal/", _form_data(topic))
    assert "bakyt@example.kg" in client.get(sent["Location"]).content.decode()
    stranger = Client()
    html = stranger.get(sent["Location"]).content.decode()
    assert "bakyt@example.kg" not in html


def test_wrong_codes_from_another_client_do_not_lock_out_the_owner(client, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "track_number": (3, 3600),
    }
    submission = _submitted()
    number = submission.appeal.tracking_number
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(10):
        attacker.post(
            "/en/track/", {"tracking_number": number, "access_code": "WRONG-CODE-1"}
        )
    owner = client.post(
        "/en/track/", {"tracking_number": number, "access_code": submission.access_code}
    )
    assert owner.status_code == 302


def test_a_long_file_name_is_cut_with_a_message_and_the_appeal_sent(client, topic):
    data = _form_data(topic)
    data["attachments"] = upload("а" * 300 + ".pdf", pdf_bytes())
    response = client.post("/en/appeal/", data, follow=True)
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    name = appeal.attachments.get().original_name
    assert len(name) == 100 and name.endswith(".pdf")
    assert "name was too long; it is kept as" in response.content.decode()


def test_a_second_post_of_the_form_with_another_file_adds_it(client, topic):
    data = _form_data(topic)
    data["attachments"] = upload("a.png", png_bytes())
    first = client.post("/en/appeal/", data)
    data["attachments"] = upload("b.pdf", pdf_bytes())
    again = client.post("/en/appeal/", data)
    assert again["Location"] == first["Location"]
    appeal = Appeal.objects.get()
    assert appeal.attachments.count() == 2
    assert not StagedUpload.objects.exists()
