"""Load test of the real stack: many citizens filing and tracking appeals at once.

It starts everything itself on 127.0.0.1 and stops it at the end: a scratch PostgreSQL
database (created, migrated, dropped unless --keep), gunicorn, and a Celery worker whose
broker and cache are one private Redis database number (flushed at start and end, never
the whole server). N clients then loop for a fixed time: open the filing form, send it
(every 5th form twice, with the same submission key), read the receipt page, and, as
the citizen coming back on another device, track the appeal with its access code.

Afterwards it waits (bounded) for the worker to deliver every receipt and checks the
promises against the database and the mail files: every accepted submission is stored
exactly once, no response was a 5xx, every receipt was delivered. It prints figures,
writes bench/results-load.json, and exits 1 if a promise is broken.

    .venv/bin/python bench/load_test.py                          # 20 clients, 60 s
    .venv/bin/python bench/load_test.py --clients 8 --duration 15
"""

import argparse
import email
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
RESULTS = ROOT / "bench" / "results-load.json"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
RAISED_LIMIT = (
    1_000_000  # every client is 127.0.0.1: the per-client limits must not bite
)
REDIS_MARKER = "portal-load-test:owner"
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # Django's file backend between messages
REQUEST_TIMEOUT = 30.0  # s, per request (gunicorn's own worker timeout is 30 s)
MAX_DURATION = 300
MAX_CLIENTS = 200
KINDS = ("form", "submit", "resubmit", "sent", "track_form", "track", "status")
LANGUAGES = ("ky", "ru", "en")
TEXTS = {
    "ky": "Биздин көчөдө үч айдан бери жарык күйбөй жатат, жардам бериңиздер.",
    "ru": "Прошу разобраться с начислением пенсии: выплата задерживается два месяца.",
    "en": "The school roof in our village leaks; the children study in the cold.",
}
SENT_RE = re.compile(r"^/(ky|ru|en)/appeal/sent/([0-9A-Z-]+)/$")
STATUS_RE = re.compile(r"^/(ky|ru|en)/track/([0-9A-Z-]+)/$")
CODE_RE = re.compile(r'id="access-code">([0-9A-Z-]+)<')


