"""Faults against the real services: Redis down while a citizen files, a Celery worker
killed in the middle of a task, the database connection lost in the middle of a request,
the same form sent twice at once.

Tests that need Redis start their own redis-server on a free port (and their own
worker on it) and stop them; the machine's shared Redis and PostgreSQL are never
stopped. The delivery guarantee these tests hold the code to:

* a task message is delivered at least once: CELERY_TASK_ACKS_LATE acknowledges it
  only when the task has returned, CELERY_TASK_REJECT_ON_WORKER_LOST puts it back on
  the queue when the pool process running it dies, and when the whole worker dies
  Redis gives the unacknowledged message back after the visibility timeout;
* its effect happens once: the delivery (the drain of the outbox for notices,
  notifications.deliver() for one row) locks the outbox rows, sends, and marks them
  sent in one transaction, and skips a row that is not pending;
* nothing waits for a message: the periodic sweep sends whatever is still pending.

One window is left open, and no test pretends otherwise: a worker killed after the
mail server accepted the mail but before the SENT mark committed sends that mail twice
(at least once, not exactly once); for the drain, which marks a batch of notices sent
together, that is the mails of the batch sent so far. The tests below kill the worker before the send,
while it waits inside the drain on a database lock the test holds.
"""

import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection, connections
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext
from kombu import Connection

from agencies.models import Agency, Topic
from appeals.casework import routing
from appeals.intake import filing, registration
from appeals.models import (
    Appeal,
    Attachment,
    Event,
    Notification,
    StagedUpload,
    Status,
)
from appeals.notifications import outbox as notifications
from appeals.register import codes
from portal import cache as portal_cache
from portal.celery import app as celery_app
from tests.factories import (
    AgencyFactory,
    filing_form,
    paper_appeal,
    portal_submission,
    route_and_assign,
    staff_member,
    written_registration_form,
)
from tests.files import png_bytes, upload
from tests.helpers import (
    ROOT,
    database_url_for_tests,
    free_port,
    login_staff,
    private_redis,
    using_postgres,
    wait_for,
)

pytestmark = [pytest.mark.slow]

needs_redis_server = pytest.mark.skipif(
    not shutil.which("redis-server"), reason="needs redis-server"
)
DRAIN = "appeals.tasks.drain_notifications"  # sends the notices written on commit
SWEEP = "appeals.tasks.sweep_notifications"


@pytest.fixture
def topic():
    return Topic.objects.create(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )


