"""Backups of the whole portal in one archive: the database dump and the uploaded files,
with a manifest (versions, migration state, counts, checksums), and their restore
into an empty database and an empty storage.

Archive layout (tar.gz):
    manifest.json
    database/portal.dump       PostgreSQL: pg_dump -Fc (custom format)
    database/portal.sqlite3    SQLite: a copy made with SQLite's backup API
    media/<name>               every stored file (MEDIA_ROOT or the bucket, through
                               Django's storage API), under its storage name; the
                               bucket's quarantine prefix is left out

The database is dumped first, then the files: files are written before the rows that
point to them are committed, so every file a dumped row names is in the archive.
"""

import datetime as dt
import hashlib
import io
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

import django
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import connection
from django.utils import timezone

from . import filestore

FORMAT_VERSION = 1
CHUNK = 1024 * 1024
# Rows counted in the manifest and checked again after a restore.
COUNTED_TABLES = {
    "appeals": "appeals_appeal",
    "attachments": "appeals_attachment",
    "events": "appeals_event",
    "answers": "appeals_answer",
    "notifications": "appeals_notification",
    "agencies": "agencies_agency",
    "users": "auth_user",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict
    counts: dict[str, int]
    files: int


# --- backup -------------------------------------------------------------------------


def create_backup(output: Path) -> dict:
    """Write the archive to `output`; returns its manifest."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as workdir:
        work = Path(workdir)
        vendor = connection.vendor
        if vendor == "postgresql":
            dump = work / "portal.dump"
            _pg_dump(dump)
        elif vendor == "sqlite":
            dump = work / "portal.sqlite3"
            _sqlite_copy(Path(settings.DATABASES["default"]["NAME"]), dump)
        else:  # pragma: no cover - the portal runs on these two
            raise BackupError(f"no backup method for the {vendor} database")
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "versions": _versions(),
            "database": {
                "vendor": vendor,
                "file": f"database/{dump.name}",
                "sha256": _sha256_file(dump),
                "size": dump.stat().st_size,
            },
            "migrations": _applied_migrations(),
            "counts": _counts(),
            "files_storage": _describe(filestore.files()),
            "media": [],
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname=manifest["database"]["file"])
            storage = filestore.files()
            for name in filestore.walk(storage):
                added = _add_stored(archive, storage, name)
                if added is not None:
                    manifest["media"].append(
                        {"path": name, "sha256": added[0], "size": added[1]}
                    )
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        os.chmod(partial, 0o600)  # personal data: readable by its owner only
        partial.replace(output)
    return manifest


def _pg_dump(target: Path) -> None:
    _direct_connection()
    _run(
        ["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(target)],
        _pg_env(settings.DATABASES["default"]),
    )


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _versions() -> dict:
    versions = {
        "portal": _package_version("appeals-portal"),
        "django": django.get_version(),
        "python": platform.python_version(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            versions["postgresql_server"] = cursor.fetchone()[0]
        versions["pg_dump"] = _tool_version("pg_dump")
    else:
        versions["sqlite"] = sqlite3.sqlite_version
    return versions


def _applied_migrations() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
        rows = cursor.fetchall()
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return applied


def _counts(conn=None) -> dict[str, int]:
    conn = conn or connection
    counts = {}
    with conn.cursor() as cursor:
        for key, table in COUNTED_TABLES.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
            counts[key] = cursor.fetchone()[0]
    return counts


class _Hashing:
    """A stored file read once: into the archive and through the checksum."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_stored(
    archive: tarfile.TarFile, storage: Storage, name: str
) -> tuple[str, int] | None:
    """One stored file into the archive as media/<name>: (sha256, size), or None when
    it was deleted since the listing (a form's staged file purged meanwhile)."""
    try:
        size = storage.size(name)
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        return None
    with handle:
        info = tarfile.TarInfo(f"media/{name}")
        info.size = size
        info.mode = 0o600
        info.mtime = int(timezone.now().timestamp())
        reader = _Hashing(handle)
        archive.addfile(info, reader)
    return reader.digest.hexdigest(), size


def _describe(storage: Storage) -> str:
    if filestore.is_object_storage(storage):
        where = getattr(storage, "endpoint_url", None) or "the default endpoint"
        return f"bucket {getattr(storage, 'bucket_name', '?')} at {where}"
    return f"folder {storage.location}"


# --- restore ------------------------------------------------------------------------


def read_manifest(archive_path: Path) -> dict:
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile("manifest.json")
        if member is None:
            raise BackupError("the archive has no manifest.json")
        return json.load(member)