def main() -> int:
    args = _parse_args()
    database_url, redis_url = args.database_url, args.redis_url
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = _environment(args, work)
    processes: list[tuple[str, subprocess.Popen]] = []
    created = redis_owned = False
    failed = True
    try:
        _claim_redis(redis_url, recreate=args.recreate)
        redis_owned = True
        created = _create_database(database_url, recreate=args.recreate)
        print(f"database   {_safe(database_url)} (scratch, created)")
        print(f"redis      {redis_url} (private database number, flushed)")
        started = time.monotonic()
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "load_demo", "--appeals", "0")
        _manage(env, "collectstatic", "--noinput", "-v0")
        print(f"prepared   in {time.monotonic() - started:.1f} s")

        port = _free_port()
        processes.append(("worker", _start_worker(env, work, args.concurrency)))
        processes.append(("gunicorn", _start_gunicorn(env, work, port, args.workers)))
        _wait_for_http(port, processes)
        _wait_for_worker(env, processes)
        print(
            f"stack      gunicorn {args.workers} sync workers on 127.0.0.1:{port}, "
            f"Celery worker (concurrency {args.concurrency})"
        )
        print(
            "settings   DEBUG=0 as in production; SECURE_PROXY_SSL_HEADER=1 and the "
            "clients send X-Forwarded-Proto: https, as the TLS proxy in front of the "
            "portal does (so the Secure session and CSRF cookies work over plain "
            f"http on 127.0.0.1); rate limits RATE_SUBMIT_PER_HOUR, "
            f"RATE_TRACK_PER_CLIENT and RATE_TRACK_PER_NUMBER raised to "
            f"{RAISED_LIMIT:,}, since every client comes from 127.0.0.1"
        )

        topics, agencies = _choices(database_url)
        load = Load(
            port=port,
            clients=args.clients,
            duration=args.duration,
            topics=topics,
            agencies=agencies,
        )
        load.warm_up(args.workers * 2)
        print(
            f"load       {args.clients} clients for {args.duration} s ...", flush=True
        )
        load.run()
        drain = _drain(database_url, load, timeout=args.drain_timeout)
        # The stack has done its work: stopping it closes its database sessions, so
        # the server's statistics (rolled-back transactions) are complete.
        for name, process in reversed(processes):
            _stop(name, process)
        processes.clear()
        _wait_for_disconnects(database_url)
        mails = _read_mails(work / "mail")
        checks, facts = _check(database_url, load, drain, mails)
        figures = _report(args, load, drain, mails, checks, facts)
        _write_results(args.results, figures)
        failed = not all(ok for ok, _text in checks)
        if failed:
            _show_logs(work)
        return 1 if failed else 0
    finally:
        for name, process in reversed(processes):
            _stop(name, process)
        if redis_owned:
            _release_redis(redis_url)
        if created and not args.keep:
            _drop_database(database_url)
            print("database   dropped")
        elif created:
            print(f"database   kept: {_safe(database_url)}")
        if args.keep:
            print(f"work dir   kept: {work} (logs, mails)")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="default 20")
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help=f"seconds of load (default 60, at most {MAX_DURATION})",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="Celery worker processes (2)"
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=60.0,
        help="seconds to wait after the load for the last receipt (default 60)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="a PostgreSQL database on 127.0.0.1 that must not exist yet: it is "
        f"created, migrated and dropped at the end (default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help="a Redis database number of its own for broker and cache, not 0; it is "
        f"flushed at start and end (default {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="drop a scratch database left by an earlier run (only portal_load*) "
        "and flush a non-empty Redis database number",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the work dir"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 0 and {MAX_DURATION} seconds")
    if not 0 < args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 0 < args.drain_timeout <= 600:
        parser.error("--drain-timeout must be between 0 and 600 seconds")
    database = urlsplit(args.database_url)
    if database.scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("the load test runs on PostgreSQL")
    if database.hostname not in LOCAL_HOSTS:
        parser.error("the load test only talks to 127.0.0.1")
    if args.recreate and not database.path.lstrip("/").startswith("portal_load"):
        parser.error("--recreate only drops databases named portal_load*")
    redis_parts = urlsplit(args.redis_url)
    if redis_parts.scheme != "redis" or redis_parts.hostname not in LOCAL_HOSTS:
        parser.error("--redis-url must be redis://127.0.0.1:<port>/<db>")
    if redis_parts.path.strip("/") in ("", "0"):
        parser.error("--redis-url needs a database number of its own, not 0")
    return args


def _environment(args: argparse.Namespace, work: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing from the caller's portal configuration leaks into the stack.
        if not key.startswith(("CELERY_", "CACHE_", "RATE_", "SECURE_", "EMAIL_"))
        and key not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "STATIC_MANIFEST")
    }
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_URL": args.redis_url,
            "CELERY_RESULT_BACKEND": args.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CACHE_KEY_PREFIX": "portal-load",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_PROXY_SSL_HEADER": "1",
            "VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "static"),
            "MEDIA_ROOT": str(work / "media"),
            "EMAIL_URL": f"filemail://{work / 'mail'}",
            "PORTAL_BASE_URL": "https://127.0.0.1",
            "RATE_SUBMIT_PER_HOUR": str(RAISED_LIMIT),
            "RATE_TRACK_PER_CLIENT": str(RAISED_LIMIT),
            "RATE_TRACK_PER_NUMBER": str(RAISED_LIMIT),
            "LOG_LEVEL": "WARNING",
        }
    )
    (work / "mail").mkdir()
    return env


# --- The stack ------------------------------------------------------------------


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        # A session of its own: stopping it reaches its children, and only them.
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _start_gunicorn(env: dict, work: Path, port: int, workers: int) -> subprocess.Popen:
    return _start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--graceful-timeout",
            "10",
        ],
        env,
        work / "gunicorn.log",
    )


def _start_worker(env: dict, work: Path, concurrency: int) -> subprocess.Popen:
    return _start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"portal-load-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        work / "worker.log",
    )


def _check_alive(processes: list[tuple[str, subprocess.Popen]]) -> None:
    for name, process in processes:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with code {process.returncode}")


