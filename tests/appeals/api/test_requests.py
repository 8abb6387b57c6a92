"""Requests the API must refuse cleanly, with its JSON error and the right status: a
body nested too deeply, a body sent in chunks without a length, a cursor it did not
issue, a method an endpoint does not have."""

import http.client
import json
import os

import pytest
from django.utils import translation
from django.utils.translation import gettext

from agencies.models import ApiScope
from appeals.models import Appeal
from tests.helpers import database_url_for_tests, gunicorn

from .conftest import auth, filing

pytestmark = pytest.mark.django_db

APPEALS = "/api/v1/appeals/"
FORWARDED = "/api/v1/forwarded/"


def _post_raw(client, body: bytes, key: str, **extra):
    return client.generic(
        "POST",
        APPEALS,
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        **auth(key),
        **extra,
    )


# --- Bodies nested too deeply ---------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 50])
def test_a_deeply_nested_body_is_a_json_bad_request(client, make_client, depth):
    issued = make_client()
    body = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
    response = _post_raw(client, body, issued.key, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    with translation.override("ru"):
        expected = gettext(
            "The JSON body is nested more than %(limit)s levels deep."
        ) % {"limit": 32}
    assert response.json() == {"detail": expected}
    assert "уровней" in expected  # in the language asked for
    assert not Appeal.objects.exists()


def test_a_body_nested_as_deep_as_allowed_is_read(client, make_client, topic):
    """The limit leaves room: attachments are three levels deep."""
    issued = make_client()
    nested: list = []
    for _ in range(30):
        nested = [nested]
    body = json.dumps({**filing(topic), "extra": nested}).encode()
    response = _post_raw(client, body, issued.key)
    assert response.status_code == 201, response.json()


# --- Bodies in chunks, without Content-Length ------------------------------------


def test_a_chunked_body_is_refused_with_length_required(client, make_client, topic):
    issued = make_client()
    body = json.dumps(filing(topic)).encode()
    # What a server hands on for a chunked body: no CONTENT_LENGTH; gunicorn says
    # it has taken the chunks off (wsgi.input_terminated).
    response = _post_raw(
        client,
        body,
        issued.key,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_ACCEPT_LANGUAGE="en",
        **{"wsgi.input_terminated": True},
    )
    assert response.status_code == 411
    assert response["Content-Type"] == "application/json"
    with translation.override("en"):
        expected = gettext(
            "Send the request body with a Content-Length header; bodies sent in "
            "chunks are not accepted."
        )
    assert response.json() == {"detail": expected}
    assert not Appeal.objects.exists()


def test_a_chunked_form_is_refused_with_length_required_too(client):
    """The web forms would read as blank (and fail the CSRF check): the same answer,
    as text."""
    response = client.generic(
        "POST",
        "/ru/appeal/",
        b"applicant_name=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response["Content-Type"].startswith("text/plain")
    assert "Content-Length" in response.content.decode()


@pytest.fixture
def gunicorn_server(tmp_path):
    """The portal under gunicorn, as deployed, on a port of the test's own."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url_for_tests(),
        "ALLOWED_HOSTS": "localhost",
    }
    with gunicorn(env=env, log=tmp_path / "gunicorn.log", host="localhost") as port:
        yield port


@pytest.mark.slow
def test_gunicorn_refuses_a_chunked_body_with_length_required(gunicorn_server):
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_server, timeout=10)
    body = json.dumps({"text": "x"}).encode()
    connection.putrequest("POST", APPEALS, skip_host=True)
    for name, value in (
        ("Host", "localhost"),
        ("Content-Type", "application/json"),
        ("Transfer-Encoding", "chunked"),
        ("Idempotency-Key", "k-1"),
        ("Authorization", "Api-Key x"),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    response = connection.getresponse()
    assert response.status == 411
    assert response.getheader("Content-Type") == "application/json"
    assert "Content-Length" in json.loads(response.read())["detail"]


# --- Cursors the API did not issue ------------------------------------------------


@pytest.mark.parametrize(
    "cursor", ["garbage", "t2026-13-45T00:00:00~1", "tnot-a-date~x", "~", "i1~2"]
)
def test_a_cursor_the_api_did_not_issue_is_a_bad_request(client, make_client, cursor):
    issued = make_client()
    response = client.get(
        APPEALS, {"cursor": cursor}, HTTP_ACCEPT_LANGUAGE="en", **auth(issued.key)
    )
    assert response.status_code == 400
    body = response.json()
    with translation.override("en"):
        assert body["detail"] == gettext("The request is not valid.")
        assert body["errors"] == {
            "cursor": [gettext("This is not a cursor this list gave out.")]
        }


# --- Methods an endpoint does not have -------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("delete", APPEALS, {"GET", "POST"}),
        ("put", APPEALS, {"GET", "POST"}),
        ("patch", FORWARDED, {"POST"}),
        ("get", FORWARDED, {"POST"}),
        ("delete", f"{APPEALS}GA-2026-000001/", {"GET"}),
    ],
)
def test_a_method_an_endpoint_does_not_have_is_not_allowed(
    client, make_client, method, url, allowed
):
    issued = make_client()
    response = getattr(client, method)(url, **auth(issued.key))
    assert response.status_code == 405
    listed = {m.strip() for m in response["Allow"].split(",")}
    assert allowed <= listed
    assert set(response.json()) == {"detail"}
    # What Allow lists, this key may call (it answers, if only to say what is wrong).
    for other in listed:
        status = client.generic(other, url, **auth(issued.key)).status_code
        assert status not in (403, 405), (other, status)


def test_a_method_not_allowed_still_needs_a_valid_key(client):
    assert client.delete(APPEALS).status_code == 401


def test_head_needs_the_scope_of_get(client, make_client):
    reader = make_client(scopes=[ApiScope.READ_STATUS])
    assert client.head(APPEALS, **auth(reader.key)).status_code == 200
    filer = make_client(scopes=[ApiScope.FILE])
    assert client.head(APPEALS, **auth(filer.key)).status_code == 403
