"""Upload scanning: ClamAV's INSTREAM protocol against a small clamd peer (a TCP or
Unix-socket server in a thread that answers as clamd does, finding the EICAR test
string), the quarantine, and the uploader told in their language."""

import io
import json
import socket
import socketserver
import struct
import threading
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from appeals.intake import filing, scanning
from appeals.models import StagedUpload
from tests.files import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db

# The anti-virus test file every scanner recognises (harmless by design).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class _Clamd(socketserver.BaseRequestHandler):
    """clamd's side of INSTREAM: 'zINSTREAM\\0', length-prefixed chunks, a zero
    length, then one NUL-terminated reply."""

    commands: list = []

    def handle(self):
        command = b""
        while not command.endswith(b"\0"):
            command += self.request.recv(1)
        type(self).commands.append(command)
        if command != b"zINSTREAM\0":
            self.request.sendall(b"UNKNOWN COMMAND\0")
            return
        data = b""
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            data += self._exactly(length)
        if EICAR in data:
            self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = self.request.recv(size - len(data))
            if not part:
                raise ConnectionError("client went away")
            data += part
        return data


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@pytest.fixture
def clamd(settings, tmp_path):
    _Clamd.commands = []
    server = _TCPServer(("127.0.0.1", 0), _Clamd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.UPLOAD_SCANNER = "appeals.intake.scanning.ClamdScanner"
    settings.CLAMD_HOST, settings.CLAMD_PORT = server.server_address
    settings.CLAMD_SOCKET = ""
    settings.QUARANTINE_DIR = tmp_path / "quarantine"
    settings.MEDIA_ROOT = tmp_path / "media"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _infected_pdf() -> bytes:
    return pdf_bytes() + b"\n%" + EICAR + b"\n"


def test_a_clean_file_is_staged(clamd):
    key = uuid.uuid4()
    item = filing.stage_upload(submission_key=key, upload=upload("a.pdf", pdf_bytes()))
    assert item.pk and StagedUpload.objects.filter(submission_key=key).count() == 1
    assert _Clamd.commands == [b"zINSTREAM\0"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "The file report.pdf was refused: our virus check found a threat in it.",
        ),
    ],
)
def test_an_infected_file_is_refused_quarantined_and_the_uploader_told(
    clamd, settings, lang, expected, caplog
):
    key = uuid.uuid4()
    with translation.override(lang), pytest.raises(ValidationError) as error:
        filing.stage_upload(
            submission_key=key, upload=upload("report.pdf", _infected_pdf())
        )
    assert error.value.messages == [expected]
    assert not StagedUpload.objects.filter(submission_key=key).exists()
    media = (
        list(settings.MEDIA_ROOT.rglob("*.*")) if settings.MEDIA_ROOT.exists() else []
    )
    assert media == []
    files = sorted(settings.QUARANTINE_DIR.iterdir())
    kept = [f for f in files if f.suffix == ".quarantined"]
    records = [json.loads(f.read_text()) for f in files if f.suffix == ".json"]
    assert len(kept) == 1 and kept[0].read_bytes() == _infected_pdf()
    assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
    assert records[0]["signature"] == "Eicar-Test-Signature"
    assert records[0]["original_name"] == "report.pdf"
    assert records[0]["scanner"] == "clamd"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Eicar-Test-Signature" in logged and "report.pdf" not in logged


def test_the_refusal_shows_on_the_public_form(clamd, client):
    from agencies.models import Topic

    topic = Topic.objects.create(code="roads", name_ky="Жолдор", name_en="Roads")
    data = {
        "submission_key": str(uuid.uuid4()),
        "addressee": "",
        "kind": "complaint",
        "topic": topic.code,
        "text": "Биздин көчөдө үч айдан бери жарык күйбөй жатат, жардам бериңиздер.",
        "applicant_name": "Асанов Бакыт",
        "applicant_address": "",
        "applicant_phone": "",
        "applicant_email": "bakyt@example.kg",
        "is_collective": "0",
        "signatories": "",
        "language": "en",
        "consent": "on",
        "website": "",
        "attachments": [
            upload("photo.png", png_bytes()),
            upload("virus.pdf", _infected_pdf()),
        ],
    }
    response = client.post("/en/appeal/", data)
    html = response.content.decode()
    assert response.status_code == 400  # the form again, with the reason
    assert "The file virus.pdf was refused: our virus check found a threat" in html