def _wait_for_http(port: int, processes, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(processes)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz in time")


def _wait_for_worker(env: dict, processes, timeout: float = 60.0) -> None:
    name = f"portal-load-{os.getpid()}@{socket.gethostname()}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(processes)
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "portal", "inspect", "ping"]
            + ["--destination", name, "--timeout", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
        if ping.returncode == 0:
            return
    raise SystemExit("the Celery worker did not answer a ping in time")


def _stop(name: str, process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the group of the process we started
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    print(f"stopped    {name}")


def _claim_redis(url: str, *, recreate: bool) -> None:
    import redis

    client = redis.Redis.from_url(url)
    if client.dbsize() and not client.exists(REDIS_MARKER) and not recreate:
        raise SystemExit(
            f"refusing: Redis {url} holds keys that this test did not write; pick "
            "another database number or pass --recreate to flush that one"
        )
    client.flushdb()  # this database number only
    client.set(REDIS_MARKER, os.getpid())


def _release_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _create_database(url: str, *, recreate: bool) -> bool:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and not recreate:
            raise SystemExit(
                f"refusing: database {name!r} exists; the load test only runs on a "
                "scratch database it creates (--recreate drops one left by an "
                "earlier run)"
            )
        if exists:
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def _drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def _connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(("postgresql", *parts[1:])), autocommit=True)


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))


def _safe(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # no password in the output
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _choices(url: str) -> tuple[list[str], list[str]]:
    with _connect(url) as connection:
        topics = [
            row[0]
            for row in connection.execute(
                "SELECT code FROM agencies_topic WHERE is_active ORDER BY code"
            )
        ]
        agencies = [
            row[0]
            for row in connection.execute(
                "SELECT slug FROM agencies_agency WHERE is_active ORDER BY slug"
            )
        ]
    if not topics:
        raise SystemExit("no topics in the scratch database (load_demo failed?)")
    return topics, agencies


# --- The clients ----------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0: no response (connection error or timeout)
    seconds: float
    at: float


@dataclass
class Accepted:
    key: str
    tracking: str
    email: str


class UnexpectedResponseError(Exception):
    pass


class Browser:
    """One citizen's browser: cookies kept, every request through the TLS proxy."""

    def __init__(self, load: "Load"):
        self.load = load
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()

    def request(
        self, kind: str, method: str, path: str, *, data=None, referer: str = ""
    ) -> tuple[int, dict, str]:
        origin = f"https://127.0.0.1:{self.load.port}"
        headers = {"X-Forwarded-Proto": "https", "Accept-Language": "ky"}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(
                    f"{k}={v}" for k, v in self.cookies.items()
                )
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = origin
            headers["Referer"] = origin + (referer or path)
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.load.port, timeout=REQUEST_TIMEOUT
            )
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            self.load.record(kind, 0, time.monotonic() - started)
            self.load.problem(f"{kind} {method} {path}: no response ({exc!r})")
            raise UnexpectedResponseError from exc
        self.load.record(kind, response.status, time.monotonic() - started)
        with self.lock:
            for header in response.msg.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return response.status, dict(response.getheaders()), text

    def expect(self, kind, method, path, status, **kwargs) -> tuple[dict, str]:
        got, headers, text = self.request(kind, method, path, **kwargs)
        if got != status:
            self.load.problem(f"{kind} {method} {path}: {got}, expected {status}")
            raise UnexpectedResponseError
        return headers, text


def _input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    value = re.search(r'\bvalue="([^"]*)"', match.group(0)) if match else None
    if value is None:
        raise UnexpectedResponseError(f"no {name} in the page")
    return value.group(1)


