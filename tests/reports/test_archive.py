"""The quarterly archive: the reports of the quarter that ended, for all state bodies
and every active agency, made once and never changed."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from agencies.models import Agency
from appeals.intake import registration
from appeals.models import Channel, Form
from portal.periods import parse_period
from reports import archive, tasks
from reports.models import ArchivedReport
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def apparatus() -> Agency:
    return Agency.objects.get(slug="gov-apparatus")


@pytest.fixture
def q1_2020(apparatus):
    for channel in (Channel.PRESIDENT_OFFICE, *[Channel.OTHER] * 7):
        registration.import_archival_appeal(
            agency=apparatus,
            received_on=dt.date(2020, 2, 3),
            channel=channel,
            form=Form.WRITTEN,
            applicant_name="Applicant",
            delivery="post" if channel == Channel.OTHER else "",
        )


@pytest.fixture
def quick_pdf(monkeypatch):
    """PDFs take most of an archive run's time; where a test is not about the PDF,
    its bytes are a stand-in (XLSX and JSON stay real)."""
    real = archive.render
    monkeypatch.setattr(
        archive,
        "render",
        lambda report, fmt: b"%PDF-stand-in" if fmt == "pdf" else real(report, fmt),
    )


def run_task_on(monkeypatch, day: dt.date) -> int:
    monkeypatch.setattr(tasks, "timezone", SimpleNamespace(localdate=lambda: day))
    return tasks.archive_quarter()


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2020, 4, 1), "2020-Q1"),
        (dt.date(2020, 7, 1), "2020-Q2"),
        (dt.date(2020, 10, 1), "2020-Q3"),
        (dt.date(2021, 1, 1), "2020-Q4"),
        (dt.date(2020, 5, 17), "2020-Q1"),  # a late run archives the last quarter
        (dt.date(2020, 3, 31), "2019-Q4"),
    ],
)
def test_the_quarter_that_just_ended(today, quarter):
    assert archive.quarter_before(today) == quarter


def test_the_task_counts_the_day_in_bishkek(monkeypatch, apparatus):
    # 21:30 UTC on 31 March is already 1 April, 03:30, in Bishkek: Q1 has ended.
    moment = dt.datetime(2020, 3, 31, 21, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    seen = []
    monkeypatch.setattr(
        archive, "archive_period", lambda *, period: seen.append(period.label) or []
    )
    tasks.archive_quarter()
    assert seen == ["2020-Q1"]


def test_the_archive_has_every_scope_language_and_format(
    monkeypatch, q1_2020, quick_pdf
):
    other = AgencyFactory(slug="mvd", code="MVD")
    AgencyFactory(slug="closed", code="CLOSED", is_active=False)
    created = run_task_on(monkeypatch, dt.date(2020, 4, 1))
    scopes = 3  # all state bodies, the Government Apparatus, MVD; not the inactive
    assert created == scopes * 3 * 3
    records = ArchivedReport.objects.all()
    assert {(r.agency_id, r.language, r.format) for r in records} == {
        (agency, language, fmt)
        for agency in (None, Agency.objects.get(slug="gov-apparatus").pk, other.pk)
        for language in ("ky", "ru", "en")
        for fmt in ("pdf", "xlsx", "json")
    }
    assert {r.period for r in records} == {"2020-Q1"}


def test_running_twice_creates_nothing_new(monkeypatch, q1_2020, quick_pdf):
    first = run_task_on(monkeypatch, dt.date(2020, 4, 1))
    files = {r.pk: (r.file.name, r.file.read()) for r in ArchivedReport.objects.all()}
    second = run_task_on(monkeypatch, dt.date(2020, 4, 1))
    assert first == 2 * 3 * 3
    assert second == 0
    again = {r.pk: (r.file.name, r.file.read()) for r in ArchivedReport.objects.all()}
    assert again == files


def test_the_archive_keeps_the_figures_as_they_were(
    monkeypatch, apparatus, q1_2020, quick_pdf
):
    run_task_on(monkeypatch, dt.date(2020, 4, 1))
    record = ArchivedReport.objects.get(agency=None, language="en", format="json")
    figures = record.figures["periods"]["2020-Q1"]
    assert figures["by_channel"]["president_office"] == {"count": 1, "share": 12.5}
    assert json.loads(record.file.read()) == record.figures
    assert record.file.name.startswith("reports/2020-Q1/")
    assert record.file.name.endswith(".json")
    # An appeal registered later for the same quarter does not touch the archive.
    registration.import_archival_appeal(
        agency=apparatus,
        received_on=dt.date(2020, 3, 1),
        channel=Channel.PORTAL,
        form=Form.WRITTEN,
        applicant_name="Late",
    )
    run_task_on(monkeypatch, dt.date(2020, 4, 1))
    record.refresh_from_db()
    assert record.figures["periods"]["2020-Q1"]["written_total"] == 8


def test_the_files_are_real_pdf_and_xlsx(monkeypatch, q1_2020):
    run_task_on(monkeypatch, dt.date(2020, 4, 1))
    pdf = ArchivedReport.objects.get(agency=None, language="ky", format="pdf")
    assert pdf.file.read().startswith(b"%PDF")
    xlsx = ArchivedReport.objects.get(agency=None, language="ru", format="xlsx")
    assert xlsx.file.read().startswith(b"PK")  # a zip, as every XLSX


def test_what_is_missing_is_made_and_nothing_else(monkeypatch, q1_2020, quick_pdf):
    period = parse_period("2020-Q1")
    archive.archive_period(period=period)
    ArchivedReport.objects.filter(agency=None, language="ru", format="xlsx").delete()
    kept = set(ArchivedReport.objects.values_list("pk", flat=True))
    made = archive.archive_period(period=period)
    assert [(r.agency_id, r.language, r.format) for r in made] == [(None, "ru", "xlsx")]
    assert kept <= set(ArchivedReport.objects.values_list("pk", flat=True))


def test_one_report_per_period_scope_language_and_format():
    values = {
        "period": "2020-Q1",
        "period_start": dt.date(2020, 1, 1),
        "period_end": dt.date(2020, 3, 31),
        "agency": None,  # NULL: the government-wide report needs its own constraint
        "language": "ky",
        "format": "pdf",
        "figures": {},
        "file": "reports/2020-Q1/a.pdf",
    }
    ArchivedReport.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArchivedReport.objects.create(**values)
    agency = Agency.objects.get(slug="gov-apparatus")
    ArchivedReport.objects.create(**{**values, "agency": agency})
    with pytest.raises(IntegrityError), transaction.atomic():
        ArchivedReport.objects.create(**{**values, "agency": agency})


def test_a_run_that_loses_the_race_keeps_the_other_runs_file(settings):
    period = parse_period("2020-Q1")
    values = {
        "period": period,
        "agency": None,
        "language": "ky",
        "fmt": "json",
        "name": "intake-2020-Q1-all-ky.json",
        "figures": {},
    }
    first = archive._keep(content=b"{}", **values)
    second = archive._keep(content=b"{ }", **values)
    assert first is not None
    assert second is None
    stored = list((settings.MEDIA_ROOT / "reports" / "2020-Q1").iterdir())
    assert [path.name for path in stored] == ["intake-2020-Q1-all-ky.json"]
    assert stored[0].read_bytes() == b"{}"
