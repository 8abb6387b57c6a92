"""`import_appeals`: old registers (CSV, XLSX) become closed archival appeals, all or
nothing, numbered by the same registers' counters as the form."""

import datetime as dt
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from openpyxl import Workbook

from agencies.models import Agency
from appeals.intake import filing, importing, registration
from appeals.models import Appeal, Event, Notification, Status
from appeals.register import numbering
from tests.helpers import ROOT, database_url_for_tests

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """The operator's messages are compared in English (the command's default)."""
    with translation.override("en"):
        yield


HEADER = (
    "received_on;channel;delivery;form;agency;kind;applicant;text;registration_number"
)


@pytest.fixture
def apparatus():
    return Agency.objects.get(slug="gov-apparatus")


def _agency(slug="min-health", code="MZ", **extra):
    return Agency.objects.create(
        slug=slug,
        code=code,
        name_ky="Саламаттыкты сактоо министрлиги",
        name_ru="Министерство здравоохранения",
        name_en="Ministry of Health",
        **extra,
    )


def _csv(tmp_path, lines, *, name="register.csv", bom=True, header=HEADER):
    path = tmp_path / name
    text = "\n".join([header, *lines]) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def _line(
    received_on="2019-03-01",
    channel="president_office",
    delivery="",
    form="written",
    agency="gov-apparatus",
    kind="complaint",
    applicant="Асанов Бакыт",
    text="Биздин көчөдө жарык жок.",
    number="",
):
    return ";".join(
        [received_on, channel, delivery, form, agency, kind, applicant, text, number]
    )


def _import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_appeals", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _refused(path, *args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_appeals", str(path), *args, stdout=io.StringIO(), stderr=err
        )
    assert failure.value.returncode == 1
    return err.getvalue()


def test_csv_with_semicolons_and_bom_imports_closed_archival_appeals(
    tmp_path, apparatus
):
    path = _csv(
        tmp_path,
        [
            _line(channel="president_office"),
            _line(channel="other", delivery="post", form="written", kind=""),
            _line(channel="public_reception", form="oral", text=""),
        ],
    )
    out, _err = _import(path)
    assert "Imported 3 appeals." in out
    appeals = list(Appeal.objects.order_by("registration_number"))
    assert [a.registration_number for a in appeals] == [
        "GA-2019-000001",
        "GA-2019-000002",
        "GA-2019-000003",
    ]
    first = appeals[0]
    assert first.status == Status.CLOSED and first.outcome == ""
    assert first.is_imported and first.registering_agency == apparatus
    assert first.received_on == dt.date(2019, 3, 1)
    assert timezone.localtime(first.received_at).time() == dt.time(9)
    assert first.registered_at == first.received_at == first.closed_at
    assert first.access_code_hash == ""
    assert first.applicant_name == "Асанов Бакыт"
    assert first.applicant_name_key == "асанов бакыт"
    assert appeals[1].channel == "other" and appeals[1].delivery == "post"
    assert appeals[2].form == "oral" and appeals[2].text == ""
    assert len({a.tracking_number for a in appeals}) == 3


def test_every_imported_appeal_gets_a_private_history_event_naming_its_source(
    tmp_path,
):
    path = _csv(tmp_path, [_line(), _line(number="OLD-17")], name="journal-2019.csv")
    _import(path)
    events = Event.objects.order_by("data__line")
    assert [(e.type, e.is_public, e.actor_id) for e in events] == [
        (Event.Type.IMPORTED, False, None),
        (Event.Type.IMPORTED, False, None),
    ]
    assert [e.data for e in events] == [
        {
            "registration_number": "GA-2019-000001",
            "source": "journal-2019.csv",
            "line": 2,
        },
        {"registration_number": "OLD-17", "source": "journal-2019.csv", "line": 3},
    ]
    assert all(
        e.appeal.registration_number == e.data["registration_number"] for e in events
    )


def test_imported_appeals_send_no_notifications(
    tmp_path, django_capture_on_commit_callbacks
):
    path = _csv(tmp_path, [_line(), _line()])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _import(path)
    assert callbacks == []
    assert not Notification.objects.exists()