class Load:
    def __init__(self, *, port, clients, duration, topics, agencies):
        self.port = port
        self.clients = clients
        self.duration = duration
        self.topics = topics
        self.agencies = agencies
        self.samples: list[Sample] = []
        self.problems: list[str] = []
        self.accepted: list[Accepted] = []
        self.doubles = {"sequential": 0, "concurrent": 0, "same_number": 0}
        self.tracked = 0
        self.posts = itertools.count(1)
        self.lock = threading.Lock()
        self.started = self.ended = 0.0
        self.cpu_seconds = 0.0  # this process (the clients), during the load
        self.load_average = (0.0, 0.0)  # 1-minute load average before and after

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.append(Sample(kind, status, seconds, time.monotonic()))

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def warm_up(self, requests: int) -> None:
        """Let every gunicorn worker load its templates before the clock starts."""
        for _n in range(requests):
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
            )
            connection.request(
                "GET", "/ky/appeal/", headers={"X-Forwarded-Proto": "https"}
            )
            connection.getresponse().read()
            connection.close()

    def run(self) -> None:
        before = os.getloadavg()[0]
        cpu = time.process_time()
        self.started = time.monotonic()
        deadline = self.started + self.duration
        threads = [
            threading.Thread(target=self._client, args=(n, deadline), daemon=True)
            for n in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        # A client finishes the round it has begun; each request is bounded.
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 300)
        self.ended = time.monotonic()
        self.cpu_seconds = time.process_time() - cpu
        self.load_average = (before, os.getloadavg()[0])
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            self.problem(f"{stuck} clients still waiting for an answer at the end")

    def _client(self, number: int, deadline: float) -> None:
        max_rounds = int(self.duration * 100)  # bounded in count as well as in time
        for round_ in range(max_rounds):
            if time.monotonic() >= deadline:
                return
            language = LANGUAGES[(number + round_) % len(LANGUAGES)]
            try:
                self._citizen(number, round_, language)
            except UnexpectedResponseError:
                time.sleep(0.2)  # a failed round: carry on with a new citizen
            except Exception as exc:  # noqa: BLE001 (counted, never hides a failure)
                self.problem(f"client {number}: {exc!r}")
                time.sleep(0.2)

    def _citizen(self, number: int, round_: int, language: str) -> None:
        browser = Browser(self)
        form_path = f"/{language}/appeal/"
        _headers, html = browser.expect("form", "GET", form_path, 200)
        key = _input_value(html, "submission_key")
        address = f"c{number}-{round_}-{key[:8]}@load.example.kg"
        topic = self.topics[(number * 7 + round_) % len(self.topics)]
        addressee = ["", *self.agencies][
            (number + round_ * 3) % (len(self.agencies) + 1)
        ]
        data = {
            "csrfmiddlewaretoken": _input_value(html, "csrfmiddlewaretoken"),
            "submission_key": key,
            "addressee": addressee,
            "kind": ("statement", "complaint", "proposal")[round_ % 3],
            "topic": topic,
            "text": f"{TEXTS[language]} (№ {number}-{round_})",
            "applicant_name": "Асанов Бакыт",
            "applicant_address": "Бишкек ш., Манас пр., 1",
            "applicant_phone": f"+996 555 {number:03d} {round_ % 1000:03d}",
            "applicant_email": address,
            "is_collective": "0",
            "signatories": "",
            "language": language,
            "consent": "on",
            "website": "",
        }
        post = next(self.posts)
        double = post % 5 == 0
        concurrent = double and post % 10 == 0
        second: dict = {}
        if concurrent:  # a double click: both requests in flight at once
            thread = threading.Thread(
                target=self._resubmit,
                args=(browser, form_path, data, second),
                daemon=True,
            )
            thread.start()
        headers, _html = browser.expect("submit", "POST", form_path, 302, data=data)
        location = headers.get("Location", "")
        match = SENT_RE.match(location)
        if not match:
            self.problem(f"submit: redirected to {location!r}")
            raise UnexpectedResponseError
        tracking = match.group(2)
        with self.lock:
            self.accepted.append(Accepted(key, tracking, address))
        if double:
            if concurrent:
                thread.join()
            else:
                self._resubmit(browser, form_path, data, second)
            with self.lock:
                self.doubles["concurrent" if concurrent else "sequential"] += 1
                if second.get("location") == location:
                    self.doubles["same_number"] += 1
                else:
                    self.problems.append(
                        f"resubmit of {key}: {second.get('location')!r}, "
                        f"the first went to {location!r}"
                    )
        _headers, html = browser.expect("sent", "GET", location, 200)
        code = CODE_RE.search(html)
        if code is None:
            self.problem(f"sent page of {tracking}: no access code")
            raise UnexpectedResponseError
        self._track(language, tracking, code.group(1))

    def _resubmit(self, browser, path, data, result: dict) -> None:
        try:
            headers, _html = browser.expect("resubmit", "POST", path, 302, data=data)
            result["location"] = headers.get("Location", "")
        except UnexpectedResponseError:
            result["location"] = None

    def _track(self, language: str, tracking: str, code: str) -> None:
        """The citizen comes back later, on another device: a new browser."""
        browser = Browser(self)
        path = f"/{language}/track/"
        _headers, html = browser.expect("track_form", "GET", path, 200)
        data = {
            "csrfmiddlewaretoken": _input_value(html, "csrfmiddlewaretoken"),
            "tracking_number": tracking,
            "access_code": code,
        }
        headers, _html = browser.expect("track", "POST", path, 302, data=data)
        location = headers.get("Location", "")
        match = STATUS_RE.match(location)
        if not match or match.group(2) != tracking:
            self.problem(f"track {tracking}: redirected to {location!r}")
            raise UnexpectedResponseError
        _headers, html = browser.expect("status", "GET", location, 200)
        if tracking not in html:
            self.problem(f"status page of {tracking} does not show its number")
            raise UnexpectedResponseError
        with self.lock:
            self.tracked += 1