@pytest.fixture
def eager_celery():
    """On-commit deliveries run in the test process (to the locmem outbox) instead of
    going to the machine's shared broker."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _form(topic, **overrides) -> dict:
    return filing_form(topic.code, **overrides)


# --- Our own Redis, worker and processes --------------------------------------------


def _env(broker: str, mail_dir: Path) -> dict:
    """A child process of the portal on the private Redis (broker and cache alike)."""
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"filemail://{mail_dir}",
        # A PostgreSQL backend whose client was killed notices it within 0.2 s,
        # even while it waits for a lock (PostgreSQL 14+).
        "PGOPTIONS": "-c client_connection_check_interval=200",
    }


@contextmanager
def worker_process(env: dict, log_path: Path, *, pool: str = "solo"):
    """A real `celery worker` on the private broker's default queue.

    Unlike tests.helpers.celery_worker, the test gets the process, to kill it, and
    may ask for the prefork pool, whose pool processes can be lost on their own.
    """
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=info",
            "-n",
            f"{log_path.stem}-{uuid.uuid4().hex[:6]}@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _received(log_path: Path, task: str = DRAIN) -> int:
    """How often the worker took the task (Celery logs "Task NAME[ID] received")."""
    return len(
        re.findall(rf"Task {re.escape(task)}\[\S+\] received", log_path.read_text())
    )


def _results(log_path: Path, task: str) -> list[str]:
    """What each finished run of the task returned, in order."""
    return re.findall(
        rf"Task {re.escape(task)}\[\S+\] succeeded in \S+s: (.*)", log_path.read_text()
    )


@contextmanager
def celery_publishing_to(broker: str):
    """Meanwhile the test process's Celery app sends its task messages to `broker`
    (the private Redis, up or down) instead of the configured one."""

    def forget_connections() -> None:  # what Celery itself does after a fork
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    configured = celery_app.conf.broker_url
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI
    # sets it), so both are pointed at the private Redis for the duration.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker
    celery_app.conf.broker_url = broker
    forget_connections()
    try:
        publishing = celery_app.pool.connection
        assert f"//{publishing.hostname}:{publishing.port}/" in broker
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        celery_app.conf.broker_url = configured
        forget_connections()


def _submit(broker: str) -> filing.Submission:
    """A citizen's appeal through the real service; its delivery task goes, on
    commit, to the private broker."""
    with celery_publishing_to(broker):
        return filing.submit_appeal(
            submission_key=uuid.uuid4(),
            applicant_name="Асанов Бакыт",
            applicant_email="bakyt@example.kg",
            text="Биздин көчөдө жарык жок, үч айдан бери.",
            language="ky",
            kind="complaint",
        )


def _send_task(broker: str, name: str) -> None:
    with celery_app.connection_for_write(broker) as conn:
        celery_app.send_task(name, connection=conn, queue="celery")


def _sent(notification: Notification) -> bool:
    return Notification.objects.filter(
        pk=notification.pk, state=Notification.State.SENT
    ).exists()


class NotificationTableLock:
    """Holds the notification outbox locked from a connection of the test's own, so a
    worker that starts a delivery (the drain, or deliver()) waits inside it, before
    anything is sent.

    A row lock would not do: the delivery selects with skip_locked and would return at
    once. PostgreSQL: LOCK TABLE ... IN EXCLUSIVE MODE (reads go on, SELECT ... FOR
    UPDATE waits). SQLite: a write transaction (the delivery's BEGIN IMMEDIATE waits).
    """

    def __init__(self) -> None:
        self.table = Notification._meta.db_table
        if using_postgres():
            self.conn = psycopg.connect(database_url_for_tests())
            self.conn.execute(f'LOCK TABLE "{self.table}" IN EXCLUSIVE MODE')
            # pg_stat_activity is a snapshot per transaction: look from outside it.
            self.observer = psycopg.connect(database_url_for_tests(), autocommit=True)
        else:
            self.conn = sqlite3.connect(
                connection.settings_dict["NAME"], isolation_level=None
            )
            self.conn.execute("BEGIN IMMEDIATE")
        self.held = True

    def waiting_backend(self) -> int | None:
        """PostgreSQL: the pid of the backend waiting for the outbox, if any."""
        row = self.observer.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            [f"%{self.table}%"],
        ).fetchone()
        return row[0] if row else None

    def backend_exists(self, pid: int) -> bool:
        query = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        return self.observer.execute(query, [pid]).fetchone() is not None

    def worker_waits(self, log_path: Path, received: int) -> bool:
        """The worker has taken the delivery task and waits on the lock."""
        if _received(log_path) < received:
            return False
        if using_postgres():
            return self.waiting_backend() is not None
        time.sleep(0.5)  # SQLite cannot tell; the task starts right after "Received"
        return True

    def release(self) -> None:
        if self.held:
            if using_postgres():
                self.conn.rollback()
                self.observer.close()
            else:
                self.conn.execute("ROLLBACK")
            self.conn.close()
            self.held = False


@pytest.fixture
def outbox_lock():
    locks = []

    def hold() -> NotificationTableLock:
        locks.append(NotificationTableLock())
        return locks[-1]

    yield hold
    for lock in locks:
        lock.release()


# --- Redis down while a citizen files -----------------------------------------------


@needs_redis_server
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_appeal_filed_while_redis_is_down_is_saved_and_its_receipt_sent_once_back(
    tmp_path, topic, settings
):
    port = free_port()  # nothing listens there yet: Redis is down
    broker = f"redis://127.0.0.1:{port}/0"
    mail_dir = tmp_path / "mail"
    log_path = tmp_path / "worker.log"
    # 1. Redis, the broker and the cache alike, is down: the citizen sends the form.
    settings.CACHES = {
        **settings.CACHES,  # the template fragments' own cache stays
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": broker,
        },
    }
    form = _form(topic)
    client = Client(raise_request_exception=False)
    with celery_publishing_to(broker):
        posted = client.post("/ky/appeal/", form)
        assert posted.status_code == 302
        receipt = client.get(posted["Location"])
        assert receipt.status_code == 200
        assert 'id="access-code"' in receipt.content.decode()  # shown only here, once
    appeal = Appeal.objects.get(submission_key=form["submission_key"])
    notification = Notification.objects.get(appeal=appeal, template="receipt")
    assert notification.state == Notification.State.PENDING
    # 2. Redis is back with a worker; the periodic sweep runs, twice.
    with (
        private_redis(tmp_path, port),
        worker_process(_env(broker, mail_dir), log_path),
    ):
        _send_task(broker, SWEEP)
        _send_task(broker, SWEEP)
        assert wait_for(lambda: len(_results(log_path, SWEEP)) == 2, timeout=60), (
            log_path.read_text()
        )
    # The first sweep sent the receipt, the second found nothing left to send.
    assert _results(log_path, SWEEP) == ["1", "0"]
    assert _sent(notification)
    mails = list(mail_dir.glob("*.log"))
    assert len(mails) == 1
    assert appeal.tracking_number in mails[0].read_text(encoding="utf-8")


# --- Redis down while the staff work and the public reads the statistics ------------


def _cache_down(settings) -> str:
    """The cache's Redis is down from now on (nothing listens on its port); the
    template fragments' own cache stays. Its host:port, to find it in the log."""
    address = f"127.0.0.1:{free_port()}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": f"redis://{address}/0",
        },
    }
    return address


