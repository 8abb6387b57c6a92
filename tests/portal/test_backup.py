"""manage.py backup / restore: a populated portal restored into a new, empty PostgreSQL
database and an empty storage has every appeal, attachment and history event again."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Answer, Appeal, Attachment, Event
from tests.engines import s3
from tests.factories import AgencyFactory, staff_member
from tests.files import pdf_bytes, png_bytes, upload
from tests.helpers import ROOT, database_url_for_tests, using_postgres

# The S3 engine's fixtures (tests/engines/s3.py).
s3_server = s3.s3_server
object_storage = s3.object_storage


def postgres_round_trip(test):
    """Committed rows (pg_dump reads them from another session), PostgreSQL only."""
    for mark in (
        pytest.mark.usefixtures("_postgres_only"),
        pytest.mark.slow,
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True),
    ):
        test = mark(test)
    return test


@pytest.fixture
def _postgres_only():
    if not using_postgres():
        pytest.skip("the backup round trip runs on PostgreSQL (pg_dump/pg_restore)")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def _populate() -> list[Appeal]:
    """Appeals as people make them: a portal submission with files, paper appeals with
    scans, one routed, answered and approved (its letter PDF rendered)."""
    health = AgencyFactory(slug="min-health", code="MZ", name_ru="Минздрав")
    clerk, controller = staff_member("clerk"), staff_member("controller")
    head, executor = staff_member("head", health), staff_member("executor", health)
    key = uuid.uuid4()
    filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes(3, 3)))
    filing.stage_upload(submission_key=key, upload=upload("b.pdf", pdf_bytes()))
    submitted = filing.submit_appeal(
        submission_key=key,
        kind="proposal",
        text="Предлагаю установить пешеходный переход у школы № 5.",
        applicant_name="Асанов Бакыт",
        applicant_email="bakyt@example.kg",
        language="ru",
    ).appeal
    appeals = [submitted]
    for number in range(2):
        appeal, _ = registration.register_paper_appeal(
            actor=clerk,
            agency=Agency.objects.get(slug="gov-apparatus"),
            channel="president_office",
            form="written",
            kind="complaint",
            applicant_name=f"Иванова Мария {number}",
            applicant_email="maria@example.kg",
            text="Третий месяц не выплачивают пособие по уходу за ребёнком.",
            language="ru",
            received_at=timezone.now(),
            cover_letter_number=f"01-12{number}",
            cover_letter_date=timezone.localdate(),
            files=[
                filing.NewAttachment(
                    name=f"scan-{number}.png",
                    content_type="image/png",
                    content=png_bytes(4 + number, 4),
                )
            ],
        )
        appeals.append(appeal)
    answered = appeals[1]
    routing.route_appeal(
        appeal_id=answered.pk,
        actor=controller,
        lead=health,
        co_executors=[],
        cover_note="Прошу рассмотреть.",
    )
    routing.assign_executor(appeal_id=answered.pk, actor=head, executor=executor)
    answering.save_answer_draft(
        appeal_id=answered.pk,
        actor=executor,
        text="Проверка проведена: пособие будет выплачено до конца месяца.",
        outcome="supported",
        submit=True,
    )
    answering.approve_answer(appeal_id=answered.pk, actor=head)
    return appeals


@pytest.fixture
def restore_database():
    """A new, empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    admin_url = database_url_for_tests().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(
    *args: str, database: str, media: str, **more_env: str
) -> subprocess.CompletedProcess:
    url = database_url_for_tests().rsplit("/", 1)[0] + f"/{database}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": media,
        "DEBUG": "1",
        **more_env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@postgres_round_trip
