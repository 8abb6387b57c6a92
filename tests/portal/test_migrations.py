"""Upgrades: every migration applies forwards on a database that already holds appeals,
and the appeals tables are never locked for the length of an index build.

The forwards test takes a new PostgreSQL database to the state of the first release
that had citizens filing (appeals 0002), fills it through the historical models of
that state as the portal would have (agencies, portal and paper appeals in every
status of that time, their history, attachments and notifications), then applies
every later migration and checks that the rows are all there and read through
today's models.
"""

import datetime as dt
import json
import os
import subprocess
import sys

import psycopg
import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddIndex
from django.utils import timezone

from appeals.models import Appeal, Attachment, DeadlineRule, Event, Notification
from portal.migration_operations import AddIndexConcurrently
from tests.helpers import ROOT, database_url_for_tests, using_postgres

EARLY = [
    ("appeals", "0002_staged_uploads_and_applicant_keys"),
    ("portal", "0001_initial"),
]
APPEALS = 600
# Tables that grow to millions of rows: an index added to one of them after its
# creation must be built CONCURRENTLY (AddIndexConcurrently, atomic = False).
BIG_TABLES = {
    ("appeals", "appeal"),
    ("appeals", "event"),
    ("appeals", "attachment"),
    ("appeals", "notification"),
    ("appeals", "assignment"),
    ("appeals", "answer"),
}

# Written before this check, inside migrations that also add columns (so they stay
# atomic). They run on empty tables at a first install; an installation upgraded
# across them with millions of rows should build these two by hand first (README,
# Upgrading). New indexes go into new migrations, concurrently.
BASELINE = {
    "appeals.0002_staged_uploads_and_applicant_keys: appeal_applicant_idx",
    "appeals.0006_routing_answers_deadlines: appeal_open_due_idx",
}


def test_indexes_on_big_tables_are_built_concurrently():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    offenders = []
    for (app, name), migration in loader.disk_migrations.items():
        created = {
            (app, op.name.lower())
            for op in migration.operations
            if type(op).__name__ == "CreateModel"
        }
        for op in migration.operations:
            if not isinstance(op, AddIndex):
                continue
            table = (app, op.model_name.lower())
            if table not in BIG_TABLES or table in created:
                continue  # a new, empty table: a plain index costs nothing
            if not isinstance(op, AddIndexConcurrently) or migration.atomic:
                offenders.append(f"{app}.{name}: {op.index.name}")
    offenders = sorted(set(offenders) - BASELINE)
    assert offenders == [], (
        "use portal.migration_operations.AddIndexConcurrently with atomic = False "
        f"for: {offenders}"
    )


@pytest.fixture
def scratch_database(django_db_setup, django_db_blocker):
    """A new, empty PostgreSQL database under its own connection alias (outside the
    test case's database guard: the test never touches the test database)."""
    if not using_postgres():
        pytest.skip("the upgrade test runs on PostgreSQL, the production database")
    with django_db_blocker.unblock():
        yield from _scratch_database()


def _scratch_database():
    name = f"{connection.settings_dict['NAME']}_migrations"
    admin_url = database_url_for_tests().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.settings["upgrade"] = {**connection.settings_dict, "NAME": name}
    try:
        yield connections["upgrade"]
    finally:
        connections["upgrade"].close()
        del connections["upgrade"]
        del connections.settings["upgrade"]
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill_early_state() -> None:
    """Run by `manage.py shell` against the scratch database (data migrations write
    to the default alias): fills it through the models of the EARLY state and prints
    what it wrote as JSON."""
    import json

    apps = MigrationLoader(None, ignore_no_migrations=True).project_state(EARLY).apps
    print(json.dumps(_fill_early_state(apps)))