def test_comma_delimited_csv_without_bom_in_any_column_order_imports(tmp_path):
    path = _csv(
        tmp_path,
        ['"Иванова, Мария",portal,2020-01-15,gov-apparatus,written'],
        header="applicant,channel,received_on,agency,form",
        bom=False,
    )
    _import(path)
    appeal = Appeal.objects.get()
    assert appeal.applicant_name == "Иванова, Мария"
    assert appeal.channel == "portal" and appeal.kind == "" and appeal.text == ""
    assert appeal.registration_number == "GA-2020-000001"


def test_xlsx_with_date_cells_and_iso_text_imports(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["registration_number", "received_on", "channel", "form", "agency", "applicant"]
    )
    sheet.append(
        [
            None,
            dt.date(2019, 2, 11),
            "jogorku_kenesh",
            "written",
            "gov-apparatus",
            "Асанов",
        ]
    )
    # Spreadsheet cells carry no time zone: a date-time cell is naive.
    day_and_time = dt.datetime(2019, 2, 12)  # noqa: DTZ001
    sheet.append([None, day_and_time, "portal", "written", "gov-apparatus", "Бекова"])
    sheet.append([500, "2018-12-30", "other", "oral", "gov-apparatus", "Орозов"])
    sheet.append([None] * 6)  # trailing empty rows are skipped
    path = tmp_path / "register.xlsx"
    workbook.save(path)

    out, _err = _import(path)

    assert "Imported 3 appeals." in out
    assert list(
        Appeal.objects.order_by("received_on").values_list(
            "received_on", "channel", "registration_number"
        )
    ) == [
        (dt.date(2018, 12, 30), "other", "500"),
        (dt.date(2019, 2, 11), "jogorku_kenesh", "GA-2019-000001"),
        (dt.date(2019, 2, 12), "portal", "GA-2019-000002"),
    ]


def test_xlsx_bad_rows_are_named_by_their_sheet_row(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["received_on", "channel", "form", "agency", "applicant"])
    sheet.append([dt.date(2019, 2, 11), "portal", "written", "gov-apparatus", "Асанов"])
    sheet.append(["11.02.2019", "portal", "written", "gov-apparatus", "Бекова"])
    sheet.append([dt.date(2019, 2, 12), "portal", "written", "gov-apparatus", None])
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    assert _refused(path).splitlines() == [
        "line 3: received_on “11.02.2019” is not a date written as YYYY-MM-DD",
        "line 4: applicant is empty",
    ]
    assert not Appeal.objects.exists()


def test_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert _refused(path).splitlines() == [
        "line 1: the file is not a readable XLSX workbook"
    ]


def test_bad_row_in_the_middle_imports_nothing_and_names_its_line(tmp_path):
    path = _csv(
        tmp_path,
        [_line(), _line(channel="fax"), _line(), _line()],
    )
    err = _refused(path)
    assert err.splitlines() == [
        "line 3: unknown channel “fax”; expected one of president_office, "
        "jogorku_kenesh, public_reception, portal, other"
    ]
    assert not Appeal.objects.exists()
    assert not Event.objects.exists()


def test_every_bad_row_is_reported_not_only_the_first(tmp_path):
    path = _csv(
        tmp_path,
        [
            _line(received_on="2019-02-30"),
            _line(),
            _line(form="by phone", applicant=""),
            _line(agency="ministry-of-nowhere"),
        ],
    )
    lines = _refused(path).splitlines()
    assert lines == [
        "line 2: received_on “2019-02-30” is not a date written as YYYY-MM-DD",
        "line 4: unknown form “by phone”; expected one of written, oral",
        "line 4: applicant is empty",
        "line 5: no agency with slug “ministry-of-nowhere”",
    ]


def test_long_error_lists_are_cut_but_still_fail(tmp_path):
    path = _csv(tmp_path, [_line(channel="fax")] * 1003)
    err = _refused(path)
    lines = err.splitlines()
    assert len(lines) == 1001
    assert lines[-1] == "... and 3 more"


def test_unknown_column_is_an_error(tmp_path):
    path = _csv(tmp_path, [_line() + ";x"], header=HEADER + ";comment")
    err = _refused(path)
    assert err.startswith("line 1: unknown column “comment”")
    assert not Appeal.objects.exists()


