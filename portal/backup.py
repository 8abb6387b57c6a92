"""Backups of the whole portal in one archive: the database dump and the uploaded files,
with a manifest (versions, migration state, counts, checksums), and their restore
into an empty database and an empty storage.

Archive layout (tar.gz):
    manifest.json
    database/portal.dump       PostgreSQL: pg_dump -Fc (custom format)
    database/portal.sqlite3    SQLite: a copy made with SQLite's backup API
    media/<path>               every file under MEDIA_ROOT, same relative paths

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
from django.db import connection
from django.utils import timezone

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
            "media": [],
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname=manifest["database"]["file"])
            media_root = Path(settings.MEDIA_ROOT)
            for path in _files_under(media_root):
                relative = path.relative_to(media_root).as_posix()
                digest = _add_file(archive, path, f"media/{relative}")
                manifest["media"].append(
                    {"path": relative, "sha256": digest, "size": path.stat().st_size}
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


def _files_under(root: Path):
    if not root.exists():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _add_file(archive: tarfile.TarFile, path: Path, arcname: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
        handle.seek(0)
        info = archive.gettarinfo(str(path), arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        archive.addfile(info, handle)
    return digest.hexdigest()


# --- restore ------------------------------------------------------------------------


def read_manifest(archive_path: Path) -> dict:
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile("manifest.json")
        if member is None:
            raise BackupError("the archive has no manifest.json")
        return json.load(member)


def restore_backup(archive_path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the archive into the configured database and MEDIA_ROOT, which must be
    empty (no tables; no files) unless `force`, which empties them first."""
    archive_path = Path(archive_path)
    manifest = read_manifest(archive_path)
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown archive format {manifest.get('format')!r}")
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"the archive holds a {vendor} database; this portal uses "
            f"{connection.vendor}"
        )
    media_root = Path(settings.MEDIA_ROOT)
    tables = connection.introspection.table_names()
    existing_files = list(_files_under(media_root))
    if (tables or existing_files) and not force:
        what = []
        if tables:
            what.append(f"the database has {len(tables)} tables")
        if existing_files:
            what.append(f"{media_root} holds {len(existing_files)} files")
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
            for path in existing_files:
                path.unlink()
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
        files = _restore_media(archive_path, manifest, media_root)
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


def _restore_media(archive_path: Path, manifest: dict, media_root: Path) -> int:
    expected = {item["path"]: item["sha256"] for item in manifest["media"]}
    restored = 0
    root = media_root.resolve()
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive:
            if not member.name.startswith("media/") or not member.isfile():
                continue
            relative = member.name.removeprefix("media/")
            target = (root / relative).resolve()
            if root not in target.parents or relative not in expected:
                raise BackupError(f"unexpected file in the archive: {member.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            source = archive.extractfile(member)
            with open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            os.chmod(target, settings.FILE_UPLOAD_PERMISSIONS or 0o640)
            if digest.hexdigest() != expected[relative]:
                raise BackupError(f"{relative} does not match its checksum")
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
