"""The intake rollup (reports.rollup): whatever the services, the import, a bulk update
or a deletion did to the appeals, the report read from the rollup is the report counted
live; compaction keeps the sums; the check finds a planted difference; concurrent
writers neither wait for each other nor lose a count."""

import datetime as dt
import io
import random
import threading
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import translation

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.deadlines.calendar import BISHKEK
from appeals.intake import filing, registration
from appeals.models import Appeal, Channel, Form, Kind, Rating, ReReview, Status
from appeals.privacy import retention
from portal.periods import Period, parse_period
from reports import rollup
from reports.models import IntakeCount
from reports.selectors import build_intake_report, intake_by_channel
from tests.factories import AgencyFactory, TopicFactory, staff_member
from tests.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ANSWER = "Проверка проведена: освещение улицы восстановлено, столбы заменены."
CHANNELS = [c.value for c in Channel]
KINDS = ["", Kind.PROPOSAL, Kind.STATEMENT, Kind.COMPLAINT]
NOW = dt.datetime(2025, 5, 20, 10, tzinfo=BISHKEK)
PERIODS = [
    parse_period("2025-Q1"),
    parse_period("2025-H1"),
    parse_period("2025-02-01..2025-02-28"),  # one whole month
    parse_period("2025-01-15..2025-03-10"),  # partial months at both ends
    parse_period("2025-01-01..2025-04-17"),  # a partial month at the end only
    parse_period("2025-02-10..2025-02-20"),  # no whole month
]


@pytest.fixture
def world():
    apparatus = Agency.objects.get(slug="gov-apparatus")
    health = AgencyFactory(slug="min-health", code="MZ", name_en="Ministry of Health")
    branch = AgencyFactory(slug="health-osh", code="MZO", parent=health)
    labour = AgencyFactory(slug="min-labour", code="MT", name_en="Ministry of Labour")
    return {
        "apparatus": apparatus,
        "health": health,
        "branch": branch,
        "labour": labour,
        "topics": [None, TopicFactory(), TopicFactory()],
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "branch_clerk": staff_member("clerk", branch),
        "health_head": staff_member("head", health),
        "health_executor": staff_member("executor", health),
        "labour_head": staff_member("head", labour),
        "labour_executor": staff_member("executor", labour),
    }


def _day(rng: random.Random) -> dt.date:
    """A day in January..April of 2025 or of 2024 (the year before's figures)."""
    year = rng.choice([2024, 2025, 2025, 2025])
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(120))


def _register(w, rng, clock, *, own: bool | None = None, day=None) -> Appeal:
    """A clerk of the Government Apparatus, or (own) of the health branch, registers
    a paper appeal received on `day` (random by default)."""
    day = day or _day(rng)
    channel = rng.choice(CHANNELS)
    own = rng.random() < 0.3 if own is None else own
    clock(at(day))
    appeal, _code = registration.register_paper_appeal(
        actor=w["branch_clerk"] if own else w["clerk"],
        agency=w["branch"] if own else w["apparatus"],
        channel=channel,
        form=rng.choice([Form.WRITTEN, Form.WRITTEN, Form.ORAL]),
        kind=rng.choice(KINDS),
        topic=rng.choice(w["topics"]),
        delivery="post" if channel == Channel.OTHER else "",
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө үч айдан бери жарык жок.",
        language="ky",
        received_at=at(day),
    )
    return appeal


def _submit_and_register(w, rng, clock) -> Appeal:
    day = _day(rng)
    clock(at(day, 9))
    appeal = filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Жаныл Секретова",
        applicant_email="janyl@example.kg",
        text="Биздин айылда суу жок.",
        language="ky",
        kind=rng.choice(KINDS[1:]),
        topic=rng.choice(w["topics"]),
        received_at=at(day, 9),
    ).appeal
    if rng.random() < 0.8:  # some stay submitted: never counted
        clock(at(day, 11))
        registration.register_appeal(
            appeal_id=appeal.pk, actor=w["clerk"], agency=w["apparatus"]
        )
    return appeal


def _later(appeal: Appeal, rng: random.Random) -> dt.datetime:
    """A moment after everything that happened to the appeal so far."""
    appeal.refresh_from_db()
    start = max(appeal.received_at, appeal.closed_at or appeal.received_at)
    return start + dt.timedelta(days=rng.choice([1, 3, 10, 25, 40]))