def test_missing_required_column_is_an_error(tmp_path):
    path = _csv(
        tmp_path,
        ["2019-03-01;portal;gov-apparatus;Асанов"],
        header="received_on;channel;agency;applicant",
    )
    assert _refused(path).splitlines() == ["line 1: required column “form” is missing"]


def test_values_beyond_the_header_are_an_error(tmp_path):
    path = _csv(tmp_path, [_line() + ";surplus"])
    assert _refused(path).splitlines() == [
        "line 2: 1 values beyond the last column of the header"
    ]


def test_registration_number_repeated_within_the_file_is_refused(tmp_path):
    path = _csv(
        tmp_path,
        [_line(number="GA-2019-000007"), _line(), _line(number="GA-2019-000007")],
    )
    assert _refused(path).splitlines() == [
        "line 4: registration number GA-2019-000007 repeats line 2"
    ]
    assert not Appeal.objects.exists()


def test_registration_number_already_in_the_register_is_refused(tmp_path, apparatus):
    with transaction.atomic():
        registration.import_archival_appeal(
            agency=apparatus,
            received_on=dt.date(2019, 1, 5),
            channel="portal",
            form="written",
            applicant_name="Асанов",
            registration_number="17/2019",
        )
    path = _csv(tmp_path, [_line(), _line(number="17/2019")])
    assert _refused(path).splitlines() == [
        "line 3: registration number 17/2019 is already in the register"
    ]
    assert Appeal.objects.count() == 1


def test_same_file_with_numbers_imported_twice_is_refused_row_by_row(tmp_path):
    path = _csv(tmp_path, [_line(number="A-1"), _line(number="A-2")])
    _import(path)
    assert _refused(path).splitlines() == [
        "line 2: registration number A-1 is already in the register",
        "line 3: registration number A-2 is already in the register",
    ]
    assert Appeal.objects.count() == 2


def test_same_file_without_numbers_imports_twice_as_the_help_says(tmp_path):
    path = _csv(tmp_path, [_line()])
    _import(path)
    _import(path)
    assert sorted(Appeal.objects.values_list("registration_number", flat=True)) == [
        "GA-2019-000001",
        "GA-2019-000002",
    ]


def test_number_taken_between_check_and_write_rolls_the_whole_import_back(
    tmp_path, apparatus
):
    path = _csv(tmp_path, [_line(), _line(number="A-7"), _line()])
    good, errors = importing.validate(importing.parse(path))
    assert not errors
    with transaction.atomic():  # a clerk elsewhere, a moment after the check
        registration.import_archival_appeal(
            agency=apparatus,
            received_on=dt.date(2019, 1, 5),
            channel="portal",
            form="written",
            applicant_name="Асанов",
            registration_number="A-7",
        )
    with pytest.raises(IntegrityError):
        importing.import_rows(good, source="r.csv")
    assert Appeal.objects.count() == 1
    assert Event.objects.count() == 1


def test_kept_number_moves_the_register_past_it(tmp_path, apparatus):
    _import(_csv(tmp_path, [_line(received_on="2019-05-06", number="GA-2019-000500")]))
    with transaction.atomic():
        number = numbering.next_registration_number(agency=apparatus, year=2019)
    assert number == "GA-2019-000501"


def test_generated_numbers_never_collide_with_kept_ones_of_the_same_file(tmp_path):
    path = _csv(
        tmp_path,
        [
            _line(),
            _line(number="GA-2019-000002"),
            _line(),
            _line(number="GA-2019-000001"),
        ],
    )
    _import(path)
    assert sorted(Appeal.objects.values_list("registration_number", flat=True)) == [
        "GA-2019-000001",
        "GA-2019-000002",
        "GA-2019-000003",
        "GA-2019-000004",
    ]


def test_kept_number_moves_the_register_it_names_whatever_row_it_is_on(
    tmp_path, apparatus
):
    health = _agency()
    path = _csv(
        tmp_path,
        [
            # Kept on a 2019 health-ministry row, but it is GA's 2020 register number.
            _line(agency="min-health", number="GA-2020-000010"),
            _line(received_on="2020-02-03"),
        ],
    )
    _import(path)
    assert Appeal.objects.get(registering_agency=apparatus).registration_number == (
        "GA-2020-000011"
    )
    assert Appeal.objects.get(registering_agency=health).registration_number == (
        "GA-2020-000010"
    )