def test_backup_restores_every_appeal_attachment_and_event(
    media_root, tmp_path, restore_database
):
    _populate()
    expected_appeals = set(
        Appeal.objects.values_list("tracking_number", "registration_number", "status")
    )
    expected_files = {
        a.file.name: hashlib.sha256(a.file.read()).hexdigest()
        for a in Attachment.objects.all()
    }
    letter = Answer.objects.get(state=Answer.State.APPROVED).letter
    expected_files[letter.name] = hashlib.sha256(letter.read()).hexdigest()
    expected_events = set(Event.objects.values_list("appeal__tracking_number", "type"))
    assert len(expected_files) == 5 and len(expected_events) >= 6

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    assert manifest["counts"]["appeals"] == 3
    assert manifest["versions"]["postgresql_server"].startswith("15")
    assert "0001_initial" in manifest["migrations"]["appeals"]
    assert {f"media/{name}" for name in expected_files} <= names

    new_media = tmp_path / "restored-media"
    new_media.mkdir()
    result = _manage(
        "restore", str(archive), database=restore_database, media=str(new_media)
    )
    assert result.returncode == 0, result.stderr
    assert "restored" in result.stdout

    url = database_url_for_tests().rsplit("/", 1)[0] + f"/{restore_database}"
    with psycopg.connect(url) as restored:
        appeals = set(
            restored.execute(
                "SELECT tracking_number, registration_number, status FROM appeals_appeal"
            ).fetchall()
        )
        attachments = restored.execute(
            "SELECT file, sha256 FROM appeals_attachment"
        ).fetchall()
        letters = restored.execute(
            "SELECT letter FROM appeals_answer WHERE letter <> ''"
        ).fetchall()
        events = set(
            restored.execute(
                "SELECT a.tracking_number, e.type FROM appeals_event e "
                "JOIN appeals_appeal a ON a.id = e.appeal_id"
            ).fetchall()
        )
    assert appeals == expected_appeals
    assert events == expected_events
    restored_names = {name for name, _ in attachments} | {name for (name,) in letters}
    assert restored_names == set(expected_files)
    for name, digest in expected_files.items():
        data = (new_media / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
    for name, sha in attachments:
        assert hashlib.sha256((new_media / name).read_bytes()).hexdigest() == sha

    # A second restore into the now populated database and storage is refused.
    again = _manage(
        "restore", str(archive), database=restore_database, media=str(new_media)
    )
    assert again.returncode != 0
    assert "empty database" in again.stderr and "--force" in again.stderr


@postgres_round_trip
def test_backup_takes_the_buckets_objects_and_restore_puts_them_in_a_new_bucket(
    object_storage, s3_server, tmp_path, restore_database
):
    """With object storage on, the archive holds the bucket's objects (not its
    quarantine) and restore writes them into the bucket of the restored portal."""
    _populate()
    names = [a.file.name for a in Attachment.objects.all()]
    names.append(Answer.objects.get(state=Answer.State.APPROVED).letter.name)
    expected = {
        name: hashlib.sha256(object_storage.read(name)).hexdigest() for name in names
    }
    assert len(expected) == 5 and object_storage.keys() == sorted(expected)
    object_storage.client.put_object(
        Bucket=object_storage.name, Key="quarantine/x.quarantined", Body=b"threat"
    )

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        members = {m.name for m in tar.getmembers() if m.name.startswith("media/")}
    assert members == {f"media/{name}" for name in expected}
    assert {item["path"]: item["sha256"] for item in manifest["media"]} == expected
    assert manifest["files_storage"] == (
        f"bucket {object_storage.name} at {s3_server.endpoint_url}"
    )

    new_bucket = f"restored-{uuid.uuid4().hex[:12]}"
    object_storage.client.create_bucket(Bucket=new_bucket)
    local = tmp_path / "local-media"
    result = _manage(
        "restore",
        str(archive),
        database=restore_database,
        media=str(local),
        STORAGE_URL=s3_server.storage_url(new_bucket),
    )
    assert result.returncode == 0, result.stderr
    assert "5 files" in result.stdout
    listed = object_storage.client.list_objects_v2(Bucket=new_bucket)["Contents"]
    restored = {
        item["Key"]: hashlib.sha256(
            object_storage.client.get_object(Bucket=new_bucket, Key=item["Key"])[
                "Body"
            ].read()
        ).hexdigest()
        for item in listed
    }
    assert restored == expected
    assert not local.exists()  # nothing went to the restoring node's disk
    url = database_url_for_tests().rsplit("/", 1)[0] + f"/{restore_database}"
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT file, sha256 FROM appeals_attachment").fetchall()
    assert len(rows) == 4
    assert all(expected[name] == sha for name, sha in rows)


@postgres_round_trip
def test_restore_refuses_a_damaged_archive(media_root, tmp_path, restore_database):
    (media_root / "letters").mkdir()
    (media_root / "letters" / "x.pdf").write_bytes(pdf_bytes())
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == "media/letters/x.pdf":
                data = data.replace(b"%PDF", b"%XYZ")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    new_media = tmp_path / "restored-media"
    new_media.mkdir()
    result = _manage(
        "restore", str(damaged), database=restore_database, media=str(new_media)
    )
    assert result.returncode != 0
    assert "letters/x.pdf does not match its checksum" in result.stderr


@postgres_round_trip
def test_restore_refuses_a_database_that_is_not_empty(media_root, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    with pytest.raises(CommandError, match="empty database"):
        call_command("restore", str(archive))
    assert settings.DATABASES["default"]["NAME"].startswith("test_")


@postgres_round_trip
def test_behind_pgbouncer_backups_ask_for_a_direct_connection(
    media_root, tmp_path, settings
):
    """pg_dump and pg_restore set session parameters that a transaction pooler would
    hand to other clients: the commands refuse, saying what to run instead."""
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    settings.DATABASE_POOLER = "pgbouncer"
    with pytest.raises(CommandError, match="connect to PostgreSQL directly"):
        call_command("backup", output=tmp_path / "again.tar.gz")
    with pytest.raises(CommandError, match="connect to PostgreSQL directly"):
        call_command("restore", str(archive))
    assert not (tmp_path / "again.tar.gz").exists()


SQLITE_FILL = """
from django.utils import timezone
from agencies.models import Agency
from appeals.intake import filing, registration
from tests.factories import staff_member
from tests.files import png_bytes
appeal, _ = registration.register_paper_appeal(
    actor=staff_member("clerk"),
    agency=Agency.objects.get(slug="gov-apparatus"),
    channel="president_office", form="written", kind="complaint",
    applicant_name="Иванова Мария", text="Нет воды третий день.", language="ru",
    received_at=timezone.now(), cover_letter_number="01-1",
    cover_letter_date=timezone.localdate(),
    files=[filing.NewAttachment(
        name="scan.png", content_type="image/png", content=png_bytes(5, 5))],
)
print(appeal.tracking_number)
"""


@pytest.mark.slow
def test_the_embedded_sqlite_portal_is_backed_up_and_restored(tmp_path):
    """The demo's SQLite database goes through SQLite's backup API both ways."""

    def manage(*args, db: str, media: str):
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / db}",
            "MEDIA_ROOT": str(tmp_path / media),
            "DEBUG": "1",
        }
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput", db="a.sqlite3", media="media-a")
    tracking = manage("shell", "-c", SQLITE_FILL, db="a.sqlite3", media="media-a")
    tracking = tracking.strip().splitlines()[-1]
    archive = tmp_path / "sqlite-backup.tar.gz"
    manage("backup", "-o", str(archive), db="a.sqlite3", media="media-a")
    manage("restore", str(archive), db="b.sqlite3", media="media-b")

    import sqlite3

    with sqlite3.connect(tmp_path / "b.sqlite3") as restored:
        (appeal_id,) = restored.execute(
            "SELECT id FROM appeals_appeal WHERE tracking_number = ?", (tracking,)
        ).fetchone()
        ((name, sha),) = restored.execute(
            "SELECT file, sha256 FROM appeals_attachment WHERE appeal_id = ?",
            (appeal_id,),
        ).fetchall()
        events = restored.execute(
            "SELECT COUNT(*) FROM appeals_event WHERE appeal_id = ?", (appeal_id,)
        ).fetchone()[0]
    data = (tmp_path / "media-b" / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    assert data == (tmp_path / "media-a" / name).read_bytes()
    assert events >= 1