def restore_backup(archive_path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the archive into the configured database and files' storage (MEDIA_ROOT
    or the bucket: an archive of either restores into either), which must be empty
    (no tables; no files) unless `force`, which empties them first."""
    archive_path = Path(archive_path)
    manifest = read_manifest(archive_path)
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown archive format {manifest.get('format')!r}")
    vendor = manifest["database"]["vendor"]
    if vendor == "postgresql":
        _direct_connection()
    if vendor != connection.vendor:
        raise BackupError(
            f"the archive holds a {vendor} database; this portal uses "
            f"{connection.vendor}"
        )
    storage = filestore.files()
    tables = connection.introspection.table_names()
    existing_files = list(filestore.walk(storage))
    if (tables or existing_files) and not force:
        what = []
        if tables:
            what.append(f"the database has {len(tables)} tables")
        if existing_files:
            what.append(f"the {_describe(storage)} holds {len(existing_files)} files")
        raise BackupError(
            "restore needs an empty database and an empty storage, but "
            + " and ".join(what)
            + "; use --force to replace them"
        )
    with tempfile.TemporaryDirectory(prefix="portal-restore-") as workdir:
        work = Path(workdir)
        dump = _extract_checked(archive_path, manifest, work)
        if force:
            _empty_database(tables)
            for name in existing_files:
                storage.delete(name)
        if vendor == "postgresql":
            connection.close()
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "-d",
                    settings.DATABASES["default"]["NAME"],
                    str(dump),
                ],
                _pg_env(settings.DATABASES["default"]),
            )
        else:
            connection.close()
            _sqlite_copy(dump, Path(settings.DATABASES["default"]["NAME"]))
        files = _restore_media(archive_path, manifest, storage)
    counts = _counts()
    if counts != manifest["counts"]:
        raise BackupError(
            f"restored counts {counts} differ from the manifest {manifest['counts']}"
        )
    return RestoreResult(manifest=manifest, counts=counts, files=files)


def _extract_checked(archive_path: Path, manifest: dict, work: Path) -> Path:
    """Extract the database dump and check its checksum."""
    name = manifest["database"]["file"]
    target = work / PurePosixPath(name).name
    with tarfile.open(archive_path, "r:gz") as archive:
        source = archive.extractfile(name)
        if source is None:
            raise BackupError(f"the archive has no {name}")
        with open(target, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    if _sha256_file(target) != manifest["database"]["sha256"]:
        raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    return target


def _restore_media(archive_path: Path, manifest: dict, storage: Storage) -> int:
    """Each file checked against its checksum before it is stored under its name."""
    expected = {item["path"]: item["sha256"] for item in manifest["media"]}
    restored = 0
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive:
            if not member.name.startswith("media/") or not member.isfile():
                continue
            name = member.name.removeprefix("media/")
            parts = PurePosixPath(name).parts
            if name not in expected or name.startswith("/") or ".." in parts:
                raise BackupError(f"unexpected file in the archive: {member.name}")
            source = archive.extractfile(member)
            with tempfile.SpooledTemporaryFile(max_size=CHUNK * 4) as buffer:
                digest = hashlib.sha256()
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    buffer.write(chunk)
                if digest.hexdigest() != expected[name]:
                    raise BackupError(f"{name} does not match its checksum")
                buffer.seek(0)
                stored = storage.save(name, File(buffer, name=name))
            if stored != name:
                raise BackupError(f"{name} was stored as {stored}: storage not empty")
            restored += 1
    if restored != len(expected):
        raise BackupError(f"{len(expected) - restored} files missing from the archive")
    return restored


def _empty_database(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f'DROP TABLE IF EXISTS "{table}"')


# --- helpers --------------------------------------------------------------------------


def _direct_connection() -> None:
    """pg_dump and pg_restore set session parameters, which a transaction pooler
    hands to other clients (or refuses): they talk to PostgreSQL itself."""
    if getattr(settings, "DATABASE_POOLER", ""):
        raise BackupError(
            "backups connect to PostgreSQL directly: run the command with "
            "DATABASE_URL pointing at the primary (not PgBouncer) and "
            "DATABASE_POOLER unset"
        )


def _pg_env(db: dict) -> dict:
    env = {**os.environ}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    return env


def _run(command: list[str], env: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (apt-get install postgresql-client-15)"
        )
    result = subprocess.run(  # noqa: S603 - fixed programs, our own arguments
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _tool_version(tool: str) -> str:
    result = subprocess.run(  # noqa: S603
        [tool, "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_archive_name() -> Path:
    stamp = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.BACKUP_DIR) / f"portal-{stamp}.tar.gz"
