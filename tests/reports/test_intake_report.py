"""The intake report: its figures built from appeals that went through the real
services, the narrative in three languages, and `manage.py intake_report`."""

import datetime as dt
import io
import json
import sys
import types
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Channel, Form, Kind
from portal.periods import parse_period
from reports.narrative import format_count, format_share, narrative
from reports.report import Block, Period, Ratings, Row, Timeliness
from reports.selectors import build_intake_report
from tests.factories import AgencyFactory, TopicFactory, staff_member
from tests.helpers import at

pytestmark = pytest.mark.django_db

Q1_2025 = parse_period("2025-Q1")
ANSWER = "Проверка проведена: освещение улицы восстановлено, столбы заменены."
CHANNELS = ["president_office", "jogorku_kenesh", "public_reception", "portal", "other"]


@pytest.fixture
def apparatus() -> Agency:
    return Agency.objects.get(slug="gov-apparatus")


@pytest.fixture
def health() -> Agency:
    return AgencyFactory(
        slug="min-health",
        code="MZ",
        name_ky="Саламаттык министрлиги",
        name_ru="Минздрав",
        name_en="Ministry of Health",
    )


@pytest.fixture
def labour() -> Agency:
    return AgencyFactory(
        slug="min-labour",
        code="MT",
        name_ky="Эмгек министрлиги",
        name_ru="Минтруд",
        name_en="Ministry of Labour",
    )


@pytest.fixture
def people(apparatus, health, labour):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "health_clerk": staff_member("clerk", health),
        "health_head": staff_member("head", health),
        "health_executor": staff_member("executor", health),
        "labour_head": staff_member("head", labour),
        "labour_executor": staff_member("executor", labour),
    }


def register(
    clerk,
    agency: Agency,
    day: dt.date,
    *,
    clock,
    channel: str = Channel.PRESIDENT_OFFICE,
    form: str = Form.WRITTEN,
    kind: str = Kind.COMPLAINT,
    topic=None,
):
    """A clerk registers, on `day`, an appeal received that day."""
    clock(at(day))
    appeal, _code = registration.register_paper_appeal(
        actor=clerk,
        agency=agency,
        channel=channel,
        form=form,
        kind=kind,
        topic=topic,
        delivery="post" if channel == Channel.OTHER else "",
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө үч айдан бери жарык жок.",
        language="ky",
        received_at=at(day),
    )
    return appeal


def route(people, appeal, lead: Agency):
    return routing.route_appeal(
        appeal_id=appeal.pk, actor=people["controller"], lead=lead
    )


def answer(
    people, appeal, lead: Agency, when: dt.datetime, *, clock, outcome="supported"
):
    """The lead agency (health or labour) answers at `when`; the head approves."""
    prefix = "health" if lead.slug == "min-health" else "labour"
    clock(when)
    routing.assign_executor(
        appeal_id=appeal.pk,
        actor=people[f"{prefix}_head"],
        executor=people[f"{prefix}_executor"],
    )
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=people[f"{prefix}_executor"],
        text=ANSWER,
        outcome=outcome,
        submit=True,
    )
    answering.approve_answer(appeal_id=appeal.pk, actor=people[f"{prefix}_head"])
    appeal.refresh_from_db()
    return appeal


def archive(agency, day, channel, *, count=1, form=Form.WRITTEN, kind=""):
    for n in range(count):
        registration.import_archival_appeal(
            agency=agency,
            received_on=day,
            channel=channel,
            form=form,
            kind=kind,
            applicant_name=f"Applicant {n}",
            delivery="expedition" if channel == Channel.OTHER else "",
        )


def submit_through_portal(day: dt.date):
    return filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Жаныл Секретова",
        applicant_email="janyl@example.kg",
        text="Not registered yet.",
        language="ky",
        kind=Kind.STATEMENT,
        received_at=at(day, 12),
    ).appeal


def report(**kwargs):
    kwargs.setdefault("period", Q1_2025)
    kwargs.setdefault("language", "en")
    kwargs.setdefault("now", at(dt.date(2025, 4, 1)))
    return build_intake_report(**kwargs)


def counts(rows: list[Row]) -> dict[str, int]:
    return {row.code: row.count for row in rows}


# --- Figures ---------------------------------------------------------------------------


