"""CPU per request of the hot pages, in process: the citizen's submission, the tracking
look-up and status page, the largest agency head's inbox (new, in progress, overdue,
a deep page). Each page is requested with Django's test client as bench/run.py does
(DEBUG off, PostgreSQL, Redis cache and broker); it prints, per page, this process's
CPU milliseconds per request (time.process_time, robust to a loaded machine), the
wall milliseconds (median) and the queries of one request, and with --profile the
functions that took the time.

    .venv/bin/python bench/profile_requests.py \
        --database-url postgres://postgres@127.0.0.1:5432/bench_1m --count 100
    .venv/bin/python bench/profile_requests.py ... --pages inbox-new --profile pyinstrument

The submissions write appeals (and their receipts' Celery messages): run it against a
benchmark database only.
"""

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = (
    "submit",
    "track",
    "status",
    "inbox-new",
    "inbox-in_progress",
    "inbox-overdue",
    "inbox-deep",
)
WARM_UP = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--count", type=int, default=100, help="requests per page")
    parser.add_argument("--pages", default=",".join(PAGES), help=",".join(PAGES))
    parser.add_argument(
        "--profile", choices=("", "cprofile", "pyinstrument"), default=""
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cumulative, tottime")
    parser.add_argument("--queries", action="store_true", help="print the SQL")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/4",
    )
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name or name in ("portal", "postgres"):
        parser.error("--database-url: a benchmark database filled by generate.py")
    pages = [page for page in args.pages.split(",") if page]
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(f"--pages: unknown {', '.join(sorted(unknown))}")

    from run import _environment

    samples = json.loads((ROOT / "bench" / f"samples-{name}.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    os.environ.update(_environment(args.database_url, samples, work, args.redis_url))
    import django

    django.setup()
    try:
        requests = Requests(samples)
        print(
            f"{'page':<20}{'CPU ms/req':>11}{'wall ms p50':>13}{'wall ms p95':>13}"
            f"{'queries':>9}{'gc gen2':>8}",
            flush=True,
        )
        for page in pages:
            measure(requests, page, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


class Requests:
    """One callable per page; each makes one request and checks its status."""

    def __init__(self, samples: dict):
        from django.db import connection
        from run import deep_inbox_cursor, staff_client

        from agencies.models import Topic

        self.samples = samples
        self.pairs = samples["tracking"]
        self.topic = Topic.objects.filter(is_active=True).values_list(
            "code", flat=True
        )[0]
        self.n = 0
        self.head = staff_client(samples["head_username"])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT slug FROM agencies_agency WHERE id = %s",
                [samples["largest_agency"]],
            )
            self.slug = cursor.fetchone()[0]
        self.deep = deep_inbox_cursor(connection, samples["largest_agency"])[1]
        self.tracked = []  # (client, status page) after a look-up
        self.handler = None  # the visitors' one request handler (see _visitor)

    def _visitor(self):
        """A client with no cookies (a new visitor) on the one handler: a handler of
        its own would build the middleware again on its first request, which a
        server does once per worker."""
        from django.test import Client

        client = Client()
        if self.handler is None:
            self.handler = client.handler
        client.handler = self.handler
        return client

    def _check(self, response, status: int, what: str):
        if response.status_code != status:
            raise SystemExit(f"{what}: {response.status_code}, not {status}")
        return response

    def submit(self):

        self.n += 1
        body = urlencode(
            {
                "submission_key": str(uuid.uuid4()),
                "kind": "statement",
                "topic": self.topic,
                "text": f"Profiling the request path, appeal number {self.n}.\r\n",
                "applicant_name": f"Profile Citizen {self.n}",
                "applicant_address": "Bishkek, Chui avenue 1",
                "applicant_email": f"citizen{self.n}@example.org",
                "is_collective": "0",
                "language": "ky",
                "consent": "on",
                "website": "",
            }
        )
        # As bench/run.py's clients: a new visitor, an urlencoded form.
        self._check(
            self._visitor().post(
                "/ky/appeal/",
                body,
                content_type="application/x-www-form-urlencoded",
                secure=True,
            ),
            302,
            "submission",
        )

    def track(self):

        self.n += 1
        pair = self.pairs[(self.n * 7) % len(self.pairs)]
        client = self._visitor()  # a new visitor, as bench/run.py
        response = self._check(
            client.post(
                "/ky/track/",
                {
                    "tracking_number": pair["tracking_number"],
                    "access_code": pair["access_code"],
                },
                secure=True,
            ),
            302,
            "tracking",
        )
        self.tracked.append((client, response["Location"]))

    def status(self):
        if not self.tracked:
            for _n in range(20):
                self.track()
        self.n += 1
        client, location = self.tracked[self.n % len(self.tracked)]
        self._check(client.get(location, secure=True), 200, "status page")

    def inbox(self, tab: str, after: str | None = None):
        params = {"agency": self.slug, "tab": tab}
        if after:
            params["after"] = after
        self._check(
            self.head.get("/ky/staff/inbox/", params, secure=True), 200, f"inbox {tab}"
        )

    def call(self, page: str):
        if page.startswith("inbox-"):
            tab = page.removeprefix("inbox-")
            if tab == "deep":
                return lambda: self.inbox("in_progress", self.deep)
            return lambda: self.inbox(tab)
        return getattr(self, page)


def measure(requests: Requests, page: str, args) -> None:
    from django.db import connection

    request = requests.call(page)
    for _n in range(WARM_UP):
        request()
    queries = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(record):
        request()
    walls = []
    collections = []  # the garbage collector's passes of the oldest generation
    gc.callbacks.append(
        lambda phase, info: (
            phase == "start" and info["generation"] == 2 and collections.append(1)
        )
    )
    cpu = time.process_time()
    for _n in range(args.count):
        started = time.perf_counter()
        request()
        walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    gc.callbacks.pop()
    p95 = sorted(walls)[max(0, int(len(walls) * 0.95) - 1)]
    print(
        f"{page:<20}{cpu / args.count * 1000:>11.1f}"
        f"{statistics.median(walls) * 1000:>13.1f}{p95 * 1000:>13.1f}"
        f"{len(queries):>9}{len(collections):>8}",
        flush=True,
    )
    if args.queries:
        for seconds, sql in queries:
            flat = re.sub(r"\s+", " ", sql)[:150]
            print(f"    {seconds * 1000:7.2f} ms  {flat}")
    if args.profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        with profiler:
            for _n in range(args.count):
                request()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    elif args.profile == "cprofile":
        # CPU time, not wall time: the machine is shared and waits are not ours.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _n in range(args.count):
            request()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    raise SystemExit(main())