# --- Afterwards -----------------------------------------------------------------


@dataclass
class Drain:
    receipts: int = 0
    sent: int = 0
    waited: float = 0.0
    last_after_load: float | None = None  # s after the load ended; <= 0: during it
    delivery_seconds: list[float] = field(default_factory=list)


def _drain(url: str, load: Load, *, timeout: float) -> Drain:
    """Wait, bounded, until the worker has delivered every receipt."""
    drain = Drain()
    started = time.monotonic()
    with _connect(url) as connection:
        while True:
            drain.receipts, drain.sent = connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE state = 'sent') "
                "FROM appeals_notification WHERE template = 'receipt'"
            ).fetchone()
            if drain.sent >= drain.receipts or time.monotonic() - started > timeout:
                break
            time.sleep(0.5)
        drain.waited = time.monotonic() - started
        rows = connection.execute(
            "SELECT extract(epoch FROM n.sent_at - a.received_at), "
            "extract(epoch FROM now() - n.sent_at) "
            "FROM appeals_notification n JOIN appeals_appeal a ON a.id = n.appeal_id "
            "WHERE n.template = 'receipt' AND n.state = 'sent'"
        ).fetchall()
    now = time.monotonic()
    drain.delivery_seconds = [float(row[0]) for row in rows]
    if rows:
        last_sent = now - min(float(row[1]) for row in rows)
        drain.last_after_load = last_sent - load.ended
    return drain