def _step(w, rng, clock, appeals: list[Appeal]) -> None:
    """One random real action on one random appeal (or a new one)."""
    action = rng.choice(
        ["register", "submit", "route", "route", "answer", "answer", "return"]
        + ["leave", "forward", "rate", "re_review", "bulk", "delete"]
    )
    if action == "register" or not appeals:
        appeals.append(_register(w, rng, clock))
        return
    if action == "submit":
        appeals.append(_submit_and_register(w, rng, clock))
        return
    appeal = rng.choice(appeals)
    if action in ("rate", "re_review"):  # the answered ones, when there are
        answered = Appeal.objects.filter(
            pk__in=[a.pk for a in appeals],
            status=Status.CLOSED,
            outcome__in=["supported", "explained", "not_supported"],
        ).order_by("pk")
        appeal = rng.choice(list(answered) or [appeal])
    appeal.refresh_from_db()
    lead_name = rng.choice(["health", "labour"])
    clock(_later(appeal, rng))
    if action == "route":
        routing.route_appeal(
            appeal_id=appeal.pk, actor=w["controller"], lead=w[lead_name]
        )
        if rng.random() < 0.7:
            routing.assign_executor(
                appeal_id=appeal.pk,
                actor=w[f"{lead_name}_head"],
                executor=w[f"{lead_name}_executor"],
            )
    elif action == "answer":
        if appeal.status in (Status.REGISTERED, Status.RE_REVIEW):
            routing.route_appeal(
                appeal_id=appeal.pk, actor=w["controller"], lead=w[lead_name]
            )
            appeal.refresh_from_db()
        lead = "health" if appeal.lead_agency_id == w["health"].pk else "labour"
        if appeal.status == Status.ROUTED:
            routing.assign_executor(
                appeal_id=appeal.pk,
                actor=w[f"{lead}_head"],
                executor=w[f"{lead}_executor"],
            )
        answering.save_answer_draft(
            appeal_id=appeal.pk,
            actor=w[f"{lead}_executor"],
            text=ANSWER,
            outcome=rng.choice(["supported", "explained", "not_supported"]),
            submit=True,
        )
        answering.approve_answer(appeal_id=appeal.pk, actor=w[f"{lead}_head"])
    elif action == "return":
        lead = "health" if appeal.lead_agency_id == w["health"].pk else "labour"
        routing.return_appeal(
            appeal_id=appeal.pk, actor=w[f"{lead}_head"], reason="Не наша компетенция."
        )
    elif action == "leave":
        registration.leave_without_consideration(
            appeal_id=appeal.pk,
            actor=w["clerk"],
            ground="no_name_or_address",
            reason="Нет адреса заявителя.",
        )
    elif action == "forward":
        routing.forward_appeal(
            appeal_id=appeal.pk,
            actor=w["controller"],
            body="Генеральная прокуратура",
            letter_number="12-345",
        )
    elif action == "rate":
        clock(appeal.closed_at + dt.timedelta(days=1) if appeal.closed_at else NOW)
        answering.rate_answer(
            appeal_id=appeal.pk, score=rng.randint(1, 5), addressed=rng.random() < 0.5
        )
    elif action == "re_review":
        clock(appeal.closed_at + dt.timedelta(days=2) if appeal.closed_at else NOW)
        answering.request_re_review(
            appeal_id=appeal.pk, reason="Ответ не отвечает на мой вопрос по существу."
        )
    elif action == "bulk":
        # A bulk UPDATE of many rows at once, as an administrator's fix would do.
        Appeal.objects.filter(pk__in=[a.pk for a in appeals[::3]]).update(
            kind=rng.choice(KINDS), topic=rng.choice(w["topics"])
        )
    elif action == "delete":
        appeals.remove(appeal)
        appeal.delete()


def _import(w, tmp_path, rng) -> None:
    """import_appeals of a small old register (COPY on PostgreSQL)."""
    header = "received_on;channel;delivery;form;agency;kind;applicant;text"
    lines = [header]
    for n in range(30):
        channel = rng.choice(CHANNELS)
        lines.append(
            ";".join(
                [
                    _day(rng).isoformat(),
                    channel,
                    "post" if channel == Channel.OTHER else "",
                    rng.choice(["written", "oral"]),
                    rng.choice(["gov-apparatus", "min-health"]),
                    rng.choice(KINDS),
                    f"Заявитель {n}",
                    "Архивная запись.",
                ]
            )
        )
    path = tmp_path / "register.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_appeals", str(path), stdout=io.StringIO())