def test_numbers_follow_each_register_by_agency_and_year(tmp_path):
    _agency()
    path = _csv(
        tmp_path,
        [
            _line(received_on="2019-12-31"),
            _line(received_on="2020-01-02", agency="min-health"),
            _line(received_on="2020-01-03"),
            _line(received_on="2019-11-01"),
            _line(received_on="2020-01-04", agency="min-health"),
        ],
    )
    _import(path)
    assert list(
        Appeal.objects.order_by("events__data__line").values_list(
            "registration_number", flat=True
        )
    ) == [
        "GA-2019-000001",
        "MZ-2020-000001",
        "GA-2020-000001",
        "GA-2019-000002",
        "MZ-2020-000002",
    ]


def test_inactive_agency_is_accepted_for_archival_records(tmp_path):
    _agency(slug="old-committee", code="OC", is_active=False)
    _import(_csv(tmp_path, [_line(agency="old-committee")]))
    assert Appeal.objects.get().registration_number == "OC-2019-000001"


def test_future_date_is_refused(tmp_path):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    path = _csv(tmp_path, [_line(received_on=tomorrow.isoformat())])
    assert _refused(path).splitlines() == [
        f"line 2: received_on {tomorrow.isoformat()} is in the future"
    ]


def test_delivery_is_refused_unless_the_channel_is_other(tmp_path):
    path = _csv(
        tmp_path,
        [
            _line(channel="other", delivery="box"),
            _line(channel="portal", delivery="post"),
        ],
    )
    assert _refused(path).splitlines() == [
        "line 3: delivery is only given for channel “other”, not “portal”"
    ]


def test_too_long_applicant_is_refused(tmp_path):
    path = _csv(tmp_path, [_line(applicant="А" * 301)])
    assert _refused(path).splitlines() == [
        "line 2: applicant is longer than 300 characters"
    ]


def test_quoted_text_over_several_lines_keeps_line_numbers_right(tmp_path):
    path = _csv(
        tmp_path,
        [_line(text='"Биринчи сап;\nэкинчи сап"'), _line(channel="fax")],
    )
    assert _refused(path).splitlines()[0].startswith("line 4: unknown channel")


def test_file_not_in_utf8_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "cp1251.csv"
    path.write_bytes(
        ("\n".join([HEADER, _line(text="Прошу разобраться.")]) + "\n").encode("cp1251")
    )
    assert _refused(path).splitlines() == [
        "line 2: the file is not UTF-8 text; save it as “CSV UTF-8” or XLSX"
    ]


def test_dry_run_checks_and_imports_nothing(tmp_path):
    path = _csv(tmp_path, [_line(), _line()])
    out, _err = _import(path, "--dry-run")
    assert "2 rows checked, no errors; nothing imported (dry run)." in out
    assert not Appeal.objects.exists()
    assert "line 2:" in _refused(_csv(tmp_path, [_line(channel="fax")]), "--dry-run")


def test_progress_is_shown_when_asked(tmp_path):
    _out, err = _import(_csv(tmp_path, [_line()] * 3), "--progress")
    assert err.splitlines() == ["validated 3/3 rows", "imported 3/3 rows"]