def _wait_for_disconnects(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    with _connect(url) as connection:
        while time.monotonic() < deadline:
            others = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not others:
                return
            time.sleep(0.2)


@dataclass
class Mails:
    files: int = 0
    messages: int = 0
    recipients: dict[str, int] = field(default_factory=dict)


def _read_mails(folder: Path) -> Mails:
    """Messages, not files: the file backend names files by second and object id, so
    two connections may append to one file."""
    mails = Mails()
    for path in folder.iterdir():
        mails.files += 1
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if not chunk.strip():
                continue
            mails.messages += 1
            to = email.message_from_bytes(chunk.lstrip(b"\n")).get("To", "")
            mails.recipients[to] = mails.recipients.get(to, 0) + 1
    return mails


def _check(url: str, load: Load, drain: Drain, mails: Mails):
    samples = load.samples
    server_errors = sum(s.status >= 500 for s in samples)
    no_response = sum(s.status == 0 for s in samples)
    keys = {a.key: a for a in load.accepted}
    with _connect(url) as connection:
        rows = connection.execute(
            "SELECT submission_key::text, tracking_number, applicant_email "
            "FROM appeals_appeal"
        ).fetchall()
        receipt_counts = connection.execute(
            "SELECT a.id, count(n.id) FROM appeals_appeal a LEFT JOIN "
            "appeals_notification n ON n.appeal_id = a.id AND n.template = 'receipt' "
            "GROUP BY a.id"
        ).fetchall()
        # Nothing else rolls back here: these are racing double submissions, caught
        # by the unique submission key (and any error, which the checks report).
        rollbacks = connection.execute(
            "SELECT xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()[0]
        states = dict(
            connection.execute(
                "SELECT state, count(*) FROM appeals_notification "
                "WHERE template = 'receipt' GROUP BY state"
            ).fetchall()
        )
    stored: dict[str, list[str]] = {}
    for key, tracking, _email in rows:
        stored.setdefault(key, []).append(tracking)
    wrong = [
        key for key, accepted in keys.items() if stored.get(key) != [accepted.tracking]
    ]
    unknown = [key for key in stored if key not in keys]
    not_one_receipt = [pk for pk, count in receipt_counts if count != 1]
    receipts = sum(states.values())
    sent = states.get("sent", 0)
    expected_to = {a.email for a in load.accepted}
    mail_problems = [
        address for address in expected_to if mails.recipients.get(address) != 1
    ] + [address for address in mails.recipients if address not in expected_to]
    checks = [
        (
            server_errors == 0,
            f"no response was a 5xx ({server_errors} of {len(samples):,})",
        ),
        (no_response == 0, f"every request was answered ({no_response} without)"),
        (
            not load.problems,
            f"every answer was the expected one ({len(load.problems)} unexpected)",
        ),
        (
            bool(keys) and not wrong,
            f"every accepted submission is in the database exactly once under the "
            f"tracking number it was given ({len(keys):,} accepted, {len(wrong)} "
            "missing, doubled or renumbered)",
        ),
        (
            len(rows) == len(keys) and not unknown,
            f"appeals in the database = distinct accepted submission keys "
            f"({len(rows):,} = {len(keys):,})",
        ),
        (
            load.doubles["same_number"]
            == load.doubles["sequential"] + load.doubles["concurrent"],
            f"a form sent twice gave one appeal ({load.doubles['same_number']} of "
            f"{load.doubles['sequential'] + load.doubles['concurrent']} resent forms "
            "got the first one's tracking number)",
        ),
        (
            receipts == len(rows) and not not_one_receipt and sent == receipts,
            f"every appeal has one receipt and every receipt was delivered "
            f"({sent:,} sent of {receipts:,} receipts for {len(rows):,} appeals; "
            f"states {states})",
        ),
        (
            mails.messages == receipts and not mail_problems,
            f"one mail per receipt, to its applicant ({mails.messages:,} messages "
            f"in {mails.files:,} files for {receipts:,} receipts; "
            f"{len(mail_problems)} addresses with none, several or unexpected)",
        ),
    ]
    facts = {
        "appeals": len(rows),
        "receipts": receipts,
        "sent": sent,
        "rollbacks": rollbacks,
    }
    return checks, facts


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def _report(args, load: Load, drain: Drain, mails: Mails, checks, facts) -> list:
    elapsed = load.ended - load.started
    figures = [
        ("clients", args.clients, "clients"),
        ("duration", args.duration, "s"),
        ("gunicorn workers", args.workers, "processes"),
        ("celery concurrency", args.concurrency, "processes"),
        ("load elapsed", round(elapsed, 2), "s"),
    ]
    print()
    print(
        f"{'kind':<11} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'5xx':>5} {'other':>6} {'none':>5}"
    )
    expected = {"submit": 302, "resubmit": 302, "track": 302}
    for kind in (*KINDS, "total"):
        rows = [s for s in load.samples if kind in ("total", s.kind)]
        if not rows:
            continue
        ms = [s.seconds * 1000 for s in rows]
        server = sum(s.status >= 500 for s in rows)
        none = sum(s.status == 0 for s in rows)
        other = sum(
            0 < s.status < 500 and s.status != expected.get(s.kind, 200) for s in rows
        )
        rate = len(rows) / elapsed if elapsed else 0.0
        p50, p95, p99 = (_percentile(ms, q) for q in (0.5, 0.95, 0.99))
        print(
            f"{kind:<11} {len(rows):>9,} {rate:>7.1f} {p50:>8.0f} {p95:>8.0f} "
            f"{p99:>8.0f} {max(ms):>8.0f} {server:>5} {other:>6} {none:>5}"
        )
        figures += [
            (f"{kind} requests", len(rows), "requests"),
            (f"{kind} throughput", round(rate, 2), "req/s"),
            (f"{kind} p50 latency", round(p50, 1), "ms"),
            (f"{kind} p95 latency", round(p95, 1), "ms"),
            (f"{kind} p99 latency", round(p99, 1), "ms"),
            (f"{kind} max latency", round(max(ms), 1), "ms"),
            (f"{kind} 5xx responses", server, "responses"),
            (f"{kind} other unexpected statuses", other, "responses"),
            (f"{kind} without response", none, "requests"),
        ]
    doubles = load.doubles["sequential"] + load.doubles["concurrent"]
    print(
        f"\n{'machine':<26} {os.cpu_count()} CPUs; 1-minute load average "
        f"{load.load_average[0]:.1f} before, {load.load_average[1]:.1f} after; "
        f"the clients used {load.cpu_seconds:.1f} s of CPU "
        f"({load.cpu_seconds / elapsed:.0%} of one core)"
    )
    figures += [
        ("load average before", round(load.load_average[0], 2), "processes"),
        ("load average after", round(load.load_average[1], 2), "processes"),
        ("client CPU", round(load.cpu_seconds, 2), "s"),
    ]
    delivery = drain.delivery_seconds
    last = drain.last_after_load
    print(f"{'submissions accepted':<26} {len(load.accepted):,} (distinct keys)")
    print(f"{'submissions per second':<26} {len(load.accepted) / elapsed:.1f}")
    print(
        f"{'forms sent twice':<26} {doubles} ({load.doubles['sequential']} one "
        f"after the other, {load.doubles['concurrent']} both at once); "
        f"duplicates prevented: {load.doubles['same_number']}"
    )
    print(
        f"{'transactions rolled back':<26} {facts['rollbacks']} (in the scratch "
        "database: double clicks that raced into the insert, caught by the unique "
        "submission key)"
    )
    print(f"{'appeals tracked':<26} {load.tracked:,} (with the code, new session)")
    if last is None:
        when = ""
    elif last <= 0:
        when = "; the last one during the load"
    else:
        when = f"; the last one {last:.1f} s after the load ended"
    print(
        f"{'receipts delivered':<26} {facts['sent']:,} of {facts['receipts']:,}"
        f"{when} (waited {drain.waited:.1f} s after the load)"
    )
    if delivery:
        print(
            f"{'submission → receipt':<26} p50 {_percentile(delivery, 0.5):.2f} s, "
            f"p95 {_percentile(delivery, 0.95):.2f} s, max {max(delivery):.2f} s"
        )
    print(f"{'mail messages':<26} {mails.messages:,} in {mails.files:,} files")
    figures += [
        ("submissions accepted", len(load.accepted), "appeals"),
        ("forms sent twice", doubles, "forms"),
        ("duplicates prevented", load.doubles["same_number"], "forms"),
        ("transactions rolled back", facts["rollbacks"], "transactions"),
        ("appeals tracked", load.tracked, "appeals"),
        ("appeals in the database", facts["appeals"], "appeals"),
        ("receipts", facts["receipts"], "notifications"),
        ("receipts delivered", facts["sent"], "notifications"),
        ("mail messages", mails.messages, "messages"),
    ]
    if last is not None:
        figures.append(("last receipt after the load", round(max(last, 0), 2), "s"))
    if delivery:
        figures += [
            ("receipt delivery p50", round(_percentile(delivery, 0.5), 3), "s"),
            ("receipt delivery p95", round(_percentile(delivery, 0.95), 3), "s"),
            ("receipt delivery max", round(max(delivery), 3), "s"),
        ]
    print()
    print("promises")
    for ok, text in checks:
        print(f"  [{'ok' if ok else 'BROKEN'}] {text}")
    for text in load.problems[:10]:
        print(f"    ! {text}")
    if len(load.problems) > 10:
        print(f"    ! ... and {len(load.problems) - 10} more")
    broken = sum(not ok for ok, _text in checks)
    figures.append(("promises broken", broken, "promises"))
    return figures


def _write_results(path: Path, figures: list) -> None:
    entries = [{"name": n, "value": v, "unit": u} for n, v, u in figures]
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
    print(f"\nresults    {path}")


def _show_logs(work: Path) -> None:
    for name in ("gunicorn.log", "worker.log"):
        path = work / name
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()[-40:]
            print(f"--- last lines of {name} ---")
            for line in lines:
                print(f"  | {line}")


if __name__ == "__main__":
    sys.exit(main())
