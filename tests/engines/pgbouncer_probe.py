"""Run the portal's important paths through PgBouncer in transaction mode and print what
happened as JSON, in a process of its own (tests/portal/test_pgbouncer.py runs it):
the settings are those of a fresh portal process whose DATABASE_URL is PgBouncer's, in
autocommit as in production (no test transaction around it).

    DATABASE_URL=<PgBouncer's> [DATABASE_POOLER=pgbouncer] PGBOUNCER_PORT=<port> \\
        DIRECT_DATABASE_URL=<the server's> python tests/engines/pgbouncer_probe.py \\
        paths|worker|held-cursor

paths        a citizen files, tracks the appeal (the prepared status-page queries), a
             clerk registers letters and exports the journal (streamed in chunks), the
             cleanup of staged files and the reminders read with .iterator(), a year
             report; then many threads at once, each with its own connection, while
             PgBouncer's console and pg_stat_activity are asked how many client and
             server connections there are.
worker       citizens file while the tasks go to a real Celery worker (through
             PgBouncer too): their receipts are sent.
held-cursor  .iterator() across transactions while another connection holds a server
             connection: without DISABLE_SERVER_SIDE_CURSORS the next FETCH reaches a
             server connection where the cursor does not exist.
"""

import datetime as dt
import io
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from appeals.intake import filing  # noqa: E402
from appeals.models import Appeal, Notification, StagedUpload  # noqa: E402
from appeals.oversight import journal, reminders  # noqa: E402
from tests.factories import (  # noqa: E402
    TopicFactory,
    filing_form,
    paper_appeal,
    staff_member,
)
from tests.files import png_bytes, upload  # noqa: E402
from tests.helpers import login_staff  # noqa: E402

LETTERS = 25
CHUNK = 10  # the journal export's chunk here: 25 letters are read in 3 chunks
THREADS = 12
RECEIPTS = 3


