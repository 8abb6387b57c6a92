import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from weasyprint import HTML

from appeals.models import IssuedDocument

pytestmark = pytest.mark.django_db

LANGUAGES = ["ky", "ru", "en"]


@pytest.fixture
def issued(approve):
    answer = approve()
    return IssuedDocument.objects.get(answer=answer), answer.letter.read()


def _url(language: str, code: str) -> str:
    return f"/{language}/verify/{code}/"


def _upload(client, document, content: bytes, *, language="ru", name="letter.pdf"):
    return client.post(
        _url(language, document.code),
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_verify_page_shows_the_document_without_personal_data(client, issued, language):
    document, _letter = issued
    response = client.get(_url(language, document.code))
    assert response.status_code == 200
    page = response.content.decode()
    assert document.registration_number in page
    assert document.sha256 in page
    assert "FOR DEMONSTRATION ONLY" in page
    assert (
        document.agency.name_ru in page
        or document.agency.name_ky in page
        or (document.agency.name_en in page)
    )
    appeal = document.appeal
    assert appeal.applicant_name not in page
    assert appeal.applicant_email not in page
    assert "пособие" not in page  # the answer's text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_issued_file_is_recognised(client, issued, language):
    document, letter = issued
    response = _upload(client, document, letter, language=language)
    assert response.status_code == 200
    assert 'data-result="genuine"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_changed_file_is_refused(client, issued, language):
    document, letter = issued
    changed = bytearray(letter)
    changed[len(letter) // 3] ^= 0x01
    response = _upload(client, document, bytes(changed), language=language)
    assert 'data-result="changed"' in response.content.decode()


def test_a_file_with_text_appended_after_signing_is_refused(client, issued):
    document, letter = issued
    response = _upload(client, document, letter + b"\n% appended\n")
    assert 'data-result="changed"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unsigned_pdf_was_not_issued_by_the_portal(client, issued, language):
    document, _letter = issued
    unsigned = HTML(string="<p>Жооп</p>").write_pdf()
    response = _upload(client, document, unsigned, language=language)
    assert 'data-result="not_issued"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_file_that_is_not_a_pdf_was_not_issued_by_the_portal(
    client, issued, language
):
    document, _letter = issued
    response = _upload(
        client, document, b"just some text", language=language, name="letter.pdf"
    )
    assert 'data-result="not_issued"' in response.content.decode()


def test_a_too_large_file_is_refused_and_not_read(client, issued, settings):
    document, letter = issued
    settings.VERIFY_MAX_UPLOAD = 1024
    response = _upload(client, document, letter)
    assert response.status_code == 413
    assert 'data-result="too_large"' in response.content.decode()


def test_an_upload_is_never_stored(client, issued, settings):
    from pathlib import Path

    document, letter = issued
    before = sorted(Path(settings.MEDIA_ROOT).rglob("*"))
    _upload(client, document, letter)
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == before


def test_a_wrong_code_reveals_nothing(client, issued):
    document, _letter = issued
    wrong = client.get(_url("ru", "AAAAAAAAAA"))
    other = client.get(_url("ru", "BBBBBBBBBB"))
    assert wrong.status_code == other.status_code == 404

    # The same page as for any unknown code (the 404 page repeats the address and
    # carries a fresh CSRF token in its language switch).
    def page(response, code):
        text = response.content.decode().replace(code, "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert page(wrong, "AAAAAAAAAA") == page(other, "BBBBBBBBBB")
    assert document.registration_number not in wrong.content.decode()


def test_a_letter_waiting_for_signing_is_not_shown(client, approve, settings):
    settings.SIGNING_USE_DEMO = False  # nothing can sign
    answer = approve()
    document = IssuedDocument.objects.get(answer=answer)
    assert document.state == IssuedDocument.State.WAITING
    assert client.get(_url("ru", document.code)).status_code == 404


def test_verification_is_rate_limited(issued, settings):
    document, _letter = issued
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "track_client": (3, 900),
    }
    client = Client()
    statuses = [client.get(_url("ru", "WRONGCODE2")).status_code for _ in range(3)]
    assert statuses == [404, 404, 404]
    # Past the limit even the right code is refused: guessing stops.
    assert client.get(_url("ru", document.code)).status_code == 429


def test_csrf_is_checked_on_upload(issued):
    document, letter = issued
    client = Client(enforce_csrf_checks=True)
    response = _upload(client, document, letter)
    assert response.status_code == 403
