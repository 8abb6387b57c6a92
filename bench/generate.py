"""Fill a PostgreSQL database with N appeals at national scale, with COPY, for bench/run.

    .venv/bin/python bench/generate.py --appeals 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_big

It migrates the database first, then adds thirty agencies with staff, a topic
classifier, and `--appeals` appeals spread over `--years` years ending today (the
10-million data set is five years of two million) with their history events, lead
assignments, approved answers, ratings and registration counters. Rows are written
with COPY (psycopg 3 `cursor.copy`), one connection per table at once, with the
tables' secondary indexes and foreign keys dropped during the load and recreated from
their saved definitions afterwards (checked equal to what the migrations made), then
VACUUM ANALYZE. It refuses a database that already holds appeals.

Distributions: written appeals by channel as the chancellery published them for Q1
2020 (../shared/data/kattar-intake-2020q1.json), 8% oral; statuses by age (almost
everything older than three months is closed; about 6% open, with due dates spread
around today so that some are due soon and many overdue); outcomes, kinds, languages
and lead agencies skewed like a real register (one large ministry, a long tail).

Writes a small JSON file (--samples) with tracking number + access code pairs of some
appeals, the head of the largest agency and the secret key the codes were hashed
with: bench/run.py reads it.
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BISHKEK = dt.timezone(dt.timedelta(hours=6))  # no daylight saving since 2005
# Hashes the sample access codes; bench/run.py starts the portal with it.
DEFAULT_SECRET = "bench-only-secret-key-never-used-in-production-0123456789"  # noqa: S105
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LOADED_TABLES = (
    "appeals_appeal",
    "appeals_event",
    "appeals_assignment",
    "appeals_answer",
    "appeals_rating",
)

# Written appeals by channel, Q1 2020 as published (kattar-intake-2020q1.json).
CHANNELS = {
    "president_office": 161,
    "jogorku_kenesh": 187,
    "public_reception": 180,
    "portal": 85,
    "other": 361,
}
DELIVERIES = {
    "post": 50,
    "expedition": 25,
    "courier": 10,
    "field_courier": 10,
    "box": 5,
}
ORAL_SHARE = 0.08
KINDS = {"statement": 60, "complaint": 30, "proposal": 8, "": 2}
LANGUAGES = {"ky": 45, "ru": 52, "en": 3}
OUTCOMES = {
    "explained": 50,
    "supported": 20,
    "not_supported": 20,
    "forwarded": 5,
    "left_without_consideration": 5,
}
ANSWERED = ("supported", "explained", "not_supported")
# Open statuses of an appeal still in work (re-reviews are left out: they need the
# citizen's request rows).
OPEN_MIX = {"registered": 10, "routed": 30, "in_progress": 60}
REVIEW_DAYS = 20  # ~14 working days in calendar days

AGENCIES = [
    # slug, code, kind, name (ky)
    ("bench-health", "MZ", "ministry", "Саламаттыкты сактоо министрлиги"),
    ("bench-labour", "MT", "ministry", "Эмгек, социалдык камсыздоо министрлиги"),
    ("bench-education", "MO", "ministry", "Билим берүү жана илим министрлиги"),
    ("bench-interior", "MVD", "ministry", "Ички иштер министрлиги"),
    ("bench-justice", "MJ", "ministry", "Юстиция министрлиги"),
    ("bench-finance", "MF", "ministry", "Финансы министрлиги"),
    ("bench-economy", "ME", "ministry", "Экономика жана коммерция министрлиги"),
    ("bench-agriculture", "MSH", "ministry", "Айыл чарба министрлиги"),
    (
        "bench-transport",
        "MTK",
        "ministry",
        "Транспорт жана коммуникациялар министрлиги",
    ),
    ("bench-energy", "MEN", "ministry", "Энергетика министрлиги"),
    ("bench-emergency", "MCS", "ministry", "Өзгөчө кырдаалдар министрлиги"),
    ("bench-culture", "MK", "ministry", "Маданият, маалымат министрлиги"),
    ("bench-foreign", "MID", "ministry", "Тышкы иштер министрлиги"),
    ("bench-defence", "MO2", "ministry", "Коргоо министрлиги"),
    ("bench-digital", "MCR", "ministry", "Санариптик өнүктүрүү министрлиги"),
    ("bench-natural", "MPR", "ministry", "Жаратылыш ресурстары министрлиги"),
    ("bench-tax", "GNS", "service", "Мамлекеттик салык кызматы"),
    ("bench-customs", "GTS", "service", "Мамлекеттик бажы кызматы"),
    ("bench-registry", "GRS", "service", "Мамлекеттик каттоо кызматы"),
    ("bench-land", "GKZ", "agency", "Жер ресурстары боюнча агенттик"),
    ("bench-architecture", "GAS", "agency", "Архитектура жана курулуш агенттиги"),
    ("bench-migration", "GSM", "service", "Миграция кызматы"),
    ("bench-penitentiary", "GSIN", "service", "Жазаларды аткаруу кызматы"),
    ("bench-sfund", "SF", "agency", "Социалдык фонд"),
    ("bench-bishkek", "BSH", "mayors_office", "Бишкек шаарынын мэриясы"),
    ("bench-osh", "OSH", "mayors_office", "Ош шаарынын мэриясы"),
    (
        "bench-chui",
        "CHUI",
        "local_administration",
        "Чүй облусунун ыйгарым укуктуу өкүлү",
    ),
    ("bench-issykkul", "IK", "local_administration", "Ысык-Көл облусунун өкүлү"),
    ("bench-jalalabad", "JA", "local_administration", "Жалал-Абад облусунун өкүлү"),
]
TOPICS = [
    ("pensions", "Пенсиялар жана жөлөкпулдар", "bench-sfund"),
    ("social-aid", "Социалдык жардам", "bench-labour"),
    ("employment", "Жумушка орноштуруу", "bench-labour"),
    ("healthcare", "Саламаттыкты сактоо", "bench-health"),
    ("medicines", "Дары-дармек", "bench-health"),
    ("schools", "Мектептер", "bench-education"),
    ("universities", "Жогорку окуу жайлары", "bench-education"),
    ("police", "Укук коргоо органдарынын иши", "bench-interior"),
    ("courts", "Соттордун чечимдерин аткаруу", "bench-justice"),
    ("land", "Жер маселелери", "bench-land"),
    ("housing", "Турак жай", "bench-bishkek"),
    ("utilities", "Коммуналдык кызматтар", "bench-bishkek"),
    ("water", "Суу менен камсыздоо", "bench-natural"),
    ("roads", "Жолдор", "bench-transport"),
    ("public-transport", "Коомдук транспорт", "bench-transport"),
    ("electricity", "Электр энергиясы", "bench-energy"),
    ("taxes", "Салыктар", "bench-tax"),
    ("customs", "Бажы", "bench-customs"),
    ("documents", "Паспорт жана документтер", "bench-registry"),
    ("migration", "Миграция", "bench-migration"),
    ("agriculture", "Айыл чарба", "bench-agriculture"),
    ("business", "Ишкердик", "bench-economy"),
    ("construction", "Курулуш", "bench-architecture"),
    ("emergencies", "Өзгөчө кырдаалдар", "bench-emergency"),
    ("culture", "Маданият", "bench-culture"),
    ("army", "Аскердик кызмат", "bench-defence"),
    ("prisons", "Жазаларды аткаруу", "bench-penitentiary"),
    ("digital", "Санариптик кызматтар", "bench-digital"),
    ("corruption", "Коррупция", None),
    ("other", "Башка маселелер", None),
]
SURNAMES = [
    "Асанов", "Бекова", "Орозбаев", "Токтогулова", "Иванов", "Жумабаева", "Сыдыков",
    "Абдыкадырова", "Мамытов", "Кадырова", "Петрова", "Исаков", "Турдубаева", "Ким",
    "Осмонов", "Чолпонбаева", "Алиев", "Садыкова", "Эсенов", "Рахманова",
]  # fmt: skip
NAMES = [
    "Бакыт", "Айгүл", "Нурлан", "Мария", "Эрлан", "Гүлнара", "Сергей", "Азамат",
    "Жылдыз", "Тимур", "Айпери", "Улан", "Наргиза", "Данияр", "Елена", "Мирлан",
]  # fmt: skip
STREETS = ["Чүй пр.", "Манас пр.", "Токтогул көч.", "Ахунбаев көч.", "Киев көч."]
CITIES = ["Бишкек ш.", "Ош ш.", "Каракол ш.", "Жалал-Абад ш.", "Нарын ш.", "Талас ш."]
SENTENCES = [
    "Биздин көчөдө үч айдан бери жарык жок.",
    "Прошу разобраться с начислением пенсии за прошлый год.",
    "Мектептин чатыры агып жатат, балдар суукта окушат.",
    "Жалоба на бездействие районной администрации по вопросу водоснабжения.",
    "Предлагаю открыть дополнительный маршрут общественного транспорта.",
    "Жер тилкесин каттоо боюнча документтерди алуу мүмкүн эмес.",
    "Прошу оказать материальную помощь многодетной семье.",
    "Айылдагы ФАПта дарыгер жок, жакынкы оорукана 40 км алыс.",
    "Работодатель третий месяц не выплачивает заработную плату.",
    "Көп кабаттуу үйдүн лифти бир жылдан бери иштебейт.",
    "Прошу проверить законность начисления налога на имущество.",
    "Суу түтүгү жарылып, көчө суу астында калды.",
    "I ask to clarify the procedure for obtaining a residence permit.",
    "Прошу ускорить рассмотрение заявления о выдаче паспорта.",
]
FORWARDED_TO = ["Жогорку Сот", "Башкы прокуратура", "Улуттук банк", "Акыйкатчы"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL database to fill (created when missing; never 'portal')",
    )
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--samples", type=Path, default=None)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--chunk", type=int, default=20_000, help="appeals per write")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes generating years in parallel, and connections building the "
        "indexes (default: the number of cores)",
    )
    parser.add_argument(
        "--rollup-triggers",
        action="store_true",
        help="let the intake rollup's triggers fire during the COPY instead of "
        "rebuilding the rollup after it (only to compare the two: appeals and "
        "ratings load in parallel, so the triggers miss ratings of appeals not yet "
        "committed)",
    )
    args = parser.parse_args()
    if not 1 <= args.appeals <= 10_000_000:
        parser.error("--appeals is between 1 and 10,000,000")
    url = args.database_url
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("--database-url must be a PostgreSQL database")
    name = urlsplit(url).path.lstrip("/")
    if name in ("portal", "postgres", ""):
        parser.error(f"refusing to fill the database {name!r}")
    samples = args.samples or ROOT / "bench" / f"samples-{name}.json"

    started = time.monotonic()
    env = _environment(url)
    os.environ.update(env)
    _create_database(url)
    print(f"migrating  {name}", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ},
        check=True,
    )
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM appeals_appeal")
        if cursor.fetchone()[0]:
            sys.exit(f"refusing: {name} already holds appeals (drop it and run again)")
    timings = {"migrate": time.monotonic() - started}

    mark = time.monotonic()
    world = _world(seed=args.seed)
    timings["agencies, staff, topics"] = time.monotonic() - mark

    connection.close()
    mark = time.monotonic()
    schema = _drop_secondary(url)
    timings["drop indexes"] = time.monotonic() - mark

    mark = time.monotonic()
    generator = Generator(
        world=world,
        appeals=args.appeals,
        years=args.years,
        seed=args.seed,
        today=args.today or dt.datetime.now(BISHKEK).date(),
        secret=env["SECRET_KEY"],
    )
    counts = generator.load(
        url,
        chunk=args.chunk,
        progress=not args.no_progress,
        triggers=args.rollup_triggers,
        jobs=args.jobs,
    )
    timings["copy"] = time.monotonic() - mark

    mark = time.monotonic()
    _restore_secondary(url, schema, jobs=args.jobs)
    timings["recreate indexes and keys"] = time.monotonic() - mark

    # The inbox counts are rebuilt either way: appeals and assignments load in
    # parallel, so triggers firing during the COPY would miss assignments of appeals
    # not loaded yet.
    for what in (
        ("inbox counts",) if args.rollup_triggers else ("intake rollup", "inbox counts")
    ):
        mark = time.monotonic()
        _rebuild(url, what)
        timings[what] = time.monotonic() - mark

    mark = time.monotonic()
    _finish(url, generator)
    timings["counters, sequences, vacuum analyze"] = time.monotonic() - mark

    samples.write_text(
        json.dumps(
            {
                "database": name,
                "appeals": args.appeals,
                "today": generator.today.isoformat(),
                "secret_key": env["SECRET_KEY"],
                "largest_agency": world["largest"],
                "head_username": world["heads"][world["largest"]],
                "tracking": generator.samples,
                "counts": counts,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    total = time.monotonic() - started
    print()
    for step, seconds in timings.items():
        print(f"{step:<38} {seconds:8.1f} s")
    print(f"{'total':<38} {total:8.1f} s")
    for table, count in counts.items():
        print(f"{table:<38} {count:>12,}")
    print(f"samples    {samples}")
    return 0


def _environment(url: str) -> dict:
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", DEFAULT_SECRET),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return f"postgresql://{parts.netloc}/postgres"


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )


# --- Agencies, staff, topics (a few hundred rows, through the ORM) -----------------


def _world(*, seed: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from agencies.models import Agency, Membership, Topic

    rng = random.Random(seed)
    ga = Agency.objects.get(code="GA")
    agencies = [ga]
    for slug, code, kind, name in AGENCIES:
        agencies.append(
            Agency.objects.create(
                slug=slug,
                code=code,
                kind=kind,
                name=name,
                name_ky=name,
                name_ru=name,
                name_en=slug.removeprefix("bench-").replace("-", " ").title(),
            )
        )
    by_slug = {agency.slug: agency for agency in agencies}
    topics = []
    for code, name, agency in TOPICS:
        topics.append(
            Topic.objects.create(
                code=code,
                name=name,
                name_ky=name,
                name_ru=name,
                name_en=code.replace("-", " "),
                default_agency=by_slug.get(agency) if agency else None,
            )
        )
    password = make_password("a-long-test-password")
    User = get_user_model()
    roles = {"head": 1, "executor": 6, "clerk": 2}
    staff: dict[int, dict[str, list[int]]] = {}
    heads = {}
    for agency in agencies:
        extra = {"controller": 4, "manager": 1, "clerk": 6} if agency == ga else {}
        staff[agency.pk] = {}
        for role, count in {**roles, **extra}.items():
            users = User.objects.bulk_create(
                [
                    User(
                        username=f"{agency.code.lower()}-{role}-{n}",
                        password=password,
                        first_name=rng.choice(NAMES),
                        last_name=rng.choice(SURNAMES),
                        email=f"{agency.code.lower()}-{role}-{n}@bench.gov.kg",
                    )
                    for n in range(1, count + 1)
                ]
            )
            Membership.objects.bulk_create(
                [Membership(user=user, agency=agency, role=role) for user in users]
            )
            staff[agency.pk][role] = [user.pk for user in users]
        heads[agency.pk] = f"{agency.code.lower()}-head-1"
    # Lead agencies: a few large bodies and a long tail (Zipf-like, s = 0.9); the
    # Government Apparatus registers most, answers few.
    workers = agencies[1:]
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(workers))]
    largest = workers[0].pk
    return {
        "ga": ga.pk,
        "agencies": [a.pk for a in agencies],
        "codes": {a.pk: a.code for a in agencies},
        "slugs": {a.pk: a.slug for a in agencies},
        "workers": [a.pk for a in workers],
        "worker_weights": weights,
        "topics": [(t.pk, t.default_agency_id) for t in topics],
        "staff": staff,
        "heads": {pk: heads[pk] for pk in heads},
        "largest": largest,
        "largest_slug": workers[0].slug,
    }


# --- Secondary indexes and keys: dropped for the load, recreated after ------------


def _schema(connection) -> dict:
    tables = list(LOADED_TABLES)
    indexes = connection.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
               c.relname
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                          AND k.contype IN ('p', 'u') AND k.conrelid = i.indrelid)
        ORDER BY 1
        """,
        [tables],
    ).fetchall()
    constraints = connection.execute(
        """
        SELECT k.conname, c.relname, k.contype, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relname = ANY(%s) AND k.contype IN ('f', 'u')
        ORDER BY 1
        """,
        [tables],
    ).fetchall()
    return {"indexes": indexes, "constraints": constraints}


