"""Test helpers shared across apps: staff login, a real Celery worker, the browser."""

import datetime as dt
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def second_factor_device(user):
    """The user's confirmed authenticator device (a real django-otp TOTP device),
    created on first use: tests log in with the codes it computes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(
        user=user, name="authenticator", confirmed=True
    )


def current_code(device) -> str:
    """The code the user's app would show now (RFC 6238, the device's own settings).

    The device forgets the last code it accepted, so a test may log the same person
    in twice within one 30-second step."""
    from django_otp.oath import totp

    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def login_staff(client, user) -> None:
    """Log a staff member in the way every staff test does: the session is logged in
    and confirmed with the second factor (django_otp.login's session key, pointing
    at a real device of the user), as after the code step of the real login."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
    session.save()


def database_url_for_tests() -> str:
    """A DATABASE_URL that points a child process at the test database."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def celery_worker(*, queue: str | None = None, extra_env: dict | None = None):
    """A real `celery -A portal worker` process on the configured broker.

    It consumes only its own queue, so it never takes messages meant for anyone else,
    and it is stopped when the block ends.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DEBUG": "1",
        **(extra_env or {}),
    }
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / f"worker-{queue}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
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
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError(
            "Debian's chromium is not installed (apt-get install chromium)"
        )
    return path


@contextmanager
def playwright_running():
    """Playwright's sync API, closing the database connections the test made under it.

    While its event loop runs in this thread, Django keeps connections per context
    (asgiref's thread-critical Local), not per thread: the test body's ORM calls open
    a connection of their own that pytest-django never closes, and the test database
    could not be dropped at the end of the run ("1 other session")."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            yield playwright
        finally:
            connections.close_all()


def using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def browser_login(page, base_url: str, username: str, password: str, lang: str = "ky"):
    """Log a staff member in through the real login page and its second factor (a
    code computed from the user's authenticator device, created if missing): the one
    place browser journeys log in."""
    from django.contrib.auth import get_user_model

    device = second_factor_device(get_user_model().objects.get(username=username))
    page.goto(f"{base_url}/{lang}/staff/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base_url}/{lang}/staff/login/code/**")
    page.locator("#id_code").fill(current_code(device))
    page.locator("#id_code").press("Enter")
    page.wait_for_url(f"{base_url}/{lang}/staff/")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@contextmanager
def private_redis(workdir: Path, port: int):
    """A redis-server of the test's own on `port` (never the machine's shared one),
    stopped when the block ends; yields its URL."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        up = wait_for(lambda: _answers(port), timeout=10, interval=0.05)
        assert up, "redis-server did not start"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment of `day` in Bishkek."""
    return dt.datetime.combine(
        day, dt.time(hour, minute), tzinfo=ZoneInfo("Asia/Bishkek")
    )


@contextmanager
def gunicorn(*, env: dict, log: Path, workers: int = 1, args=(), host: str = ""):
    """`gunicorn portal.wsgi`, as deployed, on a free port of 127.0.0.1, stopped when
    the block ends; yields the port once /healthz answers (with `host` as the Host
    header when the environment's ALLOWED_HOSTS wants one)."""
    port = free_port()
    output = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )

    def answers() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request(
                "GET", "/healthz", headers={"Host": host or f"127.0.0.1:{port}"}
            )
            return connection.getresponse().status == 200
        except OSError:
            return False

    try:
        assert wait_for(answers, timeout=60), log.read_text()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        output.close()