def _live_and_rolled_up(settings, **kwargs) -> tuple[dict, dict]:
    kwargs.setdefault("language", "en")
    kwargs.setdefault("now", NOW)
    settings.INTAKE_ROLLUP = False
    live = build_intake_report(**kwargs).as_json()
    settings.INTAKE_ROLLUP = True
    return live, build_intake_report(**kwargs).as_json()


def _assert_reports_equal(settings) -> None:
    for period in PERIODS:
        for scope in (
            {},
            {"agency_slug": "min-health"},
            {"agency_slug": "min-health", "with_subordinates": True},
            {"agency_slug": "gov-apparatus"},
        ):
            live, rolled_up = _live_and_rolled_up(settings, period=period, **scope)
            assert rolled_up == live, (period.label, scope)
        settings.INTAKE_ROLLUP = False
        live = intake_by_channel(start=period.start, end=period.end)
        settings.INTAKE_ROLLUP = True
        assert intake_by_channel(start=period.start, end=period.end) == live


@pytest.mark.parametrize("seed", [1, 2])
def test_report_from_the_rollup_equals_the_live_count_after_random_real_writes(
    world, clock, settings, tmp_path, seed
):
    rng = random.Random(seed)
    appeals: list[Appeal] = []
    for n in range(70):
        try:
            with transaction.atomic():
                _step(world, rng, clock, appeals)
        except (ValidationError, PermissionDenied, ProtectedError):
            pass  # not allowed in the appeal's state: the services refused it
        if n == 35:
            clock(NOW)
            _import(world, tmp_path, rng)
    # The retention sweep rewrites closed appeals in bulk (no key column changes).
    removed = retention.remove_expired_personal_data(
        older_than_days=1, now=NOW + dt.timedelta(days=400)
    )

    assert removed.appeals > 0
    assert Rating.objects.exists()
    assert ReReview.objects.exists()
    assert Appeal.objects.filter(is_imported=True).count() == 30
    assert IntakeCount.objects.filter(compacted=False).exists()
    _assert_reports_equal(settings)
    assert rollup.differences() == (0, [])

    rollup.compact()

    assert not IntakeCount.objects.filter(compacted=False).exists()
    _assert_reports_equal(settings)


def test_an_update_that_changes_no_counted_column_writes_no_rollup_row(world, clock):
    appeal = _register(world, random.Random(3), clock)
    before = IntakeCount.objects.count()

    Appeal.objects.filter(pk=appeal.pk).update(text="Исправленный текст.")
    routing.route_appeal(
        appeal_id=appeal.pk, actor=world["controller"], lead=world["health"]
    )
    after_route = IntakeCount.objects.count()
    routing.assign_executor(  # routed -> in progress: open either way
        appeal_id=appeal.pk,
        actor=world["health_head"],
        executor=world["health_executor"],
    )

    assert before == 4  # channel, kind, outcome, topic
    assert after_route == before + 8  # the lead agency is a key: -1 and +1 each
    assert IntakeCount.objects.count() == after_route


def test_a_change_of_any_one_counted_column_moves_the_counts(world, clock):
    """Each column the rollup reads, changed alone by a bulk UPDATE, moves the
    appeal's counts and its ratings to the new key."""
    appeal = _register(world, random.Random(8), clock, day=dt.date(2025, 2, 3))
    routing.route_appeal(
        appeal_id=appeal.pk, actor=world["controller"], lead=world["health"]
    )
    routing.assign_executor(
        appeal_id=appeal.pk,
        actor=world["health_head"],
        executor=world["health_executor"],
    )
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=world["health_executor"],
        text=ANSWER,
        outcome="supported",
        submit=True,
    )
    answering.approve_answer(appeal_id=appeal.pk, actor=world["health_head"])
    answering.rate_answer(appeal_id=appeal.pk, score=4, addressed=True)
    appeal.refresh_from_db()
    changes = [
        {"topic": next(t for t in world["topics"] if t != appeal.topic)},
        {"kind": next(k for k in KINDS if k != appeal.kind)},
        {
            "channel": next(
                c
                for c in (Channel.JOGORKU_KENESH, Channel.PORTAL)
                if c != appeal.channel
            ),
            "delivery": "",
        },
        {"form": Form.ORAL if appeal.form == Form.WRITTEN else Form.WRITTEN},
        {"received_on": dt.date(2025, 3, 30)},
        {"registering_agency": world["health"]},
        {"lead_agency": world["labour"]},
        {"due_on": appeal.closed_at.astimezone(BISHKEK).date() - dt.timedelta(days=1)},
        {"closed_at": appeal.closed_at - dt.timedelta(days=30)},  # late -> on time
        {"due_on": None},
        {"outcome": "forwarded"},
    ]
    for change in changes:
        rows = IntakeCount.objects.count()
        Appeal.objects.filter(pk=appeal.pk).update(**change)

        assert IntakeCount.objects.count() > rows, change
        assert rollup.differences() == (0, []), change


