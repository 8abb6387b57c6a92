"""The managers' reports page: who may open it, the preview, the downloads, the
archive's files; and the public page's charts."""

import csv
import datetime as dt
import io
import json
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from agencies.models import Agency, Membership
from appeals.intake import registration
from appeals.models import Channel, Form
from reports.models import ArchivedReport
from tests.factories import AgencyFactory, staff_member
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db
Role = Membership.Role
Q1_2020 = {"kind": "Q1", "year": "2020", "language": "ky"}


@pytest.fixture
def apparatus() -> Agency:
    return Agency.objects.get(slug="gov-apparatus")


def receive(agency, day, channel, *, form=Form.WRITTEN, count=1):
    for _number in range(count):
        registration.import_archival_appeal(
            agency=agency,
            received_on=day,
            channel=channel,
            form=form,
            applicant_name="Жаныл Секретова",
            delivery="post" if channel == Channel.OTHER else "",
        )


@pytest.fixture
def q1_2020(apparatus):
    """Q1 2020: 1 of 8 written appeals from the President's Office (12.5 %), and an
    oral one; Q1 2019: 2 from the Jogorku Kenesh."""
    receive(apparatus, dt.date(2020, 2, 3), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2020, 2, 3), Channel.OTHER, count=7)
    receive(apparatus, dt.date(2020, 3, 31), Channel.PUBLIC_RECEPTION, form=Form.ORAL)
    receive(apparatus, dt.date(2019, 1, 15), Channel.JOGORKU_KENESH, count=2)


def url(name: str, lang: str = "en", *args) -> str:
    with translation.override(lang):
        return reverse(name, args=args)


@pytest.fixture
def manager(client):
    user = staff_member(Role.MANAGER)
    login_staff(client, user)
    return user


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(url("reports:manager"))
    assert response.status_code == 302
    assert "login" in response["Location"]
    response = client.get(url("reports:download"), {**Q1_2020, "format": "pdf"})
    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.EXECUTOR, Role.CLERK])
def test_staff_without_a_reporting_role_are_refused(client, role):
    login_staff(client, staff_member(role))
    assert client.get(url("reports:manager")).status_code == 403
    response = client.get(url("reports:download"), {**Q1_2020, "format": "csv"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CONTROLLER, Role.HEAD])