def test_validate_returns_good_rows_and_errors_without_writing(tmp_path):
    rows = list(importing.parse(_csv(tmp_path, [_line(), _line(kind="praise")])))
    good, errors = importing.validate(rows)
    assert [row.line for row in good] == [2]
    assert [(e.line, e.reason) for e in errors] == [
        (3, "unknown kind “praise”; expected one of proposal, statement, complaint")
    ]
    assert not Appeal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_command_exits_1_on_errors_and_0_on_success(tmp_path):
    # A real process on the test database: the exit code operators and scripts see.
    Agency.objects.get_or_create(
        slug="gov-apparatus",
        defaults={
            "code": "GA",
            "name_ky": "Аппарат",
            "name_ru": "Аппарат",
            "name_en": "GA",
        },
    )
    bad = _csv(tmp_path, [_line(), _line(), _line(channel="fax"), _line(), _line()])
    good = _csv(tmp_path, [_line(), _line()], name="good.csv")
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "DEBUG": "1"}

    def run(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "import_appeals", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    failed = run(bad)
    assert failed.returncode == 1, failed.stderr
    assert "line 4: unknown channel “fax”" in failed.stderr
    assert failed.stdout == ""
    assert not Appeal.objects.exists()

    done = run(good)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 2 appeals."
    assert Appeal.objects.filter(is_imported=True).count() == 2


def test_command_starts_without_loading_every_view(tmp_path):
    # Django's system checks would import every URLconf and view, WeasyPrint with
    # them: 2 s of every import at any size.
    code = (
        "import sys\n"
        "from django.core.management import execute_from_command_line\n"
        "try:\n"
        "    execute_from_command_line(['manage.py', 'import_appeals', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('weasyprint' in sys.modules, 'appeals.views.staff' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "missing.csv")],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "No such file" in result.stderr, result.stderr
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.postgres
def test_bulk_import_of_5000_rows_on_postgres(tmp_path, apparatus):
    channels = ["president_office", "jogorku_kenesh", "public_reception", "portal"]
    lines = [
        _line(
            received_on=f"2019-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
            channel=channels[n % 4],
            applicant=f"Заявитель {n}",
            number=f"GA-2019-{n:06d}" if n % 10 == 0 else "",
        )
        for n in range(1, 5001)
    ]
    out, _err = _import(_csv(tmp_path, lines))
    assert "Imported 5000 appeals." in out
    assert Appeal.objects.filter(is_imported=True, status=Status.CLOSED).count() == 5000
    assert Event.objects.filter(type=Event.Type.IMPORTED).count() == 5000
    numbers = set(Appeal.objects.values_list("registration_number", flat=True))
    assert len(numbers) == 5000
    # Kept numbers go up to GA-2019-005000; the 4,500 generated ones follow them.
    assert "GA-2019-009500" in numbers and "GA-2019-009501" not in numbers


@pytest.mark.postgres
def test_copy_on_postgres_writes_what_bulk_create_writes(tmp_path):
    path = _csv(
        tmp_path,
        [
            _line(),
            _line(channel="other", delivery="courier", form="oral", kind=""),
            _line(received_on="2020-02-29", applicant="  Бекова   Айгүл ", text=""),
        ],
    )
    good, errors = importing.validate(importing.parse(path))
    assert not errors
    importing._import_rows(good, source="r.csv", progress=None, copy=True)
    importing._import_rows(good, source="r.csv", progress=None, copy=False)
    ignored = {
        "id",
        "tracking_number",
        "registration_number",
        "created_at",
        "updated_at",
    }
    fields = [f.attname for f in Appeal._meta.concrete_fields if f.name not in ignored]
    rows = list(Appeal.objects.order_by("id").values(*fields))
    assert rows[:3] == rows[3:]
    events = list(
        Event.objects.order_by("id").values("appeal_id", "type", "data", "at")
    )
    assert [e["data"]["line"] for e in events] == [2, 3, 4, 2, 3, 4]
    assert len({e["appeal_id"] for e in events}) == 6
    # The sequence moved past the copied ids: the next appeal saves as usual.
    filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_email="bakyt@example.kg",
        text="Жарык жок.",
        language="ky",
        kind="complaint",
    )
    assert Appeal.objects.count() == 7


def test_a_batch_clashing_with_a_tracking_number_is_written_again_with_new_numbers(
    tmp_path, monkeypatch
):
    _import(_csv(tmp_path, [_line()]))
    taken = Appeal.objects.get().tracking_number
    # The first draw's first number is already in the database; the second is free.
    runs = iter([[taken, "AAAAA-A0001"], ["BBBBB-B0000", "BBBBB-B0001"]])
    monkeypatch.setattr(importing.codes, "new_tracking_numbers", lambda n: next(runs))
    _import(_csv(tmp_path, [_line(), _line()]))
    assert sorted(Appeal.objects.values_list("tracking_number", flat=True)) == sorted(
        [taken, "BBBBB-B0000", "BBBBB-B0001"]
    )
    # Nothing of the rolled-back attempt is left: one event per appeal.
    assert Event.objects.count() == 3
    assert set(Event.objects.values_list("appeal_id", flat=True)) == set(
        Appeal.objects.values_list("id", flat=True)
    )


def test_tracking_clashes_that_go_on_fail_the_import_and_write_nothing(
    tmp_path, monkeypatch
):
    _import(_csv(tmp_path, [_line()]))
    taken = Appeal.objects.get().tracking_number
    calls = []
    monkeypatch.setattr(
        importing.codes, "new_tracking_numbers", lambda n: calls.append(n) or [taken]
    )
    good, errors = importing.validate(importing.parse(_csv(tmp_path, [_line()])))
    assert not errors
    with pytest.raises(IntegrityError):
        importing.import_rows(good, source="r.csv")
    assert len(calls) == importing.TRACKING_ATTEMPTS
    assert Appeal.objects.count() == 1 and Event.objects.count() == 1


def test_imported_tracking_numbers_are_random_not_a_run():
    """One number must not tell its neighbours (issue 25, item 8): they used to run on
    from a random head, 'K7QM4-X0000', 'K7QM4-X0001', …"""
    from appeals.register import codes

    numbers = codes.new_tracking_numbers(1500)
    assert len(set(numbers)) == 1500
    heads = {codes.normalise(number)[:6] for number in numbers}
    assert len(heads) > 1400  # 30 random bits each: nearly every head differs
    assert all(codes.normalise_tracking_number(n) == n for n in numbers)
    assert len(codes.new_tracking_numbers(importing.BATCH_SIZE)) == importing.BATCH_SIZE


def test_an_imported_appeals_neighbours_are_not_its_number_plus_one(tmp_path):
    from appeals.register import codes

    _import(_csv(tmp_path, [_line() for _ in range(20)]))
    numbers = sorted(
        codes.normalise(n)
        for n in Appeal.objects.values_list("tracking_number", flat=True)
    )
    shared_heads = sum(
        a[:6] == b[:6] for a, b in zip(numbers, numbers[1:], strict=False)
    )
    assert shared_heads == 0


def _index_definitions(table: str) -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
            "FROM pg_index WHERE indrelid = %s::regclass",
            [table],
        )
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_appeal_rows_write_no_index_entries_that_no_query_reads():
    """Migration 0015: each index on the appeal table costs every import and filing."""
    appeals = _index_definitions("appeals_appeal")
    # Django's pattern copies of the unique indexes: nothing searches by prefix.
    assert not [name for name in appeals if name.endswith("_like")]
    # Single-column indexes that other indexes lead with.
    single = {
        definition.split("(", 1)[1].rstrip(")")
        for definition in appeals.values()
        if definition.count(",") == 0 and " WHERE " not in definition
    }
    assert not single & {"received_on", "registering_agency_id", "lead_agency_id"}
    # Foreign keys empty on most rows (all imported ones): indexed where set only.
    from appeals.models import PARTIALLY_INDEXED

    for field in PARTIALLY_INDEXED:
        assert appeals[f"appeal_{field}_idx"].endswith(
            f"WHERE ({field}_id IS NOT NULL)"
        )
    events = _index_definitions("appeals_event")
    assert events["event_actor_idx"].endswith("WHERE (actor_id IS NOT NULL)")
    assert not [d for d in events.values() if d.endswith("(appeal_id)")]


@pytest.mark.postgres
def test_look_ups_by_the_unindexed_foreign_keys_still_use_an_index():
    """What PROTECT and the reverse relations ask (`= id`) is answered by the partial
    indexes or by a composite one that leads with the column."""
    from django.db import connection

    queries = {
        "appeal_topic_idx": Appeal.objects.filter(topic_id=1),
        "appeal_registered_by_idx": Appeal.objects.filter(registered_by_id__in=[1]),
        "appeal_mass_lead_idx": Appeal.objects.filter(mass_lead_id=1),
        "appeal_repeat_of_idx": Appeal.objects.filter(repeat_of_id=1),
        "appeal_journal": Appeal.objects.filter(registering_agency_id=1),
        "appeal_lead_intake_idx": Appeal.objects.filter(lead_agency_id=1),
        "appeal_intake_idx": Appeal.objects.filter(received_on=dt.date(2020, 1, 1)),
        "event_actor_idx": Event.objects.filter(actor_id=1),
        "event_appeal_at_idx": Event.objects.filter(appeal_id=1),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for index, queryset in queries.items():
            plan = queryset.only("pk").explain()
            assert index in plan, plan
