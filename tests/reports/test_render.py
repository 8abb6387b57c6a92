"""The renderers of the intake report: PDF, XLSX, CSV, JSON and the SVG charts, drawn
from an IntakeReport built by hand (the figures of the shared file for 2020-Q1)."""

import csv
import datetime as dt
import io
import json
import re
import subprocess
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from appeals.models import Channel, Kind, Outcome
from portal.numbers import share
from reports.render import render
from reports.render.charts import report_charts
from reports.render.layout import filename
from reports.report import Block, IntakeReport, Period, Ratings, Row, Timeliness

LANGUAGES = ["ky", "ru", "en"]
# kattar.kg, written appeals by channel: Q1 2020 and, for comparison, Q1 2019.
Q1_2020 = {
    "president_office": 161,
    "jogorku_kenesh": 187,
    "public_reception": 180,
    "portal": 85,
    "other": 361,
}
Q1_2019 = {
    "president_office": 185,
    "jogorku_kenesh": 194,
    "public_reception": 171,
    "portal": 172,
    "other": 423,
}
SCOPE = {
    "ky": "бардык мамлекеттик органдар",
    "ru": "все государственные органы",
    "en": "all state bodies",
}
NARRATIVE = {
    "ky": "Келип түшкөн кайрылуулардын жалпы саны.",
    "ru": "Общее число поступивших обращений.",
    "en": "The number of appeals received.",
}
GENERATED = dt.datetime(2020, 4, 1, 3, 0, tzinfo=dt.UTC)  # 09:00 in Bishkek


def rows(choices, counts: dict[str, int], language: str) -> list[Row]:
    total = sum(counts.values())
    with translation.override(language):
        return [
            Row(code, str(choices(code).label), count, share(count, total))
            for code, count in counts.items()
        ]


def block(period: Period, channels: dict, language: str, *, oral: int) -> Block:
    written = sum(channels.values())
    return Block(
        period=period,
        written_total=written,
        oral_total=oral,
        by_channel=rows(Channel, channels, language),
        by_kind=rows(
            Kind,
            {"proposal": 100, "statement": 700, "complaint": written - 800},
            language,
        ),
        by_topic=[
            Row("housing", "Турак жай", 600, share(600, written)),
            Row("land", "Жер маселелери", written - 600, share(written - 600, written)),
        ],
        by_agency=[Row("gov-apparatus", "Өкмөт аппараты", written, Decimal("100.0"))],
        by_outcome=rows(
            Outcome,
            {
                "supported": 300,
                "explained": 400,
                "not_supported": 150,
                "forwarded": 80,
                "left_without_consideration": 44,
            },
            language,
        ),
        timeliness=Timeliness(
            answered_on_time=800, answered_late=100, open_overdue=24, open_in_time=50
        ),
        ratings=Ratings(
            count=120, average=Decimal("3.8"), addressed_share=Decimal("62.5")
        ),
    )


def sample_report(language: str = "ky", **changes) -> IntakeReport:
    """The 2020-Q1 report as build_intake_report would return it."""
    values = {
        "scope": SCOPE[language],
        "agency_slug": None,
        "with_subordinates": False,
        "language": language,
        "current": block(
            Period("2020-Q1", dt.date(2020, 1, 1), dt.date(2020, 3, 31)),
            Q1_2020,
            language,
            oral=42,
        ),
        "previous": block(
            Period("2019-Q1", dt.date(2019, 1, 1), dt.date(2019, 3, 31)),
            Q1_2019,
            language,
            oral=37,
        ),
        "narrative": NARRATIVE[language],
        "generated_at": GENERATED,
    }
    values.update(changes)
    return IntakeReport(**values)


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text.replace("\xa0", " ")