def _catalog(connection) -> list:
    """Every index and constraint of the loaded tables, to compare before and after."""
    return connection.execute(
        """
        SELECT 'i', c.relname, x.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_class x ON x.oid = i.indexrelid WHERE c.relname = ANY(%s)
        UNION ALL
        SELECT 'c', c.relname, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relname = ANY(%s)
        ORDER BY 1, 2, 3
        """,
        [list(LOADED_TABLES), list(LOADED_TABLES)],
    ).fetchall()


def _normal(catalog: list) -> list:
    """Definitions without casts and brackets: PostgreSQL deparses a recreated partial
    index's `IN (...)` with its casts placed differently, meaning the same."""
    return [
        (*row[:3], re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", row[3])) for row in catalog
    ]


def _drop_secondary(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        schema = _schema(connection)
        schema["catalog"] = _catalog(connection)
        for name, table, _type, _definition in schema["constraints"]:
            connection.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition, _table in schema["indexes"]:
            connection.execute(f"DROP INDEX {name}")
    return schema


def _restore_secondary(url: str, schema: dict, *, jobs: int = 1) -> None:
    import concurrent.futures

    import psycopg

    def session(*, alone: bool = True):
        connection = psycopg.connect(url, autocommit=True)
        connection.execute("SET maintenance_work_mem = '1GB'")
        # Builds in parallel sessions each take a core; a session alone may use
        # parallel workers for its b-trees (GIN builds are never parallel in PG 15).
        workers = 2 if alone or jobs <= 1 else 0
        connection.execute(f"SET max_parallel_maintenance_workers = {workers}")
        return connection

    # Unique constraints first (ALTER TABLE locks its table), then the other indexes
    # in `jobs` sessions at once (CREATE INDEX only takes a SHARE lock), the GIN
    # indexes (the longest builds) first; foreign keys last, one at a time: each key
    # is checked in one pass over the table, not row by row during the load.
    ordered = sorted(schema["constraints"], key=lambda row: row[2] == "f")
    with session() as connection:
        for name, table, kind, definition in ordered:
            if kind == "u":
                print(f"  unique     {name}", flush=True)
                connection.execute(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
    indexes = sorted(schema["indexes"], key=lambda row: " USING gin " not in row[1])
    queue = list(reversed(indexes))

    def build() -> None:
        with session(alone=False) as connection:
            while True:
                try:
                    name, definition, _table = queue.pop()
                except IndexError:
                    return
                mark = time.monotonic()
                connection.execute(definition)
                print(
                    f"  index      {name} ({time.monotonic() - mark:.0f} s)", flush=True
                )

    sessions = max(1, jobs)
    with concurrent.futures.ThreadPoolExecutor(sessions) as pool:
        for future in [pool.submit(build) for _ in range(sessions)]:
            future.result()
    with session() as connection:
        for name, table, kind, definition in ordered:
            if kind == "f":
                print(f"  key        {name}", flush=True)
                connection.execute(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                )
        after = _catalog(connection)
    if _normal(after) != _normal(schema["catalog"]):
        missing = set(_normal(schema["catalog"])) ^ set(_normal(after))
        raise SystemExit(
            f"indexes differ from the migrations' after the load: {missing}"
        )


def _rebuild(url: str, what: str) -> None:
    """A rollup from the loaded rows, in one grouped pass (its triggers were off
    during the COPY, session_replication_role): `what` is "intake rollup"
    (reports.rollup) or "inbox counts" (appeals.casework.inbox_rollup). Timed into
    `timings` by the caller."""
    import psycopg

    from appeals.casework import inbox_rollup
    from reports import rollup

    module = {"intake rollup": rollup, "inbox counts": inbox_rollup}[what]
    print(what, flush=True)
    with psycopg.connect(url) as connection:  # one transaction
        connection.execute(module.rebuild_sql())


def _finish(url: str, generator: "Generator") -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY appeals_registrationcounter (agency_id, year, last_number) FROM STDIN"
            ) as copy,
        ):
            for (agency, year), last in sorted(generator.counters.items()):
                copy.write_row((agency, year, last))
        for table in (*LOADED_TABLES, "appeals_registrationcounter"):
            # Table names are this module's constants, not input.
            query = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"coalesce((SELECT max(id) FROM {table}), 1))"
            )
            connection.execute(query)
        print("vacuum analyze", flush=True)
        for table in (*LOADED_TABLES, "appeals_registrationcounter"):
            connection.execute(f"VACUUM (ANALYZE) {table}")