def test_written_appeals_by_channel_with_shares_beside_last_year(apparatus):
    archive(apparatus, dt.date(2025, 1, 15), Channel.PRESIDENT_OFFICE)
    archive(apparatus, dt.date(2025, 3, 31), Channel.OTHER, count=5)
    archive(apparatus, dt.date(2024, 2, 29), Channel.JOGORKU_KENESH, count=3)
    archive(apparatus, dt.date(2024, 4, 1), Channel.JOGORKU_KENESH)  # Q2: not counted

    intake = report()

    assert [row.code for row in intake.current.by_channel] == CHANNELS
    assert intake.current.written_total == 6
    assert [(r.count, r.share) for r in intake.current.by_channel] == [
        (1, Decimal("16.7")),
        (0, Decimal("0.0")),
        (0, Decimal("0.0")),
        (0, Decimal("0.0")),
        (5, Decimal("83.3")),
    ]
    assert intake.previous.period.label == "2024-Q1"
    assert intake.previous.written_total == 3
    assert counts(intake.previous.by_channel)["jogorku_kenesh"] == 3


def test_oral_appeals_are_one_figure_apart_from_the_channels(apparatus):
    archive(
        apparatus,
        dt.date(2025, 2, 3),
        Channel.PUBLIC_RECEPTION,
        form=Form.ORAL,
        count=2,
    )
    archive(apparatus, dt.date(2025, 2, 3), Channel.PUBLIC_RECEPTION)

    intake = report()

    assert intake.current.oral_total == 2
    assert intake.current.written_total == 1
    assert counts(intake.current.by_channel)["public_reception"] == 1


def test_portal_submissions_waiting_for_the_clerk_are_not_counted(apparatus):
    archive(apparatus, dt.date(2025, 2, 3), Channel.PORTAL)
    submit_through_portal(dt.date(2025, 2, 3))

    intake = report()

    assert intake.current.written_total == 1
    assert counts(intake.current.by_kind) == {
        "proposal": 0,
        "statement": 0,
        "complaint": 0,
        "not_stated": 1,
    }


def test_appeals_left_without_consideration_count_as_received(people, apparatus, clock):
    registered = register(people["clerk"], apparatus, dt.date(2025, 2, 3), clock=clock)
    submitted = submit_through_portal(dt.date(2025, 2, 4))
    for appeal in (registered, submitted):
        registration.leave_without_consideration(
            appeal_id=appeal.pk,
            actor=people["clerk"],
            ground="no_name_or_address",
            reason="Нет адреса заявителя.",
        )

    intake = report()

    assert intake.current.written_total == 2
    assert counts(intake.current.by_channel)["portal"] == 1
    assert counts(intake.current.by_outcome)["left_without_consideration"] == 2
    # Closed without an answer: no deadline was met or missed.
    assert intake.current.timeliness == Timeliness(0, 0, 0, 0)


def test_appeals_are_counted_by_the_bishkek_day_they_were_received(
    people, apparatus, clock
):
    # 31 March 23:30 in Bishkek is still 31 March 17:30 UTC; 1 April 00:30 in Bishkek
    # is 31 March 18:30 UTC: received in Q2.
    clock(at(dt.date(2025, 4, 1), 9))
    for moment in (at(dt.date(2025, 3, 31), 23, 30), at(dt.date(2025, 4, 1), 0, 30)):
        registration.register_paper_appeal(
            actor=people["clerk"],
            agency=apparatus,
            channel=Channel.OTHER,
            delivery="box",
            form=Form.WRITTEN,
            kind=Kind.STATEMENT,
            applicant_name="Орозбаев Нурлан",
            text="Кат кутусуна салынган кайрылуу.",
            language="ky",
            received_at=moment,
            backdate_reason="Кутудан эртең менен алынды.",
        )

    assert report().current.written_total == 1


def test_an_agency_counts_what_it_registered_or_was_routed_as_lead(
    people, apparatus, health, labour, clock
):
    day = dt.date(2025, 2, 10)
    to_health = route(
        people, register(people["clerk"], apparatus, day, clock=clock), health
    )
    route(people, register(people["clerk"], apparatus, day, clock=clock), labour)
    register(people["health_clerk"], health, day, clock=clock, channel=Channel.OTHER)
    own_and_routed = register(people["health_clerk"], health, day, clock=clock)
    route(people, own_and_routed, health)

    for_health = report(agency_slug="min-health")
    for_apparatus = report(agency_slug="gov-apparatus")
    for_labour = report(agency_slug="min-labour")

    assert for_health.current.written_total == 3  # routed 1, registered 2, once each
    assert counts(for_health.current.by_channel)["other"] == 1
    assert for_apparatus.current.written_total == 2  # its register
    assert for_labour.current.written_total == 1
    assert report().current.written_total == 4
    assert counts(for_health.current.by_agency) == {"min-health": 2}
    assert to_health.lead_agency == health


