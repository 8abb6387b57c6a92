"""Benchmark of `manage.py import_appeals`: generate an old register, import it, print
rows, seconds, rows/s and peak memory. Prints figures; asserts nothing.

It only ever runs on a scratch database it creates itself (and drops at the end unless
--keep), never on one that holds data:

    .venv/bin/python bench/import_appeals.py                      # 100,000 rows, PostgreSQL
    .venv/bin/python bench/import_appeals.py --rows 20000 --keep
    .venv/bin/python bench/import_appeals.py --allow-sqlite \\
        --database-url sqlite:////tmp/portal-bench.sqlite3
"""

import argparse
import csv
import datetime as dt
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"

# Written appeals by channel as the chancellery published them for Q1 2020
# (../shared/data/kattar-intake-2020q1.json): the shape of a real register.
CHANNEL_MIX = {
    "president_office": 161,
    "jogorku_kenesh": 187,
    "public_reception": 180,
    "portal": 85,
    "other": 361,
}
DELIVERY_MIX = {
    "post": 50,
    "expedition": 25,
    "courier": 10,
    "field_courier": 10,
    "box": 5,
}
KIND_MIX = {"statement": 60, "complaint": 30, "proposal": 8, "": 2}
ORAL_SHARE = 0.08  # oral appeals heard at personal receptions, counted apart
KEPT_NUMBER_SHARE = 0.3  # rows whose old register number is kept
AGENCIES = [
    ("gov-apparatus", "GA", None),  # exists on every database (data migration)
    ("bench-health", "BMZ", "Саламаттыкты сактоо министрлиги"),
    ("bench-education", "BMO", "Билим берүү жана илим министрлиги"),
    ("bench-bishkek", "BBM", "Бишкек шаарынын мэриясы"),
]
SURNAMES = ["Асанов", "Бекова", "Орозбаев", "Токтогулова", "Иванов", "Жумабаева"]
NAMES = ["Бакыт", "Айгүл", "Нурлан", "Мария", "Эрлан", "Гүлнара", "Сергей"]
SENTENCES = [
    "Биздин көчөдө үч айдан бери жарык жок.",
    "Прошу разобраться с начислением пенсии за 2018 год.",
    "Мектептин чатыры агып жатат, балдар суукта окушат.",
    "Жалоба на бездействие районной администрации по вопросу водоснабжения.",
    "Предлагаю открыть дополнительный маршрут общественного транспорта.",
    "Жер тилкесин каттоо боюнча документтерди алуу мүмкүн эмес.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="a scratch database that must not exist yet: it is created, migrated "
        f"and dropped at the end (default {DEFAULT_URL})",
    )
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--text-sentences",
        default="0-3",
        metavar="MIN-MAX",
        help="sentences of text per row (default 0-3: an old register keeps a short "
        "summary, ~100 characters; try 2-12 for full letters, ~450)",
    )
    args = parser.parse_args()

    url = args.database_url
    scheme = urlsplit(url).scheme
    postgres = scheme in ("postgres", "postgresql", "pgsql")
    if not postgres and not (scheme == "sqlite" and args.allow_sqlite):
        parser.error("the benchmark runs on PostgreSQL (or SQLite with --allow-sqlite)")

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        # As production runs the command: DEBUG off (no query log kept in memory).
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAR_DIR": str(work / "var"),
    }
    created = False
    try:
        created = _create_database(url, postgres)
        print(f"database   {_safe(url)} (scratch, created)")
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "shell", "--no-imports", "-c", _agencies_code())

        path = work / "register.csv"
        started = time.monotonic()
        low, high = (int(n) for n in args.text_sentences.split("-"))
        _write_register(path, rows=args.rows, seed=args.seed, sentences=(low, high))
        print(
            f"generated  {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB "
            f"in {time.monotonic() - started:.1f} s"
        )

        log = work / "import.log"
        with log.open("w") as output:
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "manage.py", "import_appeals", str(path), "-v", "2"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            # wait4 gives this one process's peak RSS (ru_maxrss, KiB on Linux).
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.monotonic() - started
        returncode = process.returncode = os.waitstatus_to_exitcode(status)
        peak_kib = usage.ru_maxrss
        for line in log.read_text().splitlines():
            print(f"  | {line}")
        print(f"exit code  {returncode}")
        print(f"rows       {args.rows:,}")
        print(f"seconds    {seconds:.1f} (whole command, Django start-up included)")
        print(f"rows/s     {args.rows / seconds:,.0f}")
        print(f"peak RSS   {peak_kib / 1024:.0f} MiB")
        if returncode == 0:
            _manage(env, "shell", "--no-imports", "-c", _count_code())
        return returncode
    finally:
        if created and not args.keep:
            _drop_database(url, postgres)
            print("database   dropped")
        elif created:
            print(f"database   kept: {_safe(url)}")
        shutil.rmtree(work, ignore_errors=True)


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _agencies_code() -> str:
    rows = [(slug, code, name) for slug, code, name in AGENCIES if name]
    return (
        "from agencies.models import Agency\n"
        f"for slug, code, name in {rows!r}:\n"
        "    Agency.objects.get_or_create(slug=slug, defaults=dict(code=code, "
        "name=name, name_ky=name, name_ru=name, name_en=name))\n"
    )