def _staff_client(user) -> Client:
    client = Client(raise_request_exception=False)
    login_staff(client, user)
    return client


def _cache_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "portal.cache" and record.levelno == logging.WARNING
    ]


@pytest.fixture
def people():
    lead = AgencyFactory()
    return {
        "lead": lead,
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", lead),
        "executor": staff_member("executor", lead),
    }


@pytest.mark.django_db
def test_clerk_registers_appeals_while_redis_is_down(settings, people, caplog):
    submitted = portal_submission().appeal
    address = _cache_down(settings)
    clerk = _staff_client(people["clerk"])
    apparatus = Agency.objects.get(slug="gov-apparatus")
    # A portal submission from the queue (its review deadline needs the calendar).
    assert clerk.get("/ky/staff/queue/").status_code == 200
    assert clerk.get(f"/ky/staff/queue/{submitted.pk}/").status_code == 200
    registered = clerk.post(
        f"/ky/staff/queue/{submitted.pk}/",
        {
            "action": "register",
            "submission_key": str(uuid.uuid4()),
            "agency": apparatus.pk,
        },
    )
    assert registered.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.REGISTERED and submitted.due_on
    assert clerk.get(registered["Location"]).status_code == 200
    # A written appeal brought by post, through the registration page.
    assert clerk.get("/ky/staff/register/written/").status_code == 200
    written = clerk.post(
        "/ky/staff/register/written/",
        written_registration_form(agency=apparatus.pk),
    )
    assert written.status_code == 302, written.content.decode()[:2000]
    card = clerk.get(written["Location"])
    assert card.status_code == 200
    # One warning for the outage, naming where the cache was, not one per request.
    (warning,) = _cache_warnings(caplog)
    assert address in warning


@pytest.mark.django_db
def test_executor_and_head_inboxes_open_while_redis_is_down(
    settings, people, topic, caplog
):
    appeal = paper_appeal(people["clerk"], topic=topic)
    route_and_assign(appeal, people, people["lead"])
    waiting = paper_appeal(people["clerk"])
    routing.route_appeal(
        appeal_id=waiting.pk, actor=people["controller"], lead=people["lead"]
    )
    _cache_down(settings)
    executor = _staff_client(people["executor"])
    inbox = executor.get("/ru/staff/inbox/")
    assert inbox.status_code == 200
    assert appeal.registration_number in inbox.content.decode()
    assert topic.name_ru in inbox.content.decode()  # the topic filter's choices
    assert executor.get(f"/ru/staff/inbox/{appeal.pk}/").status_code == 200
    head = _staff_client(people["head"])
    inbox = head.get("/ru/staff/inbox/")
    assert inbox.status_code == 200
    assert waiting.registration_number in inbox.content.decode()
    assert head.get("/ru/staff/inbox/?tab=in_progress").status_code == 200
    assert len(_cache_warnings(caplog)) == 1


@pytest.mark.django_db
def test_the_controller_routes_while_redis_is_down(settings, people):
    appeal = paper_appeal(people["clerk"])
    _cache_down(settings)
    controller = _staff_client(people["controller"])
    assert controller.get("/en/staff/routing/").status_code == 200
    assert controller.get(f"/en/staff/routing/{appeal.pk}/").status_code == 200
    assert controller.get(f"/en/staff/appeals/{appeal.pk}/").status_code == 200


@pytest.mark.django_db
def test_open_statistics_show_while_redis_is_down(settings, people, caplog):
    paper_appeal(people["clerk"])
    _cache_down(settings)
    client = Client(raise_request_exception=False)
    for _ in range(2):  # the charts are drawn again: nothing could keep them
        response = client.get("/ky/statistics/")
        assert response.status_code == 200
        assert "<svg" in response.content.decode()
    assert len(_cache_warnings(caplog)) == 1


