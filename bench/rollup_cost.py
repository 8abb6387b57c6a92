"""What the intake rollup's triggers add to a write: registrations of paper appeals and
an import_appeals (COPY) of N rows, with the triggers on and off, in a database filled
by generate.py. Everything happens in one transaction that is rolled back, so the data
set stays as generated (no commit: the WAL flush is not in these figures).

    .venv/bin/python bench/rollup_cost.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rollup_bench

Prints, per variant, the median wall time and this process's CPU time of one
registration, the import's wall time, and the time PostgreSQL spent inside the
trigger functions (pg_stat_user_functions, track_functions = pl). Rounds alternate
on / off so that the machine's load affects both alike.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--registrations", type=int, default=40, help="per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--import-rows", type=int, default=20_000)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    import io

    import import_appeals as import_bench
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from agencies.models import Agency, Membership
    from appeals.intake import registration

    apparatus = Agency.objects.get(slug="gov-apparatus")
    clerk = Membership.objects.filter(agency=apparatus, role="clerk").first().user

    def switch(on: bool) -> None:
        with connection.cursor() as cursor:
            for event in ("insert", "update", "delete"):
                cursor.execute(
                    f"ALTER TABLE appeals_appeal {'ENABLE' if on else 'DISABLE'} "
                    f"TRIGGER reports_intake_appeal_{event}"
                )

    def trigger_ms() -> float:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(total_time), 0) FROM pg_stat_xact_user_functions "
                "WHERE funcname LIKE 'reports_intake_%%'"
            )
            return float(cursor.fetchone()[0])

    def register() -> None:
        registration.register_paper_appeal(
            actor=clerk,
            agency=apparatus,
            channel="president_office",
            delivery="",
            form="written",
            kind="complaint",
            applicant_name="Асанов Бакыт",
            applicant_phone="+996 555 123 456",
            text="Биздин көчөдө үч айдан бери жарык жок.",
            language="ky",
            received_at=timezone.now(),
        )

    results = {
        on: {"wall": [], "cpu": [], "trigger": 0.0, "n": 0} for on in (True, False)
    }
    imports = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        register_file = Path(folder) / "register.csv"
        import_bench._write_register(register_file, rows=args.import_rows, seed=2020)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL track_functions = 'pl'")
                # No deferred key checks left pending: ALTER TABLE refuses them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            exec(import_bench._agencies_code())  # noqa: S102 - the bench's own code
            for _round in range(args.rounds):
                for on in (True, False):
                    switch(on)
                    figures = results[on]
                    before = trigger_ms()
                    for _n in range(args.registrations):
                        wall, cpu = time.perf_counter(), time.process_time()
                        register()
                        figures["wall"].append(time.perf_counter() - wall)
                        figures["cpu"].append(time.process_time() - cpu)
                    figures["trigger"] += trigger_ms() - before
                    figures["n"] += args.registrations
            for on in (True, False, True, False):
                switch(on)
                before = trigger_ms()
                started = time.perf_counter()
                with transaction.atomic():
                    call_command(
                        "import_appeals", str(register_file), stdout=io.StringIO()
                    )
                    transaction.set_rollback(True)
                imports[on].append(
                    (time.perf_counter() - started, trigger_ms() - before)
                )
            transaction.set_rollback(True)
    print(f"load average {os.getloadavg()}")
    for on in (True, False):
        figures = results[on]
        print(
            f"registration, triggers {'on ' if on else 'off'}: "
            f"wall median {statistics.median(figures['wall']) * 1000:7.1f} ms, "
            f"CPU median {statistics.median(figures['cpu']) * 1000:6.1f} ms, "
            f"in trigger functions {figures['trigger'] / figures['n']:6.2f} ms "
            f"({figures['n']} registrations)"
        )
    for on in (True, False):
        for wall, trigger in imports[on]:
            print(
                f"import of {args.import_rows:,} rows, triggers "
                f"{'on ' if on else 'off'}: {wall:6.1f} s, "
                f"in trigger functions {trigger / 1000:5.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
