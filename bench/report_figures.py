"""Benchmark of the intake report's figures: how long `build_intake_report` takes for a
year over the current database, beside a raw GROUP BY over the same rows. Prints
figures; asserts nothing.

It only reads, on whatever DATABASE_URL points at (fill a scratch database first, e.g.
with bench/import_appeals.py --keep). As a soft guard it refuses the database named
"portal" unless --yes:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python bench/report_figures.py --period 2025
    .venv/bin/python bench/report_figures.py --period 2025-Q1 --agency gov-apparatus
    .venv/bin/python bench/report_figures.py --explain      # PostgreSQL's plans too
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARDED_NAME = "portal"

RAW_SQL = (
    "SELECT channel, form, count(*) FROM appeals_appeal "
    "WHERE received_on BETWEEN %s AND %s AND status <> 'submitted' "
    "GROUP BY channel, form"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--period", help="as for intake_report (default: the last full year)"
    )
    parser.add_argument("--agency", metavar="SLUG")
    parser.add_argument("--with-subordinates", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of each report query (PostgreSQL)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help=f'run even on a database named "{GUARDED_NAME}"',
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from portal.periods import parse_period, previous_period
    from reports.selectors import build_intake_report

    name = connection.settings_dict["NAME"]
    if Path(str(name)).stem == GUARDED_NAME and not args.yes:
        print(
            f'refusing to run on the database "{name}": pass --yes if you mean it '
            "(this only reads)",
            file=sys.stderr,
        )
        return 2

    period = parse_period(args.period or str(timezone.localdate().year - 1))
    previous = previous_period(period)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM appeals_appeal")
        (all_rows,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM appeals_appeal WHERE received_on BETWEEN %s AND %s",
            [period.start, period.end],
        )
        (period_rows,) = cursor.fetchone()
    print(f"database: {connection.vendor} {name}")
    print(f"appeals: {all_rows:,} in all, {period_rows:,} received in {period.label}")
    scope = args.agency or "every agency"
    if args.with_subordinates:
        scope += " with subordinates"
    print(f"report: {period.label} beside {previous.label}, {scope}")

    def build():
        return build_intake_report(
            period=period,
            agency_slug=args.agency,
            with_subordinates=args.with_subordinates,
            language="en",
        )

    def raw():
        with connection.cursor() as cursor:
            for p in (period, previous):
                cursor.execute(RAW_SQL, [p.start, p.end])
                cursor.fetchall()

    build()  # warm: the agency, the translations, the buffer cache
    report_times, raw_times = [], []
    for _run in range(max(args.runs, 1)):
        started = time.perf_counter()
        report = build()
        report_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        raw()
        raw_times.append(time.perf_counter() - started)

    def seconds(times: list[float]) -> str:
        return (
            f"best {min(times):.2f} s, median {statistics.median(times):.2f} s "
            f"over {len(times)} runs"
        )

    print(f"build_intake_report: {seconds(report_times)}")
    print(f"raw GROUP BY channel, form (both periods): {seconds(raw_times)}")
    print(
        f"figures: written {report.current.written_total:,} "
        f"(previous {report.previous.written_total:,}), "
        f"oral {report.current.oral_total:,}, "
        f"timeliness {vars(report.current.timeliness)}"
    )

    with CaptureQueriesContext(connection) as queries:
        build()
    print(f"queries of one report: {len(queries.captured_queries)}")
    for query in sorted(
        queries.captured_queries, key=lambda q: float(q["time"]), reverse=True
    ):
        print(f"  {float(query['time']):7.3f} s  {query['sql'][:150]}")

    if args.explain and connection.vendor == "postgresql":
        for query in queries.captured_queries:
            if "appeals_appeal" not in query["sql"]:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print()
                print(query["sql"][:300])
                for (line,) in cursor.fetchall():
                    print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
