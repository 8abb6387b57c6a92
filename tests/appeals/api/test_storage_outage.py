"""The API while the files' storage refuses writes: 503, nothing half-saved, and the
same request files once the storage is back."""

import pytest

from appeals.models import Appeal
from tests.engines.s3 import s3_server, storages_with  # noqa: F401
from tests.files import png_bytes

from .conftest import auth, b64, filing

pytestmark = pytest.mark.django_db


def test_an_api_filing_while_the_bucket_is_missing_is_503_and_can_be_sent_again(
    client,
    settings,
    s3_server,  # noqa: F811
    make_client,
    topic,
):
    """Nothing half-saved, no 500: the client is told to send the same request
    again, and the same Idempotency-Key files it once the bucket is back."""
    issued = make_client()
    body = filing(
        topic, attachments=[{"name": "scan.png", "content": b64(png_bytes())}]
    )

    def send():
        return client.post(
            "/api/v1/appeals/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="retry-me",
            HTTP_ACCEPT_LANGUAGE="en",
            **auth(issued.key),
        )

    settings.STORAGES = storages_with(settings, s3_server.storage_url("gone-bucket"))
    response = send()
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "nothing was filed" in response.json()["detail"]
    assert not Appeal.objects.exists()
    settings.STORAGES = storages_with(settings, s3_server.storage_url(s3_server.bucket))
    again = send()
    assert again.status_code == 201, again.json()
    assert Appeal.objects.get().attachments.count() == 1
