"""Server errors: a calm page with the request id, and a report to a Sentry-compatible
receiver (a tiny HTTP server here) that carries no personal data."""

import gzip
import http.server
import json
import threading

import pytest
import sentry_sdk
from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest
from django.urls import path

from portal.errors import init_sentry
from portal.urls import urlpatterns as portal_urlpatterns
from tests.helpers import wait_for

NAME = "Жумабеков Нурлан"
EMAIL = "nurlan.zh@example.kg"
PHONE = "+996 700 987 654"


def boom(request: HttpRequest):
    raise RuntimeError(f"could not process the form of {request.POST.get('email')}")


# This module is the URL conf of its tests: the portal's URLs and a view that fails.
urlpatterns = [
    *portal_urlpatterns,
    *i18n_patterns(path("boom/", boom), prefix_default_language=True),
]
handler500 = "portal.views.server_error"

pytestmark = pytest.mark.urls(__name__)


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli  # pragma: no cover - only if the SDK picks brotli

            body = brotli.decompress(body)
        type(self).bodies.append((self.path, body.decode("utf-8")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_receiver():
    _Receiver.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    init_sentry(
        dsn=f"http://publickey@127.0.0.1:{server.server_address[1]}/42",
        environment="test",
    )
    try:
        yield _Receiver
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()


@pytest.fixture
def failing_client(client):
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_a_failing_view_shows_the_calm_page_with_the_request_id(failing_client, lang):
    response = failing_client.post(
        f"/{lang}/boom/", {"email": EMAIL}, headers={"X-Request-ID": "req-err-12345"}
    )
    assert response.status_code == 500
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert '<code id="request-id">req-err-12345</code>' in html
    assert response["X-Request-ID"] == "req-err-12345"
    assert "Traceback" not in html and EMAIL not in html


def test_generated_request_id_is_shown_too(failing_client):
    response = failing_client.post("/en/boom/", {"email": EMAIL})
    assert response.status_code == 500
    assert (
        f'<code id="request-id">{response["X-Request-ID"]}</code>'
        in response.content.decode()
    )


@pytest.mark.django_db
def test_server_error_reaches_the_sentry_receiver_without_personal_data(
    failing_client, sentry_receiver
):
    response = failing_client.post(
        "/en/boom/?phone=%2B996700987654",
        {"email": EMAIL, "name": NAME, "phone": PHONE},
        headers={"X-Request-ID": "req-sentry-777", "Cookie": "sessionid=secret-cookie"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    assert wait_for(lambda: sentry_receiver.bodies, timeout=10)
    events = []
    for url, body in sentry_receiver.bodies:
        assert url.startswith("/api/42/")
        for line in body.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and "exception" in item:
                events.append((item, line))
    assert events, sentry_receiver.bodies
    event, raw = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "could not process the form of [email]" in raw
    assert event["tags"]["request_id"] == "req-sentry-777"
    everything = "".join(body for _, body in sentry_receiver.bodies)
    for secret in (EMAIL, NAME, "987 654", "987654", "secret-cookie"):
        assert secret not in everything