def test_managers_controllers_and_heads_open_the_page(client, role):
    login_staff(client, staff_member(role))
    response = client.get(url("reports:manager"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-picker"' in html
    assert f'formaction="{url("reports:download")}"' in html


def test_the_menu_offers_reports_to_managers(client, manager):
    html = client.get(url("reports:manager")).content.decode()
    assert f'href="{url("reports:manager")}"' in html


def test_first_visit_previews_the_last_quarter_that_ended(client, manager):
    html = client.get(url("reports:manager")).content.decode()
    assert 'id="report-preview"' in html
    assert 'id="report-narrative"' in html


def test_preview_shows_the_figures_and_the_narrative(client, manager, q1_2020):
    response = client.get(url("reports:manager"), {**Q1_2020, "language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-section="by_channel"' in html
    row = html[html.index('data-line="president_office"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="text-end">1</td>' in row
    assert '<td class="text-end">12.5</td>' in row
    narrative = html[html.index('id="report-narrative"') :]
    assert "12.5%" in narrative[: narrative.index("</p>")]
    assert "<svg" in html  # the channel chart
    assert "Жаныл Секретова" not in html  # figures only


def test_preview_writes_numbers_in_the_reports_language(client, manager, q1_2020):
    html = client.get(url("reports:manager", "en"), {**Q1_2020, "language": "ru"})
    html = html.content.decode()
    row = html[html.index('data-line="president_office"') :]
    assert '<td class="text-end">12,5</td>' in row[: row.index("</tr>")]


def test_an_unknown_period_is_explained(client, manager):
    response = client.get(url("reports:manager"), {"period": "2020-Q7", "kind": "Q1"})
    assert response.status_code == 400
    assert "2020-Q7" in response.content.decode()
    response = client.get(
        url("reports:download"), {"period": "2020-Q7", "kind": "Q1", "format": "pdf"}
    )
    assert response.status_code == 400


def test_a_range_needs_both_days(client, manager):
    response = client.get(
        url("reports:manager"),
        {"kind": "range", "year": "2020", "start": "2020-01-01", "language": "en"},
    )
    assert response.status_code == 400


def test_an_unknown_format_is_not_found(client, manager):
    response = client.get(url("reports:download"), {**Q1_2020, "format": "docx"})
    assert response.status_code == 404


def attachment_name(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return disposition.split('filename="')[1].rstrip('"')


def test_pdf_download(client, manager, q1_2020, tmp_path):
    response = client.get(url("reports:download"), {**Q1_2020, "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert attachment_name(response) == "intake-2020-Q1-all-ky.pdf"
    assert response.content.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "r.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "12,5" in text


def test_xlsx_download(client, manager, q1_2020):
    response = client.get(
        url("reports:download"), {**Q1_2020, "language": "ru", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert attachment_name(response) == "intake-2020-Q1-all-ru.xlsx"
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[1]["B2"].value == 1


def test_csv_download(client, manager, q1_2020):
    response = client.get(
        url("reports:download"), {**Q1_2020, "language": "en", "format": "csv"}
    )
    assert attachment_name(response) == "intake-2020-Q1-all-en.csv"
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(
        csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
    )
    president = next(line for line in lines if line["code"] == "president_office")
    assert president["count"] == "1"
    assert president["share"] == "12.5"


def test_json_download_for_one_agency_with_subordinates(client, manager, q1_2020):
    response = client.get(
        url("reports:download"),
        {
            "period": "2020-q1",  # the command line's syntax, typed
            "kind": "Q1",
            "year": "2020",
            "agency": "gov-apparatus",
            "with_subordinates": "on",
            "language": "en",
            "format": "json",
        },
    )
    assert response.status_code == 200
    assert attachment_name(response) == "intake-2020-Q1-gov-apparatus-sub-en.json"
    data = json.loads(response.content)
    assert data["agency"] == "gov-apparatus"
    assert data["with_subordinates"] is True
    figures = data["periods"]["2020-Q1"]
    assert figures["by_channel"]["president_office"] == {"count": 1, "share": 12.5}
    assert figures["written_total"] == 8
    assert figures["oral_total"] == 1
    assert data["periods"]["2019-Q1"]["by_channel"]["jogorku_kenesh"]["count"] == 2


def test_a_date_range_from_the_picker(client, manager, q1_2020):
    response = client.get(
        url("reports:download"),
        {
            "kind": "range",
            "year": "2020",
            "start": "2020-02-01",
            "end": "2020-02-29",
            "language": "en",
            "format": "json",
        },
    )
    assert attachment_name(response) == "intake-2020-02-01_2020-02-29-all-en.json"
    data = json.loads(response.content)
    assert data["periods"]["2020-02-01..2020-02-29"]["written_total"] == 8


def archived(agency=None, fmt="pdf", period="2020-Q1") -> ArchivedReport:
    record = ArchivedReport(
        period=period,
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2020, 3, 31),
        agency=agency,
        language="ky",
        format=fmt,
        figures={"period": period},
    )
    record.file.save(f"intake-{period}-all-ky.{fmt}", ContentFile(b"%PDF-1.7 test"))
    return record


def test_the_page_lists_the_archive_with_download_links(client, manager):
    record = archived()
    html = client.get(url("reports:manager")).content.decode()
    archive = html[html.index('id="report-archive"') :]
    assert 'data-period="2020-Q1"' in archive
    assert url("reports:archived_file", "en", record.pk, "pdf") in archive


def test_the_archive_of_one_agency_is_listed_when_it_is_picked(client, manager):
    other = AgencyFactory(slug="mvd", code="MVD")
    archived(agency=other, period="2020-Q1")
    everyone = archived(period="2019-Q4")
    html = client.get(
        url("reports:manager"), {**Q1_2020, "agency": "mvd"}
    ).content.decode()
    archive = html[html.index('id="report-archive"') :]
    assert 'data-period="2020-Q1"' in archive
    assert url("reports:archived_file", "en", everyone.pk, "pdf") not in archive


def test_archived_files_are_served_to_managers_only(client):
    record = archived()
    address = url("reports:archived_file", "en", record.pk, "pdf")
    assert client.get(address).status_code == 302  # anonymous: log in
    login_staff(client, staff_member(Role.EXECUTOR))
    assert client.get(address).status_code == 403
    login_staff(client, staff_member(Role.MANAGER))
    response = client.get(address)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    assert attachment_name(response) == "intake-2020-Q1-all-ky.pdf"


def test_an_archived_file_asked_in_another_format_is_not_found(client, manager):
    record = archived()
    address = url("reports:archived_file", "en", record.pk, "xlsx")
    assert client.get(address).status_code == 404


def test_open_statistics_page_draws_the_charts_without_personal_data(client, q1_2020):
    with translation.override("ky"):
        address = reverse("reports:open_statistics")
    html = client.get(address, {"year": 2020}).content.decode()
    assert 'id="chart-channels"' in html
    assert 'id="chart-outcomes"' in html  # imported appeals are closed
    assert "Жаныл Секретова" not in html