@pytest.fixture(scope="module")
def pdfs():
    """One PDF per language (rendering takes a moment; the tests only read them)."""
    return {language: render(sample_report(language), "pdf") for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_is_a_pdf(pdfs, language):
    assert pdfs[language].startswith(b"%PDF")


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_shows_every_count_of_both_periods(pdfs, language, tmp_path):
    text = pdf_text(pdfs[language], tmp_path)
    for count in [*Q1_2020.values(), *Q1_2019.values(), 974, 42, 37]:
        assert re.search(rf"(?<![\d,.]){count}(?![\d,])", text), count
    thousands = "1,145" if language == "en" else "1 145"
    assert thousands in text


@pytest.mark.parametrize(
    ("language", "expected", "foreign"),
    [("ky", "16,5", "16.5"), ("ru", "16,5", "16.5"), ("en", "16.5", "16,5")],
)
def test_pdf_writes_shares_in_the_languages_number_format(
    pdfs, language, expected, foreign, tmp_path
):
    text = pdf_text(pdfs[language], tmp_path)
    assert expected in text
    assert foreign not in text
    for published in ["19,2", "18,5", "8,7", "37,1", "16,2", "36,9"]:
        assert (published.replace(",", ".") if language == "en" else published) in text


def test_pdf_keeps_the_kyrgyz_letters(pdfs, tmp_path):
    text = pdf_text(pdfs["ky"], tmp_path)
    assert "Жогорку Кеңештен" in text  # ң, in the table and the chart
    assert "Өкмөт аппараты" in text  # Ө ө
    assert "түшкөн" in text  # ү, in the narrative


@pytest.mark.parametrize(
    ("language", "label", "note"),
    [
        ("ky", "Президенттин Администрациясынан", "Президенттин Аппараты деп аталган"),
        ("ru", "Из Администрации Президента", "называлась Аппаратом Президента"),
        ("en", "Forwarded by the President's Office", "Apparatus of the President"),
    ],
)
def test_pdf_of_the_years_before_2021_notes_the_former_name_of_the_office(
    pdfs, language, label, note, tmp_path
):
    """The channel is named for today's body, the Administration of the President;
    2019-2020 published it as the Apparatus: the note under the table says so."""
    text = " ".join(pdf_text(pdfs[language], tmp_path).split())
    assert label in text and note in text


def test_pdf_of_later_years_has_no_note_on_the_former_name(tmp_path):
    report = sample_report(
        "ru",
        current=block(
            Period("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
            Q1_2020,
            "ru",
            oral=1,
        ),
        previous=block(
            Period("2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
            Q1_2019,
            "ru",
            oral=1,
        ),
    )
    text = " ".join(pdf_text(render(report, "pdf"), tmp_path).split())
    assert "Из Администрации Президента" in text
    assert "Аппарат" not in text


def test_pdf_has_the_scope_period_narrative_and_generation_time(pdfs, tmp_path):
    text = pdf_text(pdfs["ru"], tmp_path)
    assert "Все государственные органы" in text
    assert "Общее число поступивших обращений." in text
    assert "09:00" in text  # 03:00 UTC is 09:00 in Bishkek


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_numbers_its_pages(pdfs, language, tmp_path):
    text = pdf_text(pdfs[language], tmp_path)
    # The footer reads "1 / 4"; pdftotext may drop the spaces.
    pages = int(re.search(r"\b1 ?/ ?(\d+)\b", text)[1])
    assert pages >= 2
    assert re.search(rf"\b{pages} ?/ ?{pages}\b", text)


def test_pdf_charts_are_text_labelled_with_counts_and_shares(pdfs, tmp_path):
    text = pdf_text(pdfs["ru"], tmp_path)
    assert "161 (16,5 %)" in text  # a bar's label in the channel chart
    assert "44 (4,5 %)" in text  # a bar's label in the outcome chart


def test_charts_are_inline_svg_without_styles_or_colliding_ids():
    charts = report_charts(sample_report("ky"))
    for name, svg in charts.items():
        assert svg.startswith("<svg ")
        assert "style=" not in svg
        assert "<style" not in svg
        ids = re.findall(r'\sid="([^"]+)"', svg)
        assert ids
        assert all(value.startswith(f"{name}-") for value in ids)
        for reference in re.findall(r'(?:url\(#|href="#)([^)"]+)', svg):
            assert reference in ids
    assert "Жогорку Кеңештен" in charts["channels"]
    assert "161 (16,5\xa0%)" in charts["channels"]


def test_charts_leave_out_outcomes_when_there_are_none():
    report = sample_report("en")
    empty = IntakeReport(
        **{
            **vars(report),
            "current": Block(**{**vars(report.current), "by_outcome": []}),
            "previous": Block(**{**vars(report.previous), "by_outcome": []}),
        }
    )
    charts = report_charts(empty)
    assert charts["channels"]
    assert charts["outcomes"] == ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_xlsx_has_typed_cells(language):
    book = load_workbook(io.BytesIO(render(sample_report(language), "xlsx")))
    channels = book.worksheets[1]
    assert channels["B2"].value == 161
    assert isinstance(channels["B2"].value, int)
    assert channels["C2"].value == pytest.approx(16.5)
    assert channels["C2"].number_format == "0.0"
    assert channels["D2"].value == 185
    assert channels["E2"].value == pytest.approx(16.2)
    assert channels["F2"].value == "president_office"
    totals = {row[5].value: row for row in channels.iter_rows(min_row=2)}
    assert totals["written_total"][1].value == 974
    assert totals["written_total"][3].value == 1145
    assert totals["oral_total"][1].value == 42
    summary = book.worksheets[0]
    # Excel has no time zones: the cells hold naive values, compared as text.
    dates = {
        cell.value.isoformat()
        for row in summary.iter_rows(min_col=2, max_col=2)
        for cell in row
        if isinstance(cell.value, dt.datetime)
    }
    assert "2020-01-01T00:00:00" in dates  # the first day, a date cell
    assert "2020-04-01T09:00:00" in dates  # generated, in Bishkek time


def test_xlsx_headers_and_sheets_are_in_the_reports_language():
    book = load_workbook(io.BytesIO(render(sample_report("ru"), "xlsx")))
    channels = book.worksheets[1]
    assert "Поступило" in channels["B1"].value
    assert channels["A2"].value == "из Администрации Президента"
    assert len(book.sheetnames) == len(set(book.sheetnames))
    ratings = book.worksheets[-1]
    values = {row[3].value: row for row in ratings.iter_rows(min_row=2)}
    assert values["average"][1].value == pytest.approx(3.8)
    assert values["rated"][1].value == 120


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text():
    report = sample_report("en")
    current = Block(
        **{
            **vars(report.current),
            "by_topic": [Row("evil", '=HYPERLINK("http://x")', 1, Decimal("100.0"))],
        }
    )
    book = load_workbook(
        io.BytesIO(render(IntakeReport(**{**vars(report), "current": current}), "xlsx"))
    )
    cells = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK")
    ]
    assert cells
    assert all(cell.data_type == "s" for cell in cells)


@pytest.mark.parametrize("language", LANGUAGES)
def test_csv_has_a_bom_and_a_row_per_line_with_decimal_points(language):
    content = render(sample_report(language), "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(
        csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    )
    by_key = {(line["section"], line["code"]): line for line in lines}
    president = by_key[("by_channel", "president_office")]
    assert president["count"] == "161"
    assert president["share"] == "16.5"  # a point for programs, even in ky and ru
    assert president["previous_count"] == "185"
    assert president["previous_share"] == "16.2"
    assert president["period"] == "2020-Q1"
    assert president["previous_period"] == "2019-Q1"
    assert by_key[("by_channel", "written_total")]["count"] == "974"
    assert by_key[("by_channel", "oral_total")]["count"] == "42"
    assert by_key[("by_outcome", "supported")]["count"] == "300"
    assert by_key[("timeliness", "open_overdue")]["count"] == "24"
    assert by_key[("ratings", "average")]["value"] == "3.8"
    sections = {line["section"] for line in lines}
    assert sections == {
        "by_channel",
        "by_kind",
        "by_topic",
        "by_agency",
        "by_outcome",
        "timeliness",
        "ratings",
    }


def test_csv_labels_are_in_the_reports_language():
    content = render(sample_report("ky"), "csv").decode("utf-8-sig")
    assert "Жогорку Кеңештен" in content


def test_json_has_the_shared_files_structure():
    data = json.loads(render(sample_report("en"), "json"))
    assert data["period"] == "2020-Q1"
    assert data["previous"] == "2019-Q1"
    q1 = data["periods"]["2020-Q1"]
    assert q1["written_total"] == 974
    assert q1["by_channel"]["president_office"] == {"count": 161, "share": 16.5}
    assert data["periods"]["2019-Q1"]["by_channel"]["other"]["share"] == 36.9


def test_file_names_say_period_scope_and_language():
    assert filename(sample_report("ky"), "pdf") == "intake-2020-Q1-all-ky.pdf"
    one = sample_report("ru", agency_slug="mvd", with_subordinates=True)
    assert filename(one, "xlsx") == "intake-2020-Q1-mvd-sub-ru.xlsx"
    days = sample_report(
        "en",
        current=Block(
            **{
                **vars(sample_report("en").current),
                "period": Period(
                    "2020-01-01..2020-02-15", dt.date(2020, 1, 1), dt.date(2020, 2, 15)
                ),
            }
        ),
    )
    assert filename(days, "csv") == "intake-2020-01-01_2020-02-15-all-en.csv"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown report format"):
        render(sample_report("ky"), "docx")