def test_an_appeal_returned_as_outside_its_competence_leaves_the_agency(
    people, apparatus, health, clock
):
    appeal = route(
        people,
        register(people["clerk"], apparatus, dt.date(2025, 2, 10), clock=clock),
        health,
    )
    routing.return_appeal(
        appeal_id=appeal.pk, actor=people["health_head"], reason="Не наша компетенция."
    )

    assert report(agency_slug="min-health").current.written_total == 0
    assert report(agency_slug="gov-apparatus").current.written_total == 1


def test_subordinate_bodies_count_only_when_asked_and_at_every_level(
    people, apparatus, health, clock
):
    service = AgencyFactory(slug="drug-service", code="DS", parent=health)
    branch = AgencyFactory(slug="drug-service-osh", code="DSO", parent=service)
    unrelated = AgencyFactory(slug="min-finance", code="MF")
    day = dt.date(2025, 3, 3)
    for agency in (service, branch, unrelated):
        register(staff_member("clerk", agency), agency, day, clock=clock)
    route(people, register(people["clerk"], apparatus, day, clock=clock), branch)
    register(people["health_clerk"], health, day, clock=clock)

    alone = report(agency_slug="min-health")
    with_subordinates = report(agency_slug="min-health", with_subordinates=True)
    service_tree = report(agency_slug="drug-service", with_subordinates=True)

    assert alone.current.written_total == 1
    assert with_subordinates.current.written_total == 4
    assert with_subordinates.with_subordinates
    assert service_tree.current.written_total == 3
    assert counts(with_subordinates.current.by_agency) == {"drug-service-osh": 1}


def test_answers_on_or_before_the_due_day_are_on_time_and_after_it_late(
    people, apparatus, health, clock
):
    received = dt.date(2025, 1, 13)
    on_time, on_the_day, late, after_midnight = (
        route(
            people, register(people["clerk"], apparatus, received, clock=clock), health
        )
        for _n in range(4)
    )
    due = on_time.due_on
    assert due == late.due_on and dt.date(2025, 1, 20) < due < dt.date(2025, 3, 3)
    answer(people, on_time, health, at(dt.date(2025, 1, 20)), clock=clock)
    answer(people, on_the_day, health, at(due, 23, 30), clock=clock)
    answer(people, late, health, at(dt.date(2025, 3, 3)), clock=clock)
    # 00:30 in Bishkek the day after the due day: still the due day in UTC, yet late.
    answer(
        people,
        after_midnight,
        health,
        at(due + dt.timedelta(days=1), 0, 30),
        clock=clock,
    )

    timeliness = report().current.timeliness

    assert timeliness == Timeliness(
        answered_on_time=2, answered_late=2, open_overdue=0, open_in_time=0
    )


def test_open_appeals_are_overdue_after_their_due_day_and_in_time_until_then(
    people, apparatus, health, clock
):
    early = route(
        people,
        register(people["clerk"], apparatus, dt.date(2025, 1, 13), clock=clock),
        health,
    )
    recent = register(people["clerk"], apparatus, dt.date(2025, 3, 24), clock=clock)
    today = dt.date(2025, 4, 1)
    assert early.due_on < today <= recent.due_on

    assert report(now=at(today)).current.timeliness == Timeliness(0, 0, 1, 1)
    # On the due day itself an open appeal is not overdue yet.
    assert report(now=at(early.due_on, 17)).current.timeliness == Timeliness(0, 0, 0, 2)


