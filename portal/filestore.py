"""Where the portal keeps its files: MEDIA_ROOT, or an S3-compatible bucket when
STORAGE_URL (or S3_BUCKET) is set. Everything goes through Django's storage API; this
module holds what the storage API lacks: the settings of the bucket, opening a stored
file for a download (a vanished one is a 404, not a 500), the readiness check, the
quarantine's place, and walking every stored file (for the backup).
"""

import logging
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import Http404

logger = logging.getLogger(__name__)

S3_BACKEND = "storages.backends.s3.S3Storage"
SSE_MODES = ("AES256", "aws:kms")
ADDRESSING_STYLES = ("path", "virtual", "auto")
# STORAGE_URL's query keys, each also settable alone as S3_<KEY upper-cased>.
URL_KEYS = (
    "endpoint_url",
    "region",
    "addressing_style",
    "sse",
    "sse_kms_key_id",
    "prefix",
    "verify",
    "connect_timeout",
    "read_timeout",
)
# Below this a downloaded object is buffered in memory, above it in a temporary file.
MAX_MEMORY_SIZE = 2 * 1024 * 1024


# --- settings ---------------------------------------------------------------------


def s3_options(url: str, environ: Mapping[str, str]) -> dict | None:
    """The S3Storage options from STORAGE_URL and the S3_* variables (which win), or
    None when neither names a bucket: the files stay in MEDIA_ROOT.

    STORAGE_URL = s3://ACCESS_KEY:SECRET_KEY@BUCKET?endpoint_url=...&region=...
    (keys percent-encoded; without keys boto3's own chain is used: AWS_* variables,
    an instance role)."""
    values: dict[str, str] = {}
    if url:
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ImproperlyConfigured(
                f"STORAGE_URL must start with s3:// (got {parts.scheme or 'none'}://)"
            )
        values["bucket"] = parts.hostname or ""
        if parts.username:
            values["access_key_id"] = unquote(parts.username)
        if parts.password:
            values["secret_access_key"] = unquote(parts.password)
        if parts.path.strip("/"):
            values["prefix"] = parts.path.strip("/")
        for key, items in parse_qs(parts.query, keep_blank_values=True).items():
            if key not in URL_KEYS:
                raise ImproperlyConfigured(
                    f"STORAGE_URL: unknown option {key!r} "
                    f"(known: {', '.join(URL_KEYS)})"
                )
            values[key] = items[-1]
    for key in ("bucket", "access_key_id", "secret_access_key", *URL_KEYS):
        if environ.get(f"S3_{key.upper()}"):
            values[key] = environ[f"S3_{key.upper()}"]
    if not values.get("bucket"):
        if url:
            raise ImproperlyConfigured("STORAGE_URL names no bucket: s3://KEYS@BUCKET")
        return None
    return _options(values)


def _options(values: dict[str, str]) -> dict:
    # botocore only when object storage is on: the embedded default never loads it.
    from botocore.config import Config

    endpoint = values.get("endpoint_url") or None
    style = values.get("addressing_style") or ("path" if endpoint else "auto")
    if style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"S3 addressing_style must be one of {', '.join(ADDRESSING_STYLES)}"
        )
    parameters: dict[str, str] = {}
    sse = values.get("sse", "")
    if sse:
        if sse not in SSE_MODES:
            raise ImproperlyConfigured(
                f"S3 sse must be one of {', '.join(SSE_MODES)} (got {sse!r})"
            )
        parameters["ServerSideEncryption"] = sse
        if sse == "aws:kms" and values.get("sse_kms_key_id"):
            parameters["SSEKMSKeyId"] = values["sse_kms_key_id"]
    verify: bool | str | None = values.get("verify") or None
    if verify in ("false", "0", "no"):
        verify = False
    return {
        "bucket_name": values["bucket"],
        "endpoint_url": endpoint,
        "region_name": values.get("region") or None,
        "access_key": values.get("access_key_id") or None,
        "secret_key": values.get("secret_access_key") or None,
        "location": values.get("prefix", "").strip("/"),
        "verify": verify,
        # Private objects only: no ACL header (the bucket's own, private), links only
        # signed, never overwrite (names are made unique as on the local disk).
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "object_parameters": parameters,
        "max_memory_size": MAX_MEMORY_SIZE,
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            # An unreachable endpoint fails a request in seconds, not minutes.
            connect_timeout=float(values.get("connect_timeout") or 5),
            read_timeout=float(values.get("read_timeout") or 30),
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }


