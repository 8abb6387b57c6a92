"""The filing receipt: signed, recorded (hash, signer), never stored, never unsigned."""

import pytest
from django.core.files.storage import default_storage

from agencies.models import Topic
from appeals.models import Appeal, IssuedDocument
from portal import signing
from tests.factories import filing_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(client):
    topic = Topic.objects.create(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )
    client.post("/ky/appeal/", filing_form(topic.code))
    return Appeal.objects.get()


def test_receipt_is_signed_and_recorded_without_storing_it(client, sent):
    response = client.get(f"/ru/appeal/sent/{sent.tracking_number}/receipt.pdf")
    assert response.status_code == 200
    verdict = signing.validate_pdf(response.content)
    assert verdict.valid
    document = IssuedDocument.objects.get(kind=IssuedDocument.Kind.RECEIPT)
    assert document.sha256 == signing.sha256(response.content)
    assert document.file_name == ""
    assert document.language == "ru"
    assert not default_storage.exists("issued")
    page = client.get(f"/ru/verify/{document.code}/").content.decode()
    assert document.sha256 in page
    assert sent.tracking_number not in page  # half of the citizen's credentials


def test_no_unsigned_receipt_when_nothing_can_sign(client, sent, settings):
    settings.SIGNING_USE_DEMO = False
    response = client.get(f"/ru/appeal/sent/{sent.tracking_number}/receipt.pdf")
    assert response.status_code == 503
    assert not response.content.startswith(b"%PDF")
    assert not IssuedDocument.objects.exists()
