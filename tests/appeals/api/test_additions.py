"""An API client with the `file` scope adds to an appeal it filed, on the citizen's
behalf; `read_status` shows the additions."""

import pytest

from agencies.models import ApiScope
from appeals.models import Addition, Appeal, Event, Status
from tests.files import pdf_bytes

from .conftest import auth, b64, filing

pytestmark = pytest.mark.django_db

APPEALS = "/api/v1/appeals/"


def post(client, url, data, key, idem):
    return client.post(
        url,
        data,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idem,
        **auth(key),
    )


@pytest.fixture
def filed(client, make_client, topic):
    issued = make_client()
    response = post(client, APPEALS, filing(topic), issued.key, "file-1")
    assert response.status_code == 201
    return issued, response.json()["tracking_number"]


def test_a_client_adds_text_and_files_once_per_key(client, filed):
    issued, number = filed
    url = f"{APPEALS}{number}/additions/"
    body = {
        "text": "Дополнение: справка приложена.",
        "attachments": [{"name": "справка.pdf", "content": b64(pdf_bytes())}],
    }
    first = post(client, url, body, issued.key, "add-1")
    assert first.status_code == 201, first.json()
    assert first.json()["files"] == 1
    again = post(client, url, body, issued.key, "add-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    addition = Addition.objects.get()
    assert addition.api_client == issued.client
    assert Event.objects.filter(type=Event.Type.ADDED_BY_CITIZEN).count() == 1
    detail = client.get(f"{APPEALS}{number}/", **auth(issued.key)).json()
    assert detail["additions"] == [
        {
            "added_at": addition.added_at.isoformat(),
            "text": "Дополнение: справка приложена.",
            "files": [{"name": "справка.pdf", "size": len(pdf_bytes())}],
        }
    ]
    assert "added_by_citizen" in [event["type"] for event in detail["history"]]


def test_a_closed_appeal_refuses_with_a_translated_error(client, filed):
    issued, number = filed
    Appeal.objects.filter(tracking_number=number).update(
        status=Status.CLOSED, outcome="withdrawn"
    )
    response = client.post(
        f"{APPEALS}{number}/additions/",
        {"text": "Ещё одно"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="add-2",
        HTTP_ACCEPT_LANGUAGE="en",
        **auth(issued.key),
    )
    assert response.status_code == 400
    assert "This appeal is closed" in " ".join(response.json()["errors"]["text"])
    assert not Addition.objects.exists()


def test_another_clients_appeal_is_not_found(client, filed, make_client):
    _issued, number = filed
    stranger = make_client(scopes=[ApiScope.FILE], agency=None)
    response = post(
        client, f"{APPEALS}{number}/additions/", {"text": "x"}, stranger.key, "a-3"
    )
    assert response.status_code == 404
    assert not Addition.objects.exists()


def test_a_number_longer_than_any_tracking_number_is_not_found(client, filed):
    issued, _number = filed
    response = post(
        client, f"{APPEALS}{'X' * 40}/additions/", {"text": "x"}, issued.key, "a-4"
    )
    assert response.status_code == 404
    assert not Addition.objects.exists()