def _fill_early_state(apps) -> dict:
    """Rows as the first release wrote them, through its own (historical) models."""
    Agency = apps.get_model("agencies", "Agency")
    Appeal = apps.get_model("appeals", "Appeal")
    Event = apps.get_model("appeals", "Event")
    Attachment = apps.get_model("appeals", "Attachment")
    Notification = apps.get_model("appeals", "Notification")
    db = "default"
    now = timezone.now()
    apparatus = Agency.objects.using(db).get(slug="gov-apparatus")
    health = Agency.objects.using(db).create(
        slug="min-health", code="MZ", name="Саламаттык сактоо министрлиги"
    )
    statuses = ["submitted", "registered", "closed"]
    appeals = []
    for i in range(APPEALS):
        status = statuses[i % 3]
        portal = status == "submitted" or i % 2 == 0
        appeals.append(
            Appeal(
                created_at=now,
                updated_at=now,
                tracking_number=f"T{i:09d}",
                access_code_hash=f"hash-{i}",
                channel="portal" if portal else "president_office",
                kind="complaint",
                status=status,
                outcome="explained" if status == "closed" else "",
                registration_number=None if status == "submitted" else f"GA-{i:06d}",
                registering_agency=None if status == "submitted" else apparatus,
                received_on=now.date() - dt.timedelta(days=i % 90),
                applicant_name=f"Заявитель {i}",
                applicant_name_key=f"заявитель {i}",
                text=f"Текст обращения номер {i}: нет воды в доме.",
                language="ru",
            )
        )
    Appeal.objects.using(db).bulk_create(appeals, batch_size=500)
    saved = list(Appeal.objects.using(db).order_by("pk"))
    Event.objects.using(db).bulk_create(
        [Event(appeal=a, type="submitted", at=now) for a in saved]
        + [
            Event(appeal=a, type="registered", at=now)
            for a in saved
            if a.status != "submitted"
        ],
        batch_size=1000,
    )
    Attachment.objects.using(db).bulk_create(
        Attachment(
            created_at=now,
            updated_at=now,
            appeal=a,
            file=f"appeals/2026/11/{a.pk}.pdf",
            original_name="scan.pdf",
            content_type="application/pdf",
            size=1234,
            sha256="0" * 64,
        )
        for a in saved[::5]
    )
    Notification.objects.using(db).bulk_create(
        Notification(
            created_at=now,
            updated_at=now,
            appeal=a,
            template="receipt",
            recipient=f"citizen{a.pk}@example.kg",
            language="ru",
            subject="Ваше обращение получено",
            body="…",
            state="sent",
        )
        for a in saved[::2]
    )
    return {
        "agency": health.slug,
        "appeals": {a.tracking_number: [a.status, a.applicant_name] for a in saved},
        "events": Event.objects.using(db).count(),
        "attachments": Attachment.objects.using(db).count(),
        "notifications": Notification.objects.using(db).count(),
    }


def _manage(database: str, *args: str) -> subprocess.CompletedProcess:
    url = database_url_for_tests().rsplit("/", 1)[0] + f"/{database}"
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.postgres
@pytest.mark.slow
def test_every_migration_applies_forwards_on_a_filled_database(scratch_database):
    name = scratch_database.settings_dict["NAME"]
    early = [f"{app} {migration}" for app, migration in EARLY]
    for target in early:
        _manage(name, "migrate", *target.split(), "--noinput")
    executor = MigrationExecutor(scratch_database)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert len(plan) >= 10, plan  # appeals 0003-0009, agencies, reports, ...
    filled = _manage(
        name,
        "shell",
        "-c",
        "from tests.portal.test_migrations import fill_early_state; fill_early_state()",
    )
    before = json.loads(filled.stdout.strip().splitlines()[-1])

    _manage(name, "migrate", "--noinput")

    executor = MigrationExecutor(scratch_database)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    db = "upgrade"
    after = {
        a.tracking_number: [a.status, a.applicant_name]
        for a in Appeal.objects.using(db).all()
    }
    assert after == before["appeals"]
    assert Event.objects.using(db).count() == before["events"]
    assert Attachment.objects.using(db).count() == before["attachments"]
    assert Notification.objects.using(db).count() == before["notifications"]
    # Fields added later read with their defaults; data migrations ran.
    appeal = Appeal.objects.using(db).filter(status="registered").first()
    assert appeal.mass_lead_id is None and appeal.due_on is None
    assert DeadlineRule.objects.using(db).exists()
    # The indexes built CONCURRENTLY exist and are valid.
    with scratch_database.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname IN ('appeal_lead_intake_idx', 'appeal_closed_at_idx', "
            "'event_type_at_idx', 'appeal_journal_status_idx', "
            "'appeal_number_suffix_idx', 'appeal_text_trgm_idx')"
        )
        indexes = dict(cursor.fetchall())
    assert indexes == {
        "appeal_lead_intake_idx": True,
        "appeal_closed_at_idx": True,
        "event_type_at_idx": True,
        "appeal_journal_status_idx": True,
        "appeal_number_suffix_idx": True,
        "appeal_text_trgm_idx": True,
    }
