"""Profile `import_appeals` against a benchmark database: where the time goes, phase by
phase, and on the server index by index. Nothing it writes is kept (every write is in
a transaction that is rolled back).

    .venv/bin/python bench/profile_import.py \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_1m --rows 100000

1. writes the register bench/run.py (g) imports (`import_appeals._write_register`,
   seed 2020), parses and validates it, timing wall and this process's CPU;
2. runs `importing.import_rows` in a transaction, timing its phases (the registers'
   numbers, tracking numbers, the appeals' COPY, the events' COPY), then keeps the written rows in temporary tables and rolls back;
3. with `--indexes`, re-inserts those appeal rows with
   `EXPLAIN (ANALYZE, BUFFERS, WAL) INSERT … SELECT` in rolled-back transactions: with
   every index, with none but the primary key, and with each other index alone, so
   each index's cost is read off the difference in time, buffers and WAL (counts that
   do not depend on how loaded the machine is); `--variants` compares GIN pending-list
   settings, `--without a,b` every index against every index but those (foreign keys
   checked at once for the appeals; the events' are left deferred, as their appeals
   are not there).
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


class Rollback(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--indexes", action="store_true", help="cost of each index")
    parser.add_argument(
        "--only", default="", help="comma-separated index names for --indexes"
    )
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated indexes: every index against every index but these",
    )
    parser.add_argument(
        "--variants", action="store_true", help="GIN pending-list settings compared"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/4",
    )
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name or name in ("portal", "postgres"):
        parser.error("--database-url: a benchmark database filled by generate.py")

    from run import _environment

    samples = json.loads((ROOT / "bench" / f"samples-{name}.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="bench-profile-import-"))
    os.environ.update(_environment(args.database_url, samples, work, args.redis_url))
    import django

    django.setup()
    try:
        _profile(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Timer:
    def __init__(self):
        self.phases: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.phases.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    def wrap(self, owner, attribute: str, name: str):
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            with self.phase(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)

    def report(self):
        for name, (wall, cpu) in self.phases.items():
            print(f"  {name:<28} {wall:7.2f} s wall, {cpu:6.2f} s CPU here")


def _profile(args, work: Path) -> None:
    import import_appeals
    from django.db import connection, transaction

    from appeals.intake import importing

    path = work / "register.csv"
    import_appeals._write_register(path, rows=args.rows, seed=2020)
    print(f"{args.rows:,} rows; {_load()}", flush=True)

    timer = Timer()
    with timer.phase("parse + validate"):
        good, errors = importing.validate(list(importing.parse(path)))
    assert not errors, errors[:5]
    timer.wrap(importing, "_numbers", "registers' numbers")
    timer.wrap(importing.codes, "new_tracking_numbers", "tracking numbers")
    timer.wrap(importing._CopyWriter, "appeals", "appeals COPY")
    timer.wrap(importing._CopyWriter, "events", "events COPY")

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM appeals_appeal")
        (before,) = cursor.fetchone()
    staged = {}
    with contextlib.suppress(Rollback), transaction.atomic():
        with timer.phase("import_rows (all)"):
            importing.import_rows(good, source=path.name)
        # The written rows, kept in memory: the temporary tables are made after the
        # rollback (a table made inside it would go with it).
        for table, key in (("appeals_appeal", "id"), ("appeals_event", "appeal_id")):
            staged[table] = _copy_out(
                f"SELECT * FROM {table} WHERE {key} > {int(before)} ORDER BY id"  # noqa: S608
            )
        raise Rollback
    print(f"phases ({_load()}):")
    timer.report()
    if not (args.indexes or args.variants or args.without):
        return
    with connection.cursor() as cursor:
        for table, data in staged.items():
            cursor.execute(
                f"CREATE TEMP TABLE staged_{table.split('_')[1]} "
                f"(LIKE {table} INCLUDING DEFAULTS)"
            )
            with cursor.copy(
                f"COPY staged_{table.split('_')[1]} FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.write(data)
    if args.indexes:
        _index_costs(args)
    if args.variants:
        _gin_variants()
    if args.without:
        _without(set(args.without.split(",")))


def _copy_out(query: str) -> bytes:
    from django.db import connection

    data = bytearray()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy,
    ):
        for block in copy:
            data += block
    return bytes(data)


def _indexes(table: str) -> list[tuple[str, str, str | None]]:
    """(index, definition, constraint name or None) of the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
            "c.conname FROM pg_index i LEFT JOIN pg_constraint c "
            "ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
            "AND c.contype IN ('p', 'u', 'x') "
            "WHERE i.indrelid = %s::regclass ORDER BY 1",
            [table],
        )
        return cursor.fetchall()


def _drop(cursor, table: str, index: str, constraint: str | None) -> None:
    if constraint:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}" CASCADE')
    else:
        cursor.execute(f'DROP INDEX "{index}"')