@pytest.mark.django_db
def test_citizen_follows_a_registered_appeal_while_redis_is_down(settings, people):
    appeal, code = registration.register_paper_appeal(
        actor=people["clerk"],
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="other",
        delivery="post",
        form="written",
        kind="statement",
        applicant_name="Иванова Мария",
        text="Третий месяц не выплачивают пособие по уходу за ребёнком.",
        language="ru",
        received_at=timezone.now(),
    )
    _cache_down(settings)
    client = Client(raise_request_exception=False)
    opened = client.post(
        "/ru/track/",
        {"tracking_number": appeal.tracking_number, "access_code": code},
        follow=True,
    )
    assert opened.status_code == 200
    assert 'id="appeal-due"' in opened.content.decode()


@needs_redis_server
def test_the_cache_is_asked_again_after_a_pause_and_used_once_redis_is_back(
    tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="portal.cache")
    monkeypatch.setattr(portal_cache, "RETRY_AFTER", 0.5)
    port = free_port()
    cache = portal_cache.RedisCache(f"redis://127.0.0.1:{port}/0", {})
    assert cache.get("answer", "missed") == "missed"
    cache.set("answer", 42)  # dropped
    with pytest.raises(portal_cache.CacheUnavailable):
        cache.incr("answer")
    with private_redis(tmp_path, port) as url:
        # Within the pause the cache is not asked: the write is dropped again.
        cache.set("answer", 42)
        assert redis.Redis.from_url(url).dbsize() == 0
        time.sleep(0.6)
        cache.set("answer", 42)
        assert cache.get("answer") == 42
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in messages] == [logging.WARNING, logging.INFO]
    assert f"127.0.0.1:{port}" in messages[0][1]
    assert "answers again" in messages[1][1]


# --- A Celery worker killed in the middle of a task ---------------------------------


@needs_redis_server
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_pool_process_killed_mid_task_runs_the_task_again_and_sends_once(
    tmp_path, outbox_lock
):
    mail_dir = tmp_path / "mail"
    log_path = tmp_path / "worker.log"
    with private_redis(tmp_path, free_port()) as broker:
        env = _env(broker, mail_dir)
        appeal = _submit(broker).appeal  # its delivery task waits in the queue
        notification = Notification.objects.get(appeal=appeal)
        lock = outbox_lock()
        with worker_process(env, log_path, pool="prefork") as worker:
            assert wait_for(lambda: lock.worker_waits(log_path, 1), timeout=60), (
                log_path.read_text()
            )
            first_backend = lock.waiting_backend() if using_postgres() else None
            (pool_process,) = _children(worker.pid)
            os.kill(pool_process, signal.SIGKILL)  # as the OOM killer would
            # The worker sees its pool process lost, rejects the message back to the
            # queue (acks_late + reject_on_worker_lost) and a new pool process takes
            # it again.
            assert wait_for(lambda: lock.worker_waits(log_path, 2), timeout=30), (
                log_path.read_text()
            )
            log = log_path.read_text()
            assert "WorkerLostError" in log and "SIGKILL" in log
            assert not _sent(notification) and not mail_dir.exists()
            if using_postgres():
                # The killed process's backend has given up its wait (it would
                # otherwise hold the row for an instant once the lock is released).
                assert wait_for(lambda: not lock.backend_exists(first_backend))
            lock.release()
            assert wait_for(lambda: _sent(notification), timeout=30), (
                log_path.read_text()
            )
            time.sleep(1)
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert len(list(mail_dir.glob("*.log"))) == 1


@needs_redis_server
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_task_sends_once_by_sweep_and_its_redelivery_is_a_no_op(
    tmp_path, outbox_lock
):
    mail_dir = tmp_path / "mail"
    with private_redis(tmp_path, free_port()) as broker:
        env = _env(broker, mail_dir)
        appeal = _submit(broker).appeal
        notification = Notification.objects.get(appeal=appeal)
        lock = outbox_lock()
        first_log = tmp_path / "first.log"
        with worker_process(env, first_log) as first:
            assert wait_for(lambda: lock.worker_waits(first_log, 1), timeout=60), (
                first_log.read_text()
            )
            first.send_signal(signal.SIGKILL)  # the whole machine goes, say
            first.wait(timeout=10)
        if using_postgres():
            assert wait_for(lambda: lock.waiting_backend() is None, timeout=10)
        lock.release()
        # Nobody acknowledged the message: Redis holds it until the visibility
        # timeout (an hour) has passed.
        assert redis.Redis.from_url(broker).hlen("unacked") == 1
        assert not _sent(notification)

        second_log = tmp_path / "second.log"
        with worker_process(env, second_log):
            # Within a minute the periodic sweep sends what is still pending.
            _send_task(broker, SWEEP)
            assert wait_for(lambda: _sent(notification), timeout=60), (
                second_log.read_text()
            )
            # An hour later Redis gives the message back (what kombu does once the
            # visibility timeout has passed, done now) and the task runs again.
            with Connection(
                broker, transport_options={"visibility_timeout": 0}
            ) as conn:
                conn.default_channel.qos.restore_visible()
            assert wait_for(lambda: _results(second_log, DRAIN), timeout=30), (
                second_log.read_text()
            )
        assert redis.Redis.from_url(broker).hlen("unacked") == 0
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert len(list(mail_dir.glob("*.log"))) == 1


