"""Profile the citizen's submission in process: the real filing form posted with
Django's test client (DEBUG off, PostgreSQL, Redis cache), as bench/run.py runs the
portal. Prints the time per submission, the queries of one submission, and the
cProfile functions with the most cumulative time.

    .venv/bin/python bench/profile_submit.py \
        --database-url postgres://postgres@127.0.0.1:5432/submit_bench --count 200

It writes `--count` appeals (and their receipt notifications) into that database;
Celery messages go to the broker, so run it against a benchmark database only.
"""

import argparse
import cProfile
import gc
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cumulative, tottime")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time the profile by this process's CPU, not the clock (waits on the "
        "database and Redis drop out; steadier on a busy machine)",
    )
    parser.add_argument(
        "--pyinstrument", action="store_true", help="a call tree (pip install it)"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/4",
    )
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name or name in ("portal", "postgres"):
        parser.error("--database-url: a benchmark database filled by generate.py")
    import json

    from run import _environment

    samples = json.loads((ROOT / "bench" / f"samples-{name}.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    os.environ.update(_environment(args.database_url, samples, work, args.redis_url))
    from django.db import connection
    from django.test import Client

    import portal.wsgi  # noqa: F401  (as gunicorn loads it: set up, then frozen)
    from agencies.models import Topic

    topic = Topic.objects.filter(is_active=True).values_list("code", flat=True)[0]

    # One client, its cookies dropped for each new visitor, as in bench/run.py: a new
    # Client() would build the middleware again on its first request, which a server
    # does once per process.
    client = Client()

    def post(n: int):
        # As bench/run.py's clients: a new visitor (no cookies), an urlencoded form.
        client.cookies.clear()
        response = client.post(
            "/ky/appeal/",
            urlencode(
                {
                    "submission_key": str(uuid.uuid4()),
                    "kind": "statement",
                    "topic": topic,
                    "text": f"Profiling the submission path, appeal number {n}.\r\nThanks.",
                    "applicant_name": f"Profile Citizen {n}",
                    "applicant_address": "Bishkek, Chui avenue 1",
                    "applicant_email": f"citizen{n}@example.org",
                    "is_collective": "0",
                    "language": "ky",
                    "consent": "on",
                    "website": "",
                }
            ),
            content_type="application/x-www-form-urlencoded",
            secure=True,
        )
        if response.status_code != 302:
            raise SystemExit(f"submission {n}: {response.status_code}")

    try:
        for n in range(5):  # warm up: templates, connections
            post(n)
        queries = []

        def record(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql))

        with connection.execute_wrapper(record):
            post(-1)
        collector = _CollectorTime()
        gc.callbacks.append(collector)
        wall, cpu = time.perf_counter(), time.process_time()
        for n in range(args.count):
            post(100_000 + n)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        gc.callbacks.remove(collector)
        print(
            f"without the profiler: {wall / args.count * 1000:.1f} ms each, "
            f"{cpu / args.count * 1000:.1f} ms of it this process's CPU, "
            f"{collector.cpu / args.count * 1000:.2f} ms the garbage collector's "
            f"({collector.passes} passes)"
        )
        print(f"queries of one submission: {len(queries)}")
        for seconds, sql in queries:
            flat = re.sub(r"\s+", " ", sql)[:110]
            print(f"  {seconds * 1000:7.2f} ms  {flat}")
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                for n in range(args.count):
                    post(n + 10)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return 0
        profile = (
            cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        )
        started = time.perf_counter()
        profile.enable()
        for n in range(args.count):
            post(n + 10)
        profile.disable()
        elapsed = time.perf_counter() - started
        print(
            f"\n{args.count} submissions in {elapsed:.2f} s: "
            f"{elapsed / args.count * 1000:.1f} ms each"
        )
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


class _CollectorTime:
    """CPU time spent in the garbage collector's passes (a gc callback)."""

    def __init__(self):
        self.cpu, self.passes, self._started = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.cpu += time.process_time() - self._started
            self.passes += 1


if __name__ == "__main__":
    raise SystemExit(main())