def test_compaction_folds_the_deltas_and_keeps_the_sums(world, clock):
    rng = random.Random(4)
    appeals = [_register(world, rng, clock) for _ in range(6)]
    for appeal in appeals:
        routing.route_appeal(
            appeal_id=appeal.pk, actor=world["controller"], lead=world["labour"]
        )
    sums = _sums()
    rows = IntakeCount.objects.count()

    before, after = rollup.compact()

    assert before == rows
    assert after < before
    assert _sums() == sums
    assert rollup.compact() == (0, 0)  # nothing left to fold


def _sums() -> dict:
    """The rollup's counts per key, as the readers see them."""
    sums: dict[tuple, tuple] = {}
    for row in IntakeCount.objects.all():
        key = tuple(getattr(row, name) for name in rollup.KEY)
        old = sums.get(key, (0, 0, 0))
        sums[key] = (
            old[0] + row.appeals,
            old[1] + row.score_sum,
            old[2] + row.addressed,
        )
    return {key: value for key, value in sums.items() if value != (0, 0, 0)}


@translation.override("en")  # the operator's messages, compared in English
def test_rebuild_gives_the_same_sums_and_the_check_fails_on_a_planted_difference(
    world, clock, settings
):
    rng = random.Random(5)
    for _ in range(5):
        _register(world, rng, clock)
    sums = _sums()
    call_command("rebuild_intake_rollup", stdout=io.StringIO())
    assert _sums() == sums
    out = io.StringIO()
    call_command("rebuild_intake_rollup", "--check", stdout=out)
    assert "matches" in out.getvalue()

    # A row nobody should write (as if a trigger had been disabled during a load).
    IntakeCount.objects.create(
        month=dt.date(2025, 2, 1),
        registering_agency_id=world["apparatus"].pk,
        breakdown="channel",
        channel="portal",
        form="written",
        appeals=1,
        score_sum=0,
        addressed=0,
        compacted=False,
    )

    with pytest.raises(CommandError, match="differs from the appeals in 1 keys"):
        call_command(
            "rebuild_intake_rollup",
            "--check",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    live, rolled_up = _live_and_rolled_up(settings, period=parse_period("2025-Q1"))
    assert rolled_up != live  # the report really reads the rollup
    call_command("rebuild_intake_rollup", stdout=io.StringIO())
    call_command("rebuild_intake_rollup", "--check", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_wait_for_each_other_and_both_count(world, clock):
    """Two transactions at once, each registering an appeal and closing one of the
    same agency and month with the same outcome (the same rollup keys): the second
    commits while the first is still open (no row both must update), and both land."""
    rng = random.Random(6)
    march = dt.date(2025, 3, 3)
    pair = []
    for _ in range(2):
        appeal = _register(world, rng, clock, own=False, day=march)
        routing.route_appeal(
            appeal_id=appeal.pk, actor=world["controller"], lead=world["health"]
        )
        routing.assign_executor(
            appeal_id=appeal.pk,
            actor=world["health_head"],
            executor=world["health_executor"],
        )
        answering.save_answer_draft(
            appeal_id=appeal.pk,
            actor=world["health_executor"],
            text=ANSWER,
            outcome="explained",
            submit=True,
        )
        pair.append(appeal)
    clock(at(dt.date(2025, 3, 5)))
    finished = threading.Event()
    errors: list[BaseException] = []

    def other_writer():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '10s'")
                _register(world, random.Random(7), clock, own=True, day=march)
                answering.approve_answer(
                    appeal_id=pair[1].pk, actor=world["health_head"]
                )
            finished.set()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        _register(world, rng, clock, own=False, day=march)
        answering.approve_answer(appeal_id=pair[0].pk, actor=world["health_head"])
        thread = threading.Thread(target=other_writer)
        thread.start()
        committed_meanwhile = finished.wait(timeout=15)
    thread.join(timeout=30)

    assert not errors
    assert committed_meanwhile
    assert rollup.differences() == (0, [])
    report = build_intake_report(
        period=Period("2025-03", dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
        agency_slug="min-health",
        now=NOW,
    )
    assert report.current.timeliness.answered_on_time == 2