def test_clamd_over_a_unix_socket(settings, tmp_path):
    path = str(tmp_path / "clamd.sock")
    server = _UnixServer(path, _Clamd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        scanner = scanning.ClamdScanner(socket_path=path, host="", port=0, timeout=5)
        assert scanner.scan(io.BytesIO(b"hello" * 100000)) == scanning.CLEAN
        verdict = scanner.scan(io.BytesIO(b"x" * 100000 + EICAR))
    finally:
        server.shutdown()
        server.server_close()
    assert verdict == scanning.Verdict(infected=True, signature="Eicar-Test-Signature")


def test_an_unreachable_scanner_refuses_the_file_rather_than_letting_it_in(
    settings, tmp_path
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.UPLOAD_SCANNER = "appeals.intake.scanning.ClamdScanner"
    settings.CLAMD_HOST, settings.CLAMD_PORT = "127.0.0.1", port
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"), pytest.raises(ValidationError) as error:
        filing.stage_upload(
            submission_key=uuid.uuid4(), upload=upload("a.pdf", pdf_bytes())
        )
    assert "could not check the file a.pdf for viruses" in error.value.messages[0]


def test_without_a_scanner_configured_every_file_passes(settings, tmp_path):
    settings.UPLOAD_SCANNER = "appeals.intake.scanning.NoScanner"
    settings.MEDIA_ROOT = tmp_path / "media"
    item = filing.stage_upload(
        submission_key=uuid.uuid4(), upload=upload("a.pdf", _infected_pdf())
    )
    assert item.pk


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("stream: OK", scanning.CLEAN),
        (
            "stream: Win.Test.EICAR_HDB-1 FOUND",
            scanning.Verdict(infected=True, signature="Win.Test.EICAR_HDB-1"),
        ),
    ],
)
def test_clamd_replies_are_understood(reply, verdict):
    assert scanning.parse_reply(reply) == verdict


def test_a_clamd_error_reply_is_a_scan_error():
    with pytest.raises(scanning.ScanError):
        scanning.parse_reply("INSTREAM size limit exceeded. ERROR")


@pytest.mark.parametrize(
    ("url", "body"),
    [("/api/v1/appeals/", "filing"), ("/api/v1/forwarded/", "forwarding")],
)
def test_files_sent_through_the_api_are_scanned_too(clamd, client, url, body):
    """Every entry point goes through the one upload path (issue 25, item 1)."""
    from agencies.models import Agency, ApiScope
    from appeals.api.clients import create_api_client
    from appeals.models import Appeal
    from tests.appeals.api.conftest import auth, b64, filing, forwarding
    from tests.factories import TopicFactory

    issued = create_api_client(
        name="Test system",
        agency=Agency.objects.get(slug="gov-apparatus"),
        scopes=list(ApiScope.values),
    )
    data = filing(TopicFactory(code="roads")) if body == "filing" else forwarding()
    data["attachments"] = [{"name": "virus.pdf", "content": b64(_infected_pdf())}]
    response = client.post(
        url,
        data,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        HTTP_ACCEPT_LANGUAGE="en",
        **auth(issued.key),
    )
    assert response.status_code == 400
    assert "virus check found a threat" in " ".join(
        response.json()["errors"]["attachments"]
    )
    assert not Appeal.objects.exists()
    assert _Clamd.commands == [b"zINSTREAM\0"]
    assert len(list(settings_quarantine(clamd))) == 1


def settings_quarantine(server):
    from django.conf import settings

    return Path(settings.QUARANTINE_DIR).glob("*.quarantined")


def test_a_scanner_named_by_its_home_before_the_split_still_loads(settings):
    """Deployments set UPLOAD_SCANNER=appeals.intake.scanning.ClamdScanner before issue 27."""
    settings.UPLOAD_SCANNER = "appeals.intake.scanning.NoScanner"
    assert isinstance(scanning.get_scanner(), scanning.NoScanner)