def _explain_insert(
    keep: set[str] | None,
    *,
    label: str,
    setup: list[str] = (),
    after: list[str] = (),
    table: str = "appeals_appeal",
    staged: str = "staged_appeal",
) -> dict:
    """Insert the staged rows with only the `keep` indexes (None: all), rolled back."""
    from django.db import connection, transaction

    result = {}
    with contextlib.suppress(Rollback), transaction.atomic():
        with connection.cursor() as cursor:
            if keep is not None:
                for index, _definition, constraint in _indexes(table):
                    if index not in keep and not index.endswith("_pkey"):
                        _drop(cursor, table, index, constraint)
            for statement in setup:
                cursor.execute(statement)
            cpu = _backend_cpu(cursor)
            started = time.perf_counter()
            explain = "EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) INSERT INTO "
            cursor.execute(f"{explain}{table} SELECT * FROM {staged} ORDER BY id")  # noqa: S608
            (plan,) = cursor.fetchone()
            for statement in after:
                cursor.execute(statement)
            seconds = time.perf_counter() - started
            cpu = _backend_cpu(cursor) - cpu
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
        top = plan["Plan"]
        triggers = {t["Trigger Name"]: t["Time"] for t in plan.get("Triggers", [])}
        result = {
            "label": label,
            "seconds": seconds,
            "server_cpu": cpu,
            "insert_ms": plan["Execution Time"],
            "wal_mb": top.get("WAL Bytes", 0) / 2**20,
            "fpi": top.get("WAL FPI", 0),
            "hit": top.get("Shared Hit Blocks", 0),
            "read": top.get("Shared Read Blocks", 0),
            "dirtied": top.get("Shared Dirtied Blocks", 0),
            "written": top.get("Shared Written Blocks", 0),
            "trigger_ms": sum(triggers.values()),
        }
        raise Rollback
    print(
        f"  {label:<34} {result['seconds']:7.2f} s  server CPU "
        f"{result['server_cpu']:6.2f} s  WAL {result['wal_mb']:7.1f} MB ({result['fpi']:>6} FPI)  hit "
        f"{result['hit']:>9,} read {result['read']:>7,} dirtied {result['dirtied']:>7,}"
        f"  triggers {result['trigger_ms'] / 1000:5.2f} s",
        flush=True,
    )
    return result


def _backend_cpu(cursor) -> float:
    """CPU seconds (user + system) the server process of this connection has used."""
    cursor.execute("SELECT pg_backend_pid()")
    (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _index_costs(args) -> None:
    from django.db import connection

    indexes = _indexes("appeals_appeal")
    print(f"\nappeals_appeal, {len(indexes)} indexes ({_load()}):")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = "
            "'appeals_appeal'::regclass ORDER BY 2 DESC"
        )
        for index, size in cursor.fetchall():
            print(f"  {index:<40} {size / 2**20:8.1f} MiB")
    only = {name for name in args.only.split(",") if name}
    _explain_insert(None, label="every index")
    _explain_insert(set(), label="primary key only")
    _explain_insert(None, label="every index (again)")
    _explain_insert(set(), label="primary key only (again)")
    for index, _definition, _constraint in indexes:
        if index.endswith("_pkey") or (only and index not in only):
            continue
        _explain_insert({index}, label=index)
    print(f"\nappeals_event ({_load()}):")
    _explain_insert(
        None, label="events, every index", table="appeals_event", staged="staged_event"
    )
    _explain_insert(
        set(),
        label="events, primary key only",
        table="appeals_event",
        staged="staged_event",
    )


def _without(dropped: set[str]) -> None:
    """Every index against every index but `dropped`, foreign keys checked at once."""
    immediate = ["SET CONSTRAINTS ALL IMMEDIATE"]
    print(f"\nwithout {sorted(dropped)}, foreign keys checked ({_load()}):")
    for table, staged in (
        ("appeals_appeal", "staged_appeal"),
        ("appeals_event", "staged_event"),
    ):
        every = {index for index, _d, _c in _indexes(table)}
        for _run in range(2):
            for label, keep in (("every index", every), ("without", every - dropped)):
                _explain_insert(
                    keep,
                    label=f"{table}: {label}",
                    setup=immediate if table == "appeals_appeal" else [],
                    table=table,
                    staged=staged,
                )


def _gin_variants() -> None:
    gin = [
        index
        for index, definition, _c in _indexes("appeals_appeal")
        if " USING gin " in definition
    ]
    clean = [f"SELECT gin_clean_pending_list('{index}'::regclass)" for index in gin]
    print(f"\nGIN indexes {gin}, alone ({_load()}):")
    for limit in ("4MB", "64MB", "256MB"):
        for memory in ("4MB", "256MB"):
            _explain_insert(
                set(gin),
                label=f"pending {limit}, work_mem {memory} + clean",
                setup=[
                    f"SET LOCAL gin_pending_list_limit = '{limit}'",
                    f"SET LOCAL work_mem = '{memory}'",
                    f"SET LOCAL maintenance_work_mem = '{memory}'",
                ],
                after=clean,
            )
    _explain_insert(
        set(gin),
        label="fastupdate off",
        setup=[f"ALTER INDEX {index} SET (fastupdate = off)" for index in gin],
    )


if __name__ == "__main__":
    raise SystemExit(main())
