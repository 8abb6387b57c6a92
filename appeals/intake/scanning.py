"""Virus scanning of uploads: a pluggable scanner (settings.UPLOAD_SCANNER) and the
quarantine where refused files are kept, outside the uploaded files' folder (or under
their own prefix of the bucket, with object storage).

ClamdScanner speaks clamd's INSTREAM protocol itself (a few lines; the PyPI clients are
unmaintained): "zINSTREAM\\0", then chunks each prefixed with its length as 4 bytes
big-endian, a zero-length chunk to end, and one reply ending in NUL, e.g.
"stream: OK" or "stream: Eicar-Test-Signature FOUND".
"""

import hashlib
import json
import logging
import os
import socket
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.utils import timezone
from django.utils.module_loading import import_string

from portal import filestore

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


class ScanError(Exception):
    """The scanner could not give a verdict (unreachable, timed out, an error reply)."""


@dataclass(frozen=True)
class Verdict:
    infected: bool
    signature: str = ""


CLEAN = Verdict(infected=False)


class Scanner(Protocol):
    name: str

    def scan(self, stream: BinaryIO) -> Verdict: ...


class NoScanner:
    """The default when no virus scanner is configured: every file passes."""

    name = "none"

    def scan(self, stream: BinaryIO) -> Verdict:
        return CLEAN


class ClamdScanner:
    """ClamAV's daemon over TCP (CLAMD_HOST, CLAMD_PORT) or a Unix socket
    (CLAMD_SOCKET)."""

    name = "clamd"

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        socket_path: str | None = None,
        timeout: float | None = None,
    ):
        self.host = settings.CLAMD_HOST if host is None else host
        self.port = settings.CLAMD_PORT if port is None else port
        self.socket_path = settings.CLAMD_SOCKET if socket_path is None else socket_path
        self.timeout = settings.CLAMD_TIMEOUT if timeout is None else timeout

    def _connect(self) -> socket.socket:
        if self.socket_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
            return sock
        return socket.create_connection((self.host, self.port), timeout=self.timeout)

    def scan(self, stream: BinaryIO) -> Verdict:
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                while chunk := stream.read(CHUNK_SIZE):
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = _read_reply(sock)
        except OSError as exc:
            raise ScanError(f"clamd unreachable: {exc}") from exc
        return parse_reply(reply)


def _read_reply(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            break
        data += part
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply: str) -> Verdict:
    """clamd's answer for a stream: 'stream: OK', 'stream: NAME FOUND' or an error."""
    _, _, result = reply.partition(": ")
    if result == "OK":
        return CLEAN
    if result.endswith(" FOUND"):
        return Verdict(infected=True, signature=result.removesuffix(" FOUND").strip())
    raise ScanError(f"clamd answered: {reply[:200]!r}")


def get_scanner() -> Scanner:
    path = settings.UPLOAD_SCANNER
    old = "appeals.scanning."  # its home before the appeals app was split
    if path.startswith(old):
        path = __name__ + "." + path[len(old) :]
    return import_string(path)()


@dataclass(frozen=True)
class Quarantined:
    id: str
    location: str  # a path under QUARANTINE_DIR, or an object name in the bucket
    sha256: str
    size: int


def quarantine(
    stream: BinaryIO, *, original_name: str, signature: str, scanner: str
) -> Quarantined:
    """Keep a refused file for the security officer to examine or delete, with a JSON
    record beside it: under QUARANTINE_DIR (never served, outside MEDIA_ROOT), or,
    with object storage, under QUARANTINE_PREFIX in the bucket (never served: no row
    names it, and filestore.open_or_404 refuses the prefix)."""
    item_id = f"{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    record = {
        "id": item_id,
        "quarantined_at": timezone.now().isoformat(),
        "scanner": scanner,
        "signature": signature,
        "sha256": digest.hexdigest(),
        "size": size,
        # The file's name may itself be personal data: kept here, never in the logs.
        "original_name": original_name,
    }
    data = json.dumps(record, ensure_ascii=False, indent=2).encode()
    if filestore.is_object_storage():
        location = _quarantine_in_storage(stream, item_id, data)
    else:
        location = _quarantine_on_disk(stream, item_id, data)
    stream.seek(0)
    logger.warning(
        "upload quarantined: id=%s signature=%s sha256=%s size=%d",
        item_id,
        signature,
        record["sha256"],
        size,
    )
    return Quarantined(
        id=item_id, location=location, sha256=record["sha256"], size=size
    )


def _quarantine_on_disk(stream: BinaryIO, item_id: str, record: bytes) -> str:
    folder = Path(settings.QUARANTINE_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{item_id}.quarantined"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK_SIZE):
            out.write(chunk)
    fd = os.open(
        folder / f"{item_id}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )
    with os.fdopen(fd, "wb") as out:
        out.write(record)
    return str(path)


def _quarantine_in_storage(stream: BinaryIO, item_id: str, record: bytes) -> str:
    storage = filestore.files()
    prefix = filestore.quarantine_prefix()
    name = storage.save(f"{prefix}{item_id}.quarantined", File(stream))
    storage.save(f"{prefix}{item_id}.json", ContentFile(record))
    return name