# --- The appeals ---------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


class Generator:
    def __init__(self, *, world, appeals, years, seed, today, secret):
        self.world = world
        self.total = appeals
        self.today = today
        # Nothing happens after the moment of generation (the last day is today).
        self.now = min(
            dt.datetime.now(BISHKEK),
            dt.datetime.combine(today, dt.time(23, 59), BISHKEK),
        )
        self.seed = seed
        self.rng = random.Random(seed)
        self.secret = secret.encode()
        self.start = today - dt.timedelta(days=max(1, round(years * 365.25)) - 1)
        self.counters: dict[tuple[int, int], int] = {}
        self.samples: list[dict] = []
        self.sample_every = max(1, appeals // 2000)
        self.ids = {"event": 0, "assignment": 0, "answer": 0, "rating": 0}
        self.counts = dict.fromkeys(LOADED_TABLES, 0)
        names = [f"{s} {n}" for s in SURNAMES for n in NAMES]
        self.names = [(name, name.casefold()) for name in names]
        self.channel_pick = self._picker(CHANNELS)
        self.delivery_pick = self._picker(DELIVERIES)
        self.kind_pick = self._picker(KINDS)
        self.language_pick = self._picker(LANGUAGES)
        self.outcome_pick = self._picker(OUTCOMES)
        self.open_pick = self._picker(OPEN_MIX)

    def _picker(self, weights: dict):
        values, w = zip(*weights.items(), strict=True)
        cumulative = list(__import__("itertools").accumulate(w))
        choices = self.rng.choices
        return lambda: choices(values, cum_weights=cumulative)[0]

    def _days(self) -> list[tuple[dt.date, int]]:
        """Appeals per day: fewer at weekends, the remainder spread at random."""
        days, weights = [], []
        day = self.start
        while day <= self.today:
            days.append(day)
            weights.append({5: 0.3, 6: 0.15}.get(day.weekday(), 1.0))
            day += dt.timedelta(days=1)
        total_weight = sum(weights)
        counts = [int(self.total * w / total_weight) for w in weights]
        for index in self.rng.sample(range(len(days)), self.total - sum(counts)):
            counts[index] += 1
        return list(zip(days, counts, strict=True))

    def tracking_number(self, pk: int) -> str:
        # A bijection of the 50-bit space: unique, and says nothing about the order.
        value = (pk * 0x2545F4914F6CD + 0x9E3779B97F4A) % (1 << 50)
        chars = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(10))
        return f"{chars[:5]}-{chars[5:]}"

    def access_code(self, pk: int) -> str:
        digest = hashlib.blake2b(str(pk).encode(), key=self.secret[:64]).digest()
        value = int.from_bytes(digest[:10], "big")
        chars = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(15))
        return f"{chars[:5]}-{chars[5:10]}-{chars[10:]}"

    def code_hash(self, code: str) -> str:
        normal = code.replace("-", "")
        return hmac.new(self.secret, normal.encode(), hashlib.sha256).hexdigest()

    def load(
        self, url: str, *, chunk: int, progress: bool, triggers: bool, jobs: int
    ) -> dict:
        """Write every appeal, a calendar year at a time, in `jobs` processes.

        Years are independent: registration numbers restart each year, and each
        year's ids start at a base computed from its first appeal's id (an appeal has
        at most six events and one assignment, answer and rating), so the same seed
        gives the same rows whatever the number of processes."""
        slices = self._slices()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=self.total, unit=" appeals", unit_scale=True, smoothing=0.1
            )
        options = {"url": url, "chunk": chunk, "triggers": triggers}
        if jobs <= 1:
            results = [
                self._load_slice(index, first, days, report=bar.update if bar else None, **options)
                for index, (first, days) in enumerate(slices)
            ]  # fmt: skip
        else:
            results = self._load_parallel(slices, jobs=jobs, bar=bar, options=options)
        if bar:
            bar.close()
        self.counters, self.samples = {}, []
        self.counts = dict.fromkeys(LOADED_TABLES, 0)
        for counters, samples, counts in results:
            self.counters.update(counters)
            self.samples.extend(samples)
            for table, count in counts.items():
                self.counts[table] += count
        del self.samples[2000:]
        return self.counts

    def _slices(self) -> list[tuple[int, list[tuple[dt.date, int]]]]:
        """(id of the first appeal, [(day, appeals)]) for each calendar year."""
        slices: list[tuple[int, list]] = []
        first = 1
        for day, count in self._days():
            if not slices or slices[-1][1][0][0].year != day.year:
                slices.append((first, []))
            slices[-1][1].append((day, count))
            first += count
        return slices

    def _load_parallel(self, slices, *, jobs: int, bar, options: dict) -> list:
        import concurrent.futures
        import multiprocessing
        import queue

        context = multiprocessing.get_context("fork")
        progress = context.Queue()
        global _FORKED
        _FORKED = (self, progress, options)
        # The largest years first, so that the last one to finish is a small one.
        order = sorted(range(len(slices)), key=lambda i: -len(slices[i][1]))
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = {
                pool.submit(_load_forked, index, *slices[index]): index
                for index in order
            }

            def drain() -> None:
                with contextlib.suppress(queue.Empty):
                    while True:
                        count = progress.get_nowait()
                        if bar:
                            bar.update(count)

            pending = set(futures)
            while pending:
                _done, pending = concurrent.futures.wait(pending, timeout=0.5)
                drain()
            results = {futures[f]: f.result() for f in futures}
        drain()  # what the last processes reported as they finished
        return [results[index] for index in range(len(slices))]

    def _load_slice(self, index, first, days, *, url, chunk, triggers, report) -> tuple:
        import psycopg

        self.rng.seed(self.seed * 1000 + index)
        self.counters, self.samples = {}, []
        self.counts = dict.fromkeys(LOADED_TABLES, 0)
        self.ids = {"event": (first - 1) * 6, "assignment": first - 1,
                    "answer": first - 1, "rating": first - 1}  # fmt: skip
        columns = {
            "appeals_appeal": APPEAL_COLUMNS,
            "appeals_event": ("id", "appeal_id", "type", "actor_id", "at", "data", "is_public"),
            "appeals_assignment": ASSIGNMENT_COLUMNS,
            "appeals_answer": ANSWER_COLUMNS,
            "appeals_rating": RATING_COLUMNS,
        }  # fmt: skip
        with contextlib.ExitStack() as stack:
            copies = {}
            for table, names in columns.items():
                connection = stack.enter_context(psycopg.connect(url))
                connection.execute("SET synchronous_commit = off")
                if not triggers:  # the rollup is rebuilt after the load
                    connection.execute("SET session_replication_role = replica")
                cursor = stack.enter_context(connection.cursor())
                copies[table] = stack.enter_context(
                    cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN")
                )
            buffers = {table: [] for table in columns}
            pk = first - 1
            pending = 0
            for day, count in days:
                for when in sorted(self.rng.random() for _ in range(count)):
                    pk += 1
                    self._appeal(pk, day, when, buffers)
                    pending += 1
                    if pending >= chunk:
                        self._flush(copies, buffers)
                        if report:
                            report(pending)
                        pending = 0
            self._flush(copies, buffers)
            if report:
                report(pending)
        return self.counters, self.samples, self.counts

    def _flush(self, copies, buffers) -> None:
        for table, lines in buffers.items():
            if lines:
                copies[table].write("".join(lines))
                self.counts[table] += len(lines)
                lines.clear()

    def _appeal(self, pk: int, day: dt.date, when: float, out: dict) -> None:
        rng = self.rng
        world = self.world
        age = (self.today - day).days
        form = "written"
        channel = self.channel_pick()
        if rng.random() < ORAL_SHARE:
            form, channel = "oral", "public_reception"
        delivery = self.delivery_pick() if channel == "other" else ""
        # Office hours for paper, any hour for the portal.
        seconds = int(
            (8 * 3600 + when * 10 * 3600) if channel != "portal" else when * 86399
        )
        midnight = dt.datetime.combine(day, dt.time(), BISHKEK)
        if day == self.today:  # today's appeals so far, in order
            seconds = int(when * (self.now - midnight).total_seconds())
        received = midnight + dt.timedelta(seconds=seconds)
        # Status by age: the recent are open, almost all older ones are closed.
        if age <= 20:
            open_share = 0.97
        elif age <= 90:
            open_share = 0.45
        elif age <= 365:
            open_share = 0.12
        else:
            open_share = 0.01
        if channel == "portal" and age <= 1 and rng.random() < 0.4:
            status = "submitted"
        elif rng.random() < open_share:
            status = self.open_pick()
        else:
            status = "closed"
        topic_id, default_agency = rng.choice(world["topics"])
        if default_agency and rng.random() < 0.7:
            lead = default_agency
        else:
            lead = rng.choices(world["workers"], world["worker_weights"])[0]
        registering = world["ga"] if rng.random() < 0.6 else lead
        name, name_key = rng.choice(self.names)
        language = self.language_pick()
        kind = self.kind_pick()
        outcome = ""
        registration_number = registered_at = registered_by = due_on = None
        closed_at = lead_agency = escalated_for = None
        if status != "submitted":
            year = day.year
            key = (registering, year)
            sequence = self.counters.get(key, 0) + 1
            self.counters[key] = sequence
            registration_number = f"{world['codes'][registering]}-{year}-{sequence:06d}"
            registered_at = min(
                received + dt.timedelta(hours=rng.uniform(0.5, 30)), self.now
            )
            registered_by = rng.choice(world["staff"][registering]["clerk"])
            due_on = registered_at.date() + dt.timedelta(days=REVIEW_DAYS)
        if status == "closed":
            outcome = self.outcome_pick()
            late = rng.random() < 0.12
            days = (
                rng.uniform(REVIEW_DAYS, REVIEW_DAYS + 25)
                if late
                else rng.uniform(2, REVIEW_DAYS - 0.5)
            )
            if outcome == "left_without_consideration":
                days = rng.uniform(0.5, 3)
            closed_at = registered_at + dt.timedelta(days=days)
            if closed_at > self.now:
                closed_at = registered_at + (self.now - registered_at) / 2
        if status in ("routed", "in_progress") or (
            status == "closed" and outcome != "left_without_consideration"
        ):
            lead_agency = lead
        if status in (
            "registered",
            "routed",
            "in_progress",
        ) and due_on < self.today - dt.timedelta(days=1):
            escalated_for = due_on  # earlier days' sweeps flagged it already
        tracking = self.tracking_number(pk)
        if pk % self.sample_every == 0 and len(self.samples) < 2000:
            code = self.access_code(pk)
            code_hash = self.code_hash(code)
            self.samples.append({"tracking_number": tracking, "access_code": code})
        else:
            code_hash = f"{rng.getrandbits(256):064x}"
        portal = channel == "portal"
        addressee = (lead if rng.random() < 0.7 else None) if portal else None
        collective = rng.random() < 0.03
        text = " ".join(rng.choices(SENTENCES, k=rng.randint(1, 4)))
        cover_number = cover_date = None
        if channel in ("president_office", "jogorku_kenesh"):
            cover_number = f"{rng.randint(1, 30):02d}-{rng.randint(1, 999)}"
            cover_date = day - dt.timedelta(days=rng.randint(1, 7))
        extended = status != "submitted" and rng.random() < 0.03
        forwarded_to = rng.choice(FORWARDED_TO) if outcome == "forwarded" else ""
        operator, number = rng.randint(500, 779), rng.randint(0, 999999)
        phone = f"+996 {operator} {number:06d}"
        ts = received.isoformat()
        n = "\\N"
        row = (
            pk,
            ts,
            ts,
            tracking,
            code_hash,
            uuid.UUID(int=rng.getrandbits(128), version=4) if portal else n,
            registration_number or n,
            registering if registration_number else n,
            registered_at.isoformat() if registered_at else n,
            registered_by or n,
            channel,
            delivery,
            form,
            kind,
            status,
            outcome,
            "" if outcome != "left_without_consideration" else "анонимное обращение",
            ts,
            day.isoformat(),
            "",
            cover_number or "",
            cover_date.isoformat() if cover_date else n,
            rng.choice(world["staff"][world["ga"]]["clerk"]) if form == "oral" else n,
            name,
            f"{rng.choice(CITIES)}, {rng.choice(STREETS)} {rng.randint(1, 200)}",
            phone,
            f"citizen{pk}@mail.kg" if rng.random() < 0.6 else "",
            name_key,
            f"{operator}{number:06d}",
            "t" if collective else "f",
            rng.randint(2, 60) if collective else 1,
            ts if portal else n,
            addressee or n,
            topic_id,
            text,
            language,
            lead_agency or n,
            n,
            n,
            "f",
            closed_at.isoformat() if closed_at else n,
            registered_at.isoformat() if extended else n,
            "Кошумча текшерүү керек" if extended else "",
            due_on.isoformat() if due_on else n,
            escalated_for.isoformat() if escalated_for else n,
            forwarded_to,
            "",
            "[]",  # no flags (issue 29's hints to clerks)
            "",  # no inadmissibility ground
        )
        out["appeals_appeal"].append("\t".join(map(str, row)) + "\n")
        self._history(pk, status, outcome, received, registered_at, registered_by,
                      closed_at, lead_agency, registration_number, portal, out)  # fmt: skip

    def _event(self, out, pk, type_, actor, at, data, public) -> None:
        self.ids["event"] += 1
        actor = actor or "\\N"
        line = f"{self.ids['event']}\t{pk}\t{type_}\t{actor}\t{at.isoformat()}\t{data}\t{public}\n"
        out["appeals_event"].append(line)

    def _history(self, pk, status, outcome, received, registered_at, clerk, closed_at,
                 lead, number, portal, out) -> None:  # fmt: skip
        rng = self.rng
        staff = self.world["staff"]
        if portal:
            self._event(out, pk, "submitted", None, received, "{}", "t")
        if number is None:
            return
        self._event(
            out, pk, "registered", clerk, registered_at,
            json.dumps({"registration_number": number}), "t",
        )  # fmt: skip
        if outcome == "left_without_consideration":
            self._event(out, pk, "left_without_consideration", clerk, closed_at,
                        '{"reason": "анонимное обращение"}', "t")  # fmt: skip
            return
        if lead is None:
            return
        controller = rng.choice(staff[self.world["ga"]]["controller"])
        routed_at = registered_at + dt.timedelta(hours=rng.uniform(1, 24))
        if closed_at is not None:
            routed_at = min(routed_at, registered_at + (closed_at - registered_at) / 4)
        routed_at = min(routed_at, self.now)
        self._event(
            out, pk, "routed", controller, routed_at,
            f'{{"agency_id": {lead}, "co_executor_ids": [], "cover_note": ""}}', "t",
        )  # fmt: skip
        executor = None
        head = staff[lead]["head"][0]
        if status in ("in_progress", "closed"):
            executor = rng.choice(staff[lead]["executor"])
            self._event(
                out, pk, "assigned", head,
                min(routed_at + dt.timedelta(hours=4), closed_at or self.now, self.now),
                f'{{"agency_id": {lead}, "executor_id": {executor}}}', "f",
            )  # fmt: skip
        self.ids["assignment"] += 1
        at = routed_at.isoformat()
        out["appeals_assignment"].append(
            f"{self.ids['assignment']}\t{at}\t{at}\t{pk}\t{lead}\tlead\t\t{controller}"
            f"\t{executor or chr(92) + 'N'}\tt\t\\N\n"
        )
        if status != "closed":
            return
        if outcome == "forwarded":
            self._event(out, pk, "forwarded", controller, closed_at,
                        '{"body": "Жогорку Сот"}', "t")  # fmt: skip
            return
        self.ids["answer"] += 1
        answer = self.ids["answer"]
        submitted = max(closed_at - dt.timedelta(hours=rng.uniform(2, 48)), routed_at)
        self._event(out, pk, "answer_submitted", executor, submitted, "{}", "f")
        closed = closed_at.isoformat()
        out["appeals_answer"].append(
            f"{answer}\t{submitted.isoformat()}\t{closed}\t{pk}\t{lead}\t{executor}\t"
            f"Сиздин кайрылууңуз каралды. Маселе мыйзамга ылайык чечилди.\t{outcome}"
            f"\tapproved\t\t{head}\t{closed}\t\n"
        )
        self._event(
            out, pk, "answered", head, closed_at,
            f'{{"answer_id": {answer}, "outcome": "{outcome}"}}', "t",
        )  # fmt: skip
        if rng.random() < 0.08:
            self.ids["rating"] += 1
            rated = closed_at + dt.timedelta(days=rng.uniform(0.1, 10))
            score = rng.choices((1, 2, 3, 4, 5), (10, 8, 15, 30, 37))[0]
            out["appeals_rating"].append(
                f"{self.ids['rating']}\t{answer}\t{pk}\t{score}\t"
                f"{'t' if score >= 3 else 'f'}\t\t{rated.isoformat()}\n"
            )


