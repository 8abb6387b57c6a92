"""The read replica measured: reports on the standby beside the primary, and what a
year report running in a loop costs citizens' submissions on either (issue 28, part 7).

    .venv/bin/python bench/replica.py --appeals 200000 --duration 30

It starts its own primary and streaming standby (tests/engines/replica.py: initdb,
pg_basebackup -R, on free 127.0.0.1 ports in a temporary folder), fills the primary
with bench/generate.py (`--appeals` over `--years`), waits until the standby has
replayed it, and prints:

* the year report's figures and the open statistics, timed on the standby and on the
  primary in the same run (median of `--repeat`), with the intake rollup and counted
  live (INTAKE_ROLLUP off: the heaviest read a manager can cause);
* submissions per second through gunicorn for `--duration` seconds, alone, then while
  another process builds the year report (counted live) in a loop on (a) the primary,
  (b) the standby: the interference figure.

One machine holds everything here: the standby shares the primary's cores, so (b)
spares the primary's locks, buffers and I/O but not its CPU. On its own machine the
standby also takes the report's CPU off the primary. It asserts nothing; it prints
figures. Both clusters are stopped and removed at the end.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench_run  # noqa: E402 (bench/run.py: gunicorn and the load)

from tests.engines import replica as engines  # noqa: E402

DATABASE = "bench_replica"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appeals", type=int, default=200_000)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each report")
    parser.add_argument("--duration", type=float, default=30.0, help="load seconds")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--report-loop", choices=["primary", "replica"])
    parser.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.report_loop:
        return _report_loop(args.report_loop, args.seconds)

    work = Path(tempfile.mkdtemp(prefix="bench-replica-"))
    work.chmod(0o755)  # the clusters below run as the postgres OS user
    pair = None
    try:
        started = time.monotonic()
        pair = engines.start_pair(work / "clusters")
        primary_url, replica_url = pair.urls(DATABASE)
        print(
            f"primary :{pair.primary.port}, standby :{pair.replica.port} "
            f"({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        samples = work / "samples.json"
        started = time.monotonic()
        _prepare(pair, primary_url)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--appeals",
                str(args.appeals),
                "--years",
                str(args.years),
                "--database-url",
                primary_url,
                "--samples",
                str(samples),
                "--no-progress",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        engines.wait_replayed(pair, timeout=600)
        print(
            f"generated {args.appeals:,} appeals and replayed them on the standby "
            f"({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        env = _environment(primary_url, replica_url, samples, work)
        os.environ.update(env)
        import django

        django.setup()
        rows = _reports(args.repeat)
        rows += _interference(args, work)
        _print(rows, args)
    finally:
        if pair is not None:
            engines.stop_pair(pair)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _prepare(pair, primary_url: str) -> None:
    """The database, migrated (generate.py then finds it empty and fills it)."""
    engines.psql(pair.primary, f"CREATE DATABASE {DATABASE}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": primary_url, "DEBUG": "1"},
        check=True,
    )


def _environment(primary_url: str, replica_url: str, samples: Path, work: Path):
    env = bench_run._environment(
        primary_url, json.loads(samples.read_text()), work, redis_url=""
    )
    # Self-contained: no Redis (the filesystem broker and the local-memory cache), so
    # nothing of the machine's own services is touched.
    env.update(
        DATABASE_REPLICA_URL=replica_url,
        REDIS_URL="",
        CELERY_BROKER_URL="filesystem://",
        CELERY_RESULT_BACKEND=f"file://{work / 'celery-results'}",
    )
    return env


def _year() -> int:
    """This year: the data end today, so with --years 1 it holds most of them."""
    from django.utils import timezone

    return timezone.localdate().year


def _timed(run, repeat: int) -> float:
    """Median wall-clock milliseconds of `run()` (one untimed run first)."""
    run()
    times = []
    for _n in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _reports(repeat: int) -> list[tuple[str, float, float]]:
    """(what, ms on the standby, ms on the primary)."""
    from django.conf import settings
    from django.utils import timezone

    from portal import replica
    from portal.periods import parse_period
    from reports import selectors

    health = replica.replica_health(fresh=True)
    if not health.usable:
        raise SystemExit(f"the standby is not usable: {health.detail}")
    year = _year()
    today = timezone.localdate()

    def year_report():
        selectors.build_intake_report(period=parse_period(str(year)), language="ky")

    def open_statistics():
        selectors.open_statistics(year=year, today=today)
        selectors.agency_records(year=year, today=today)

    rows = []
    for rollup in (True, False):
        settings.INTAKE_ROLLUP = rollup
        how = "rollup" if rollup else "counted live"
        for name, run in (
            (f"year report figures ({how})", year_report),
            (f"open statistics + agencies' records ({how})", open_statistics),
        ):
            on_replica = _timed(run, repeat)
            with replica.on_primary():
                on_primary = _timed(run, repeat)
            rows.append((name, on_replica, on_primary))
    settings.INTAKE_ROLLUP = True
    return rows


def _report_loop(where: str, seconds: float) -> int:
    """In a process of its own: the year report counted live, again and again."""
    import django

    django.setup()
    from contextlib import nullcontext

    from portal import replica
    from portal.periods import parse_period
    from reports import selectors

    period = parse_period(str(_year()))
    done = 0
    deadline = time.monotonic() + seconds
    context = replica.on_primary if where == "primary" else nullcontext
    while time.monotonic() < deadline:
        with context():
            selectors.build_intake_report(period=period, language="ky")
        done += 1
    print(json.dumps({"reports": done, "status": replica.status()}))
    return 0


def _interference(args, work: Path) -> list[tuple[str, float, float]]:
    print("submissions through gunicorn", flush=True)
    port = bench_run._free_port()
    log = work / "gunicorn.log"
    gunicorn = bench_run._start(
        bench_run._gunicorn(
            "portal.wsgi:application",
            port,
            SimpleNamespace(workers=args.workers, threads=1),
        ),
        log,
    )
    results = []
    try:
        bench_run._wait_for_http(port, "/ky/appeal/", gunicorn, log)
        topics = bench_run._options(bench_run._get(port, "/ky/appeal/")[2], "topic")
        for _n in range(args.workers * 3):
            bench_run._get(port, "/ky/appeal/")
        for where in (None, "primary", "replica"):
            loop = None
            if where is not None:
                loop = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--report-loop",
                        where,
                        "--seconds",
                        str(args.duration + 5),
                    ],
                    cwd=ROOT,
                    env={**os.environ, "INTAKE_ROLLUP": "0"},
                    stdout=subprocess.PIPE,
                    text=True,
                )
                time.sleep(3)  # its start-up, before the load
            load = asyncio.run(
                bench_run._load(
                    port,
                    clients=args.clients,
                    duration=args.duration,
                    form=bench_run._portal_form(topics),
                )
            )
            reports = "-"
            if loop is not None:
                out, _err = loop.communicate(timeout=args.duration + 120)
                reports = json.loads(out.strip().splitlines()[-1])["reports"]
            label = {
                None: "alone",
                "primary": "year report looping on the primary",
                "replica": "year report looping on the standby",
            }[where]
            print(
                f"  {label}: {load['rate']:.1f}/s, p95 {load['p95']} ms, "
                f"errors {load['errors']}, reports done {reports}",
                flush=True,
            )
            results.append((f"submissions/s, {label}", load["rate"], load["p95"]))
    finally:
        bench_run._stop(gunicorn)
    return results


def _print(rows, args) -> None:
    print()
    print(
        f"read replica, {args.appeals:,} appeals over {args.years:g} year(s), "
        f"{os.cpu_count()} cores shared by both clusters, the web and the load"
    )
    width = max(len(row[0]) for row in rows) + 2
    reports = [row for row in rows if not row[0].startswith("submissions")]
    load = [row for row in rows if row[0].startswith("submissions")]
    print(f"{'':<{width}} {'standby':>10} {'primary':>10}")
    for name, on_replica, on_primary in reports:
        print(f"{name:<{width}} {on_replica:>8.1f}ms {on_primary:>8.1f}ms")
    print(f"{'':<{width}} {'req/s':>10} {'p95':>10}")
    for name, rate, p95 in load:
        print(f"{name:<{width}} {rate:>10.1f} {p95:>8.1f}ms")
    alone = load[0][1]
    for name, rate, _p95 in load[1:]:
        print(f"  {name}: {rate / alone * 100:.0f}% of alone")


if __name__ == "__main__":
    sys.exit(main())