def test_breakdowns_by_kind_topic_agency_and_outcome_in_the_report_language(
    people, apparatus, health, labour, clock
):
    roads = TopicFactory(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )
    water = TopicFactory(code="water", name_ky="Суу", name_ru="Вода", name_en="Water")
    day = dt.date(2025, 2, 12)
    clerk = people["clerk"]
    first = route(
        people, register(clerk, apparatus, day, clock=clock, topic=roads), health
    )
    route(
        people,
        register(clerk, apparatus, day, clock=clock, topic=roads, kind=Kind.PROPOSAL),
        health,
    )
    route(people, register(clerk, apparatus, day, clock=clock, topic=water), labour)
    register(clerk, apparatus, day, clock=clock, kind=Kind.STATEMENT)
    answer(
        people,
        first,
        health,
        at(dt.date(2025, 2, 14)),
        clock=clock,
        outcome="explained",
    )
    archive(apparatus, day, Channel.OTHER)  # closed, no outcome kept

    intake = report(language="ru")
    block = intake.current

    assert [(r.code, r.label, r.count, r.share) for r in block.by_topic] == [
        ("roads", "Дороги", 2, Decimal("40.0")),
        ("water", "Вода", 1, Decimal("20.0")),
        ("not_stated", "не указано", 2, Decimal("40.0")),
    ]
    assert [(r.code, r.label, r.count) for r in block.by_agency] == [
        ("min-health", "Минздрав", 2),
        ("min-labour", "Минтруд", 1),
    ]
    assert [(r.code, r.label, r.count) for r in block.by_kind] == [
        ("proposal", "предложение", 1),
        ("statement", "заявление", 1),
        ("complaint", "жалоба", 2),
        ("not_stated", "не указано", 1),
    ]
    assert counts(block.by_outcome) == {
        "supported": 0,
        "explained": 1,
        "not_supported": 0,
        "forwarded": 0,
        "left_without_consideration": 0,
        "withdrawn": 0,
        "not_recorded": 1,
    }
    assert {r.code: r.share for r in block.by_outcome}["explained"] == Decimal("50.0")
    assert [r.label for r in block.by_channel][0] == "из Администрации Президента"
    assert intake.language == "ru"


def test_scope_is_named_in_the_report_language(health):
    assert report(language="en").scope == "all state bodies"
    assert report(agency_slug="min-health", language="ru").scope == "Минздрав"
    assert (
        "Ministry of Health"
        in report(agency_slug="min-health", with_subordinates=True).scope
    )


def test_an_unknown_agency_is_refused():
    with pytest.raises(Agency.DoesNotExist):
        report(agency_slug="no-such-body")


def test_ratings_of_the_answers_are_counted_averaged_and_shared(
    people, apparatus, health, clock
):
    day = dt.date(2025, 2, 10)
    for score, addressed in ((5, True), (2, False), (4, True)):
        appeal = route(
            people, register(people["clerk"], apparatus, day, clock=clock), health
        )
        answer(people, appeal, health, at(dt.date(2025, 2, 12)), clock=clock)
        answering.rate_answer(appeal_id=appeal.pk, score=score, addressed=addressed)
    archive(apparatus, dt.date(2024, 2, 10), Channel.PORTAL)

    intake = report()

    assert intake.current.ratings == Ratings(
        count=3, average=Decimal("3.7"), addressed_share=Decimal("66.7")
    )
    assert intake.previous.ratings == Ratings(count=0, average=None)
    assert intake.as_json()["periods"]["2025-Q1"]["ratings"] == {
        "count": 3,
        "average": 3.7,
        "addressed_share": 66.7,
    }


def test_figures_take_the_same_few_queries_however_many_appeals(
    people, apparatus, health, clock, django_assert_max_num_queries
):
    topic = TopicFactory()
    day = dt.date(2025, 2, 3)
    for _n in range(3):
        route(
            people,
            register(people["clerk"], apparatus, day, clock=clock, topic=topic),
            health,
        )
    archive(apparatus, day, Channel.OTHER, count=20)
    archive(apparatus, dt.date(2024, 2, 3), Channel.OTHER, count=20)

    # The agency, then per period: 2 grouped counts, ratings, topics and agencies.
    with django_assert_max_num_queries(11):
        report(agency_slug="gov-apparatus")