# What a forked loader inherits: the generator, the progress queue, the options.
_FORKED: tuple = ()


def _load_forked(index: int, first: int, days: list) -> tuple:
    generator, progress, options = _FORKED
    return generator._load_slice(index, first, days, report=progress.put, **options)


APPEAL_COLUMNS = (
    "id", "created_at", "updated_at", "tracking_number", "access_code_hash",
    "submission_key", "registration_number", "registering_agency_id", "registered_at",
    "registered_by_id", "channel", "delivery", "form", "kind", "status", "outcome",
    "outcome_reason", "received_at", "received_on", "backdate_reason",
    "cover_letter_number", "cover_letter_date", "received_by_id", "applicant_name",
    "applicant_address", "applicant_phone", "applicant_email", "applicant_name_key",
    "applicant_phone_key", "is_collective", "signatories", "consent_at",
    "addressee_id", "topic_id", "text", "language", "lead_agency_id", "repeat_of_id",
    "mass_lead_id", "is_imported", "closed_at", "extended_at", "extension_reason",
    "due_on", "escalated_for", "forwarded_to", "forwarding_letter_number",
    "flags", "inadmissibility_ground",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "created_at", "updated_at", "appeal_id", "agency_id", "role", "cover_note",
    "routed_by_id", "executor_id", "is_active", "ended_at",
)  # fmt: skip
ANSWER_COLUMNS = (
    "id", "created_at", "updated_at", "appeal_id", "agency_id", "author_id", "text",
    "outcome", "state", "review_comment", "approved_by_id", "approved_at", "letter",
)  # fmt: skip
RATING_COLUMNS = (
    "id", "answer_id", "appeal_id", "score", "addressed", "comment", "created_at",
)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