def _count_code() -> str:
    return (
        "from appeals.models import Appeal, Event\n"
        "print('in the db  ', Appeal.objects.filter(is_imported=True).count(), "
        "'appeals,', Event.objects.filter(type='imported').count(), 'events')\n"
    )


def _write_register(
    path: Path, *, rows: int, seed: int, sentences: tuple[int, int] = (0, 3)
) -> None:
    rng = random.Random(seed)
    channels, channel_weights = zip(*CHANNEL_MIX.items(), strict=True)
    deliveries, delivery_weights = zip(*DELIVERY_MIX.items(), strict=True)
    kinds, kind_weights = zip(*KIND_MIX.items(), strict=True)
    start = dt.date(2017, 1, 1)
    span = (dt.date(2020, 12, 31) - start).days
    kept: dict[tuple[str, int], int] = {}
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(
            [
                "registration_number",
                "received_on",
                "channel",
                "delivery",
                "form",
                "agency",
                "kind",
                "applicant",
                "text",
            ]
        )
        for _n in range(rows):
            received_on = start + dt.timedelta(days=rng.randrange(span))
            channel = rng.choices(channels, channel_weights)[0]
            slug, code, _name = rng.choice(AGENCIES)
            number = ""
            if rng.random() < KEPT_NUMBER_SHARE:
                key = (code, received_on.year)
                kept[key] = kept.get(key, 0) + rng.randint(1, 3)  # old registers skip
                number = f"{code}-{received_on.year}-{kept[key]:06d}"
            writer.writerow(
                [
                    number,
                    received_on.isoformat(),
                    channel,
                    rng.choices(deliveries, delivery_weights)[0]
                    if channel == "other"
                    else "",
                    "oral" if rng.random() < ORAL_SHARE else "written",
                    slug,
                    rng.choices(kinds, kind_weights)[0],
                    f"{rng.choice(SURNAMES)} {rng.choice(NAMES)}",
                    " ".join(rng.choices(SENTENCES, k=rng.randint(*sentences))),
                ]
            )


def _create_database(url: str, postgres: bool) -> bool:
    if not postgres:
        path = Path(urlsplit(url).path)
        if path.exists():
            sys.exit(f"refusing: {path} exists; the benchmark needs a new scratch file")
        return True
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists:
            sys.exit(
                f"refusing: database {name!r} exists; the benchmark only runs on a "
                "scratch database it creates (drop it, or pick another name)"
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def _drop_database(url: str, postgres: bool) -> None:
    if not postgres:
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        )


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, "/postgres", parts.query, ""))


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]  # no password in the output
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


if __name__ == "__main__":
    sys.exit(main())