def test_json_has_the_structure_of_the_shared_figures(apparatus):
    archive(apparatus, dt.date(2025, 1, 15), Channel.PRESIDENT_OFFICE, count=2)
    archive(apparatus, dt.date(2024, 1, 15), Channel.OTHER)

    data = report().as_json()

    assert (data["period"], data["previous"]) == ("2025-Q1", "2024-Q1")
    current = data["periods"]["2025-Q1"]
    assert current["written_total"] == 2 and current["oral_total"] == 0
    assert current["by_channel"]["president_office"] == {"count": 2, "share": 100.0}
    assert list(current["by_channel"]) == CHANNELS
    assert current["timeliness"] == {
        "answered_on_time": 0,
        "answered_late": 0,
        "open_overdue": 0,
        "open_in_time": 0,
    }
    assert data["periods"]["2024-Q1"]["by_channel"]["other"]["share"] == 100.0
    json.dumps(data)  # every value is JSON


# --- The narrative --------------------------------------------------------------------

PUBLISHED = {  # ../shared/data/kattar-intake-2020q1.json
    "2020-Q1": [
        (161, "16.5"),
        (187, "19.2"),
        (180, "18.5"),
        (85, "8.7"),
        (361, "37.1"),
    ],
    "2019-Q1": [
        (185, "16.2"),
        (194, "16.9"),
        (171, "14.9"),
        (172, "15.0"),
        (423, "36.9"),
    ],
}


def block(label: str, oral: int) -> Block:
    period = parse_period(label)
    rows = [
        Row(code=code, label=code, count=count, share=Decimal(share))
        for code, (count, share) in zip(CHANNELS, PUBLISHED[label], strict=True)
    ]
    return Block(
        period=period,
        written_total=sum(row.count for row in rows),
        oral_total=oral,
        by_channel=rows,
    )


def published_narrative(language: str) -> str:
    return narrative(
        current=block("2020-Q1", 12), previous=block("2019-Q1", 9), language=language
    )


def test_narrative_in_english_reads_as_the_chancellery_publishes():
    assert published_narrative("en") == (
        "Written appeals received, Q1 2020: 974 (for comparison, Q1 2019: 1,145). "
        "Forwarded by the President's Office — 161 (16.5%); Q1 2019: 185 (16.2%). "
        "Forwarded by the Jogorku Kenesh — 187 (19.2%); Q1 2019: 194 (16.9%). "
        "Handed in at the public reception — 180 (18.5%); Q1 2019: 171 (14.9%). "
        "Through the electronic portal — 85 (8.7%); Q1 2019: 172 (15.0%). "
        "Other means of communication — 361 (37.1%); Q1 2019: 423 (36.9%). "
        "Oral appeals heard at personal receptions, Q1 2020: 12 "
        "(for comparison, Q1 2019: 9)."
    )


@pytest.mark.parametrize(
    ("language", "president_office"),
    [("ru", "из Администрации Президента"), ("ky", "Президенттин Администрациясынан")],
)
def test_narrative_in_ky_and_ru_writes_decimal_commas_and_no_break_spaces(
    language, president_office
):
    text = published_narrative(language)

    assert "974" in text and "1\u00a0145" in text
    assert "161 (16,5\u00a0%)" in text and "185 (16,2\u00a0%)" in text
    assert "361 (37,1\u00a0%)" in text and "423 (36,9\u00a0%)" in text
    assert president_office[1:] in text  # capitalised at the start of its sentence
    assert "16.5" not in text and "1,145" not in text


def test_narrative_leaves_the_active_language_alone():
    with translation.override("ru"):
        published_narrative("en")
        assert translation.get_language() == "ru"


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (Decimal("16.5"), "ru", "16,5\u00a0%"),
        (Decimal("16.5"), "ky", "16,5\u00a0%"),
        (Decimal("16.5"), "en", "16.5%"),
        (Decimal("100.0"), "ru", "100,0\u00a0%"),
        (Decimal("0"), "en", "0.0%"),
    ],
)
def test_shares_are_written_the_language_s_way(value, language, expected):
    assert format_share(value, language) == expected


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (974, "ru", "974"),
        (1145, "ky", "1\u00a0145"),
        (2_000_000, "ru", "2\u00a0000\u00a0000"),
        (1145, "en", "1,145"),
    ],
)
def test_counts_group_thousands_the_language_s_way(value, language, expected):
    assert format_count(value, language) == expected


def test_report_opens_with_the_narrative_of_its_figures(apparatus):
    archive(apparatus, dt.date(2025, 1, 15), Channel.PRESIDENT_OFFICE)
    archive(apparatus, dt.date(2025, 1, 15), Channel.OTHER, count=7)

    text = report(language="ru").narrative

    assert "1 (12,5\u00a0%)" in text and "7 (87,5\u00a0%)" in text


