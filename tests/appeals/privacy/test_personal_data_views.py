"""The citizen's download of what is held about them (PDF and JSON), from the tracking
page, only in the browser that opened the appeal with its access code."""

import json
import subprocess

import pytest
from django.urls import reverse
from django.utils import translation

from appeals.models import Event
from tests.factories import presidents_letter, staff_member

pytestmark = pytest.mark.django_db

NAME = "Петров Иван Сергеевич"


@pytest.fixture
def appeal_and_code():
    clerk = staff_member("clerk", username="clerk-ga")
    return presidents_letter(clerk, NAME, applicant_phone="+996 700 111 222")


def _track(client, appeal, code):
    response = client.post(
        "/ru/track/", {"tracking_number": appeal.tracking_number, "access_code": code}
    )
    assert response.status_code == 302


def _url(name, appeal, lang="ru"):
    with translation.override(lang):
        return reverse(f"appeals:{name}", args=[appeal.tracking_number])


def test_status_page_offers_both_downloads(client, appeal_and_code):
    appeal, code = appeal_and_code
    _track(client, appeal, code)
    html = client.get(_url("status", appeal)).content.decode()
    assert _url("my_data_pdf", appeal) in html
    assert _url("my_data_json", appeal) in html


def test_citizen_downloads_the_pdf_with_the_data(client, appeal_and_code, tmp_path):
    appeal, code = appeal_and_code
    _track(client, appeal, code)
    response = client.get(_url("my_data_pdf", appeal, lang="ky"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert NAME in text
    assert "+996 700 111 222" in text
    # The appeal is in Russian: so is the document, whatever the page's language.
    assert "Фамилия, имя, отчество" in text


def test_citizen_downloads_the_json(client, appeal_and_code):
    appeal, code = appeal_and_code
    _track(client, appeal, code)
    response = client.get(_url("my_data_json", appeal, lang="en"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["applicant"]["name"] == NAME
    assert data["language"] == "ru"
    event = Event.objects.get(appeal=appeal, type=Event.Type.PERSONAL_DATA_ISSUED)
    assert event.data == {"format": "json", "channel": "portal"}


@pytest.mark.parametrize("name", ["my_data_pdf", "my_data_json"])
def test_without_the_code_nothing_is_revealed(client, appeal_and_code, name):
    appeal, _code = appeal_and_code
    response = client.get(_url(name, appeal))
    assert response.status_code == 404
    assert NAME.encode() not in response.content
    assert not Event.objects.filter(type=Event.Type.PERSONAL_DATA_ISSUED).exists()


def test_a_wrong_code_does_not_open_the_download(client, appeal_and_code):
    appeal, _code = appeal_and_code
    response = client.post(
        "/ru/track/",
        {"tracking_number": appeal.tracking_number, "access_code": "AAAA-BBBB-CCCC"},
    )
    assert response.status_code == 400
    assert client.get(_url("my_data_pdf", appeal)).status_code == 404


def test_an_unknown_number_is_not_found(client, appeal_and_code):
    appeal, code = appeal_and_code
    _track(client, appeal, code)
    with translation.override("ru"):
        url = reverse("appeals:my_data_json", args=["ZZZZ-ZZZZ"])
    assert client.get(url).status_code == 404


def test_downloads_are_rate_limited(client, appeal_and_code, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "personal_data": (2, 60),
    }
    appeal, code = appeal_and_code
    _track(client, appeal, code)
    url = _url("my_data_json", appeal)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