# --- the storage in use -----------------------------------------------------------


def files() -> Storage:
    """The storage of uploaded and generated files (STORAGES["default"])."""
    return storages["default"]


def is_object_storage(storage: Storage | None = None) -> bool:
    return not isinstance(storage or files(), FileSystemStorage)


def quarantine_prefix() -> str:
    return settings.QUARANTINE_PREFIX.strip("/") + "/"


class StorageUnavailable(Exception):
    """The files' storage refused or did not answer a write: nothing was kept, the
    caller may try again (the API answers 503, the forms ask to send again)."""


def save(field_file, name: str, content, *, what: str = "storing a file") -> None:
    """field_file.save(name, content, save=False), a storage failure raised as
    StorageUnavailable (logged as "<what> failed") instead of whatever boto3 or the
    disk raised: bucket missing, keys refused, endpoint unreachable, disk full."""
    try:
        field_file.save(name, content, save=False)
    except Exception as exc:
        logger.exception("%s failed: %s", what, type(exc).__name__)
        raise StorageUnavailable(str(exc)) from exc


# --- downloads --------------------------------------------------------------------


def open_or_404(field_file, *, what: str) -> File:
    """A stored file opened for a download after the view's permission check. A file
    that vanished from the storage is the translated 404 page and an error log line
    (the row names a file nobody can give back: someone must look), not a 500."""
    name = field_file.name or ""
    if not name or name.startswith(quarantine_prefix()):
        raise Http404
    try:
        return field_file.open("rb")
    except FileNotFoundError:
        logger.error("stored file missing: %s %s", what, name)
        raise Http404 from None


# --- readiness --------------------------------------------------------------------


def check() -> str | None:
    """None when the files' storage answers, else why not (for /readyz and the
    operations page): the bucket exists and the keys may use it; or MEDIA_ROOT is
    writable."""
    storage = files()
    if not is_object_storage(storage):
        return _writable(Path(storage.location))
    bucket = getattr(storage, "bucket_name", "")
    where = getattr(storage, "endpoint_url", None) or "the default endpoint"
    try:
        storage.connection.meta.client.head_bucket(Bucket=bucket)
    except Exception as exc:
        return f"bucket {bucket!r} at {where}: {_s3_reason(exc)}"
    return None


@checks.register("storage", deploy=True)
def check_bucket(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: the bucket answers (a missing bucket, wrong keys
    or an unreachable endpoint stop a deployment with the reason)."""
    if not is_object_storage():
        return []
    reason = check()
    if reason is None:
        return []
    return [
        checks.Error(
            f"the files' storage is not ready: {reason}",
            hint="Check STORAGE_URL / S3_* (README, 'Files in object storage').",
            id="portal.E101",
        )
    ]


def _s3_reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return "no such bucket"
        if status in (401, 403):
            return f"access denied (HTTP {status}): wrong keys or no permission"
        return f"HTTP {status}: {response.get('Error', {}).get('Code', '')}".strip()
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"


def _writable(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
            pass
    except OSError as exc:
        return f"files folder {folder} not writable: {exc.strerror or exc}"
    return None


# --- every stored file ------------------------------------------------------------


def walk(storage: Storage | None = None, folder: str = "") -> Iterator[str]:
    """Every file's name in the storage, sorted, quarantine left out (it is never
    served and not backed up: the security officer's, not the register's)."""
    storage = storage or files()
    if folder == "" and not storage_exists_root(storage):
        return
    directories, names = storage.listdir(folder)
    for name in sorted(names):
        yield f"{folder}{name}"
    for directory in sorted(directories):
        path = f"{folder}{directory}/"
        if path == quarantine_prefix():
            continue
        yield from walk(storage, path)


def storage_exists_root(storage: Storage) -> bool:
    """A fresh MEDIA_ROOT may not exist yet (listdir would fail); a bucket always
    has its root."""
    if isinstance(storage, FileSystemStorage):
        return Path(storage.location).is_dir()
    return True