def _admin(command: str) -> list[dict]:
    with psycopg.connect(
        host="127.0.0.1",
        port=int(os.environ["PGBOUNCER_PORT"]),
        user=settings.DATABASES["default"]["USER"] or "postgres",
        dbname="pgbouncer",
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
    ) as conn:
        cursor = conn.execute(command)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _server_backends(database: str) -> int:
    """Backends the PostgreSQL server has for `database`, asked past PgBouncer."""
    with psycopg.connect(os.environ["DIRECT_DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchone()[0]


def _track(client: Client, number: str, code: str) -> int:
    """A citizen's look-up in a fresh browser: the form, then the status page."""
    found = client.post("/en/track/", {"tracking_number": number, "access_code": code})
    if found.status_code != 302:
        return found.status_code
    return client.get(found["Location"]).status_code


def paths() -> dict:
    setup_test_environment()  # the test client's host name; mails kept in memory
    facts: dict = {
        "settings": {
            "DISABLE_SERVER_SIDE_CURSORS": settings.DATABASES["default"].get(
                "DISABLE_SERVER_SIDE_CURSORS", False
            ),
            "prepare_threshold": settings.DATABASES["default"]
            .get("OPTIONS", {})
            .get("prepare_threshold", "unset"),
            "port": int(settings.DATABASES["default"]["PORT"]),
        }
    }
    database = settings.DATABASES["default"]["NAME"]
    topic = TopicFactory(code="roads")

    # A citizen files (with a file left staged by a first, refused attempt), reads the
    # receipt, and tracks the appeal from another browser.
    citizen = Client()
    form = filing_form(topic.code)
    refused = citizen.post(
        "/en/appeal/",
        {**form, "applicant_name": "", "attachments": upload("scan.png", png_bytes())},
    )
    sent = citizen.post("/en/appeal/", form)
    receipt = citizen.get(sent["Location"]).content.decode()
    number = sent["Location"].rstrip("/").rsplit("/", 1)[-1]
    code = re.search(r'id="access-code">([0-9A-Z-]+)<', receipt).group(1)
    facts["filing"] = {
        "refused": refused.status_code,
        "sent": sent.status_code,
        "attachments": Appeal.objects.get(tracking_number=number).attachments.count(),
        "status_page": _track(Client(), number, code),
    }

    # A form never sent leaves its file staged; the daily cleanup reads the stale
    # ones with .iterator() outside a transaction and deletes them as it goes.
    abandoned = filing_form(topic.code, applicant_name="")
    abandoned["attachments"] = upload("left.png", png_bytes())
    Client().post("/en/appeal/", abandoned)
    staged = StagedUpload.objects.count()
    StagedUpload.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    facts["purge_stale_uploads"] = {
        "staged": staged,
        "removed": filing.purge_stale_uploads(),
        "left": StagedUpload.objects.count(),
    }

    # A clerk registers letters and exports the journal, streamed in chunks.
    clerk = staff_member("clerk", username="pool-clerk")
    for n in range(LETTERS):
        paper_appeal(clerk, applicant_name=f"Иванова Мария {n}")
    staff = Client()
    login_staff(staff, clerk)
    journal.JOURNAL_EXPORT_CHUNK = CHUNK
    export = staff.get("/en/staff/journal/export.csv")
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    facts["journal_export"] = {
        "status": export.status_code,
        "rows": len(body.strip().splitlines()) - 1,  # less the header
    }
    facts["journal_page"] = staff.get("/en/staff/journal/").status_code

    facts["reminders"] = reminders.send_reminders(today=timezone.localdate())

    # The year's report, from the command line as managers' archives run it.
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        call_command(
            "intake_report",
            "--period",
            str(timezone.localdate().year),
            "--format",
            "json",
            "-o",
            str(out),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
        report = json.loads(out.read_text(encoding="utf-8"))
    block = report["periods"][report["period"]]
    facts["report"] = {"written_total": block["written_total"]}
    connection.close()

    # Many threads at once, each with its own connection to PgBouncer: all connected
    # and done with a citizen's look-up, they wait while PgBouncer and the server are
    # asked how many connections each side has.
    ready = threading.Barrier(THREADS + 1, timeout=60)
    release = threading.Barrier(THREADS + 1, timeout=60)
    statuses: list[int] = []

    def citizen_thread() -> None:
        try:
            statuses.append(_track(Client(), number, code))
            ready.wait()
            release.wait()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=citizen_thread) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    ready.wait()
    clients = [c for c in _admin("SHOW CLIENTS") if c["database"] == database]
    servers = [s for s in _admin("SHOW SERVERS") if s["database"] == database]
    pools = [p for p in _admin("SHOW POOLS") if p["database"] == database]
    backends = _server_backends(database)
    release.wait()
    for thread in threads:
        thread.join()
    facts["concurrent"] = {
        "threads": THREADS,
        "statuses": sorted(set(statuses)),
        "bouncer_clients": len(clients),
        "bouncer_servers": len(servers),
        "server_backends": backends,
        "pool_mode": pools[0]["pool_mode"] if pools else None,
    }
    return facts


def worker() -> dict:
    """Citizens file with the tasks going to a real Celery worker (started by the test,
    also through PgBouncer): the receipts it sends are read back as sent."""
    setup_test_environment()
    topic = TopicFactory(code="roads")
    numbers = []
    for n in range(RECEIPTS):
        form = filing_form(topic.code, applicant_email=f"pool{n}@example.kg")
        sent = Client().post("/en/appeal/", form)
        numbers.append(sent["Location"].rstrip("/").rsplit("/", 1)[-1])
    notices = Notification.objects.filter(appeal__tracking_number__in=numbers)
    deadline = time.monotonic() + 60
    while True:
        states = list(notices.values_list("state", flat=True))
        done = len(states) == RECEIPTS and set(states) == {Notification.State.SENT}
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    return {"numbers": numbers, "states": states}


def held_cursor() -> dict:
    """Fetch 2 rows with .iterator(), let another connection take the server connection
    the cursor lives on, then fetch the rest."""
    rows = ContentType.objects.order_by("pk").iterator(chunk_size=2)
    next(rows)  # DECLARE ... WITH HOLD and FETCH 2, each its own transaction
    holding, done = threading.Event(), threading.Event()

    def other() -> None:
        try:
            with transaction.atomic():
                # PgBouncer hands out the server connection used last (LIFO): the
                # cursor's. It stays with this transaction until `done`.
                ContentType.objects.exists()
                holding.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    holding.wait(30)
    try:
        rest = list(rows)
        result = {"ok": True, "rows": 1 + len(rest)}
    except Exception as exc:  # noqa: BLE001 - the test reads what went wrong
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        done.set()
        thread.join()
    result["expected_rows"] = ContentType.objects.count()
    return result


if __name__ == "__main__":
    scenario = {"paths": paths, "worker": worker, "held-cursor": held_cursor}
    scenario = scenario[sys.argv[1]]
    print(json.dumps(scenario(), default=str))