# --- manage.py intake_report ----------------------------------------------------------


def run(*args, stdout=None) -> str:
    out = stdout or io.StringIO()
    call_command("intake_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue() if stdout is None else ""


@pytest.fixture
def q1_2025(apparatus):
    archive(apparatus, dt.date(2025, 1, 15), Channel.PRESIDENT_OFFICE)
    archive(apparatus, dt.date(2025, 2, 15), Channel.OTHER, count=3)
    archive(apparatus, dt.date(2024, 3, 1), Channel.PORTAL, count=2)


def test_command_writes_the_json_report_to_a_file(q1_2025, tmp_path):
    path = tmp_path / "q1.json"

    assert run("--period", "2025-Q1", "--format", "json", "-o", str(path)) == ""

    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["language"] == "ky"  # the default
    assert data["periods"]["2025-Q1"]["by_channel"]["other"] == {
        "count": 3,
        "share": 75.0,
    }
    assert data["periods"]["2024-Q1"]["written_total"] == 2
    assert "Президенттин Администрациясынан" in text  # not \u escapes
    assert text.startswith('{\n  "period": "2025-Q1"')


def test_command_writes_the_json_report_to_stdout(q1_2025):
    out = run("--period", "2025-q1", "--lang", "ru", "--format", "json", "-o", "-")

    data = json.loads(out)
    assert data["period"] == "2025-Q1" and data["language"] == "ru"
    assert data["periods"]["2025-Q1"]["written_total"] == 4
    assert "Из Администрации Президента" in out and "1 (25,0\u00a0%)" in out


def test_command_reports_one_agency_with_its_subordinates(q1_2025, health, tmp_path):
    out = run(
        "--period", "2025-Q1", "--agency", "min-health", "--with-subordinates",
        "--format", "json", "-o", "-",
    )  # fmt: skip

    data = json.loads(out)
    assert (data["agency"], data["with_subordinates"]) == ("min-health", True)
    assert data["periods"]["2025-Q1"]["written_total"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2025-Q5"], "Unknown period “2025-Q5”"),
        (["--period", "2025-03-01..2025-01-01"], "ends before it starts"),
        (
            ["--period", "2025", "--agency", "nowhere"],
            "no agency with the slug “nowhere”",
        ),
        (
            ["--period", "2025", "--with-subordinates"],
            "--with-subordinates needs --agency",
        ),
    ],
)
def test_command_refuses_bad_input_with_a_message_and_exit_code_1(args, message):
    with pytest.raises(CommandError, match=message) as refused:
        run(*args, "--lang", "en", "--format", "json", "-o", "-")
    assert refused.value.returncode == 1


def test_command_hands_the_report_to_the_renderer_of_the_format(
    q1_2025, tmp_path, monkeypatch
):
    seen = []
    fake = types.ModuleType("reports.render.csv")
    fake.render = lambda report: seen.append(report) or b"rendered"
    monkeypatch.setitem(sys.modules, "reports.render.csv", fake)
    path = tmp_path / "q1.csv"

    run("--period", "2025-Q1", "--lang", "en", "--format", "csv", "-o", str(path))

    assert path.read_bytes() == b"rendered"
    assert seen[0].current.written_total == 4 and seen[0].language == "en"


def test_command_says_so_when_a_renderer_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "reports.render.xlsx", None)  # not importable
    with pytest.raises(CommandError, match="reports.render.xlsx") as refused:
        run("--period", "2025", "--lang", "en", "--format", "xlsx", "-o", "-")
    assert refused.value.returncode == 1


def test_command_refuses_a_binary_file_on_a_text_only_stdout(monkeypatch):
    fake = types.ModuleType("reports.render.pdf")
    fake.render = lambda report: b"%PDF-1.7"
    monkeypatch.setitem(sys.modules, "reports.render.pdf", fake)
    with pytest.raises(CommandError, match="-o FILE"):
        run("--period", "2025", "--lang", "en", "--format", "pdf", "-o", "-")


def test_periods_of_the_report_are_those_of_the_label(q1_2025):
    data = report(
        period=Period("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    ).as_json()
    assert data["periods"]["2024-Q1"]["start"] == "2024-01-01"