# --- The database connection lost in the middle of a request ------------------------


def _terminate_own_backend() -> None:
    """Kill this connection's PostgreSQL backend from a second connection, as a
    failover or an administrator would, and wait until it is gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(database_url_for_tests(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        gone = wait_for(
            lambda: (
                not other.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
                ).fetchone()
            ),
            timeout=10,
            interval=0.05,
        )
    assert gone


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connection_lost_mid_submit_shows_the_error_page_and_saves_nothing(
    topic, monkeypatch, eager_celery, mailoutbox
):
    client = Client(raise_request_exception=False)
    data = _form(topic, applicant_name="")
    data["attachments"] = upload("scan.png", png_bytes())
    assert client.post("/ky/appeal/", data).status_code == 400  # the file is kept
    (staged,) = StagedUpload.objects.all()
    data.pop("attachments")
    data["applicant_name"] = "Асанов Бакыт"

    real_queue = notifications.queue
    written_before_the_fault = []

    def queue_after_losing_the_connection(**kwargs):
        # Inside submit_appeal's transaction, with the appeal, its attachment and its
        # event written but not committed, the connection goes.
        appeal = kwargs["appeal"]
        written_before_the_fault.extend(
            [appeal.attachments.count(), appeal.events.count()]
        )
        _terminate_own_backend()
        return real_queue(**kwargs)

    monkeypatch.setattr(notifications, "queue", queue_after_losing_the_connection)
    response = client.post("/ky/appeal/", data)
    monkeypatch.setattr(notifications, "queue", real_queue)

    assert written_before_the_fault == [1, 1]
    assert response.status_code == 500
    html = response.content.decode()
    with translation.override("ky"):  # the error page speaks the request's language
        assert gettext("Nothing you entered has been lost.") in html
    assert 'id="request-id"' in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert not Appeal.objects.exists()
    assert not Attachment.objects.exists()
    assert not Event.objects.exists()
    assert not Notification.objects.exists()
    assert StagedUpload.objects.get() == staged
    assert staged.file.storage.exists(staged.file.name)
    assert not mailoutbox

    # The citizen sends the same form again: one appeal, with the kept file.
    retried = client.post("/ky/appeal/", data)
    assert retried.status_code == 302
    appeal = Appeal.objects.get(submission_key=data["submission_key"])
    attachment = appeal.attachments.get()
    assert attachment.file.name == staged.file.name
    assert attachment.file.storage.exists(attachment.file.name)
    assert len(mailoutbox) == 1


# --- Two identical submissions at once ----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_makes_one_appeal(
    topic, monkeypatch, eager_celery, mailoutbox
):
    data = _form(topic)
    # Both requests must have looked for the submission key, and found none, before
    # either writes: the unique key in the database decides, not the look-up.
    both_looked = threading.Barrier(2, timeout=15)
    real_tracking_number = codes.new_tracking_number

    def tracking_number_once_both_looked() -> str:
        both_looked.wait()
        return real_tracking_number()

    monkeypatch.setattr(codes, "new_tracking_number", tracking_number_once_both_looked)
    start = threading.Barrier(2, timeout=15)
    responses: list = [None, None]
    failures: list = []

    def send(index: int) -> None:
        try:
            start.wait()
            responses[index] = Client(raise_request_exception=False).post(
                "/ky/appeal/", data
            )
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert [r.status_code for r in responses] == [302, 302]
    appeal = Appeal.objects.get(submission_key=data["submission_key"])
    assert {r["Location"] for r in responses} == {
        f"/ky/appeal/sent/{appeal.tracking_number}/"
    }
    assert Event.objects.filter(appeal=appeal).count() == 1
    assert Notification.objects.filter(appeal=appeal).count() == 1
    assert len(mailoutbox) == 1
