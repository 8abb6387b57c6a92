"""Acceptance of issue 8: a register with exactly the channel counts the chancellery
published for Q1 2020 and Q1 2019 (../shared/data/kattar-intake-2020q1.json), imported
through `manage.py import_appeals`, gives those figures in the 2020-Q1 report."""

import datetime as dt
import importlib.util
import io
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from reports.narrative import format_count, format_share

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FIGURES_FILE = SHARED / "kattar-intake-2020q1.json"
# A copy of the shared figures, so the test runs where ../shared is not checked out.
FIGURES = {
    "2020-Q1": {
        "written_total": 974,
        "by_channel": {
            "president_office": {"count": 161, "share": 16.5},
            "jogorku_kenesh": {"count": 187, "share": 19.2},
            "public_reception": {"count": 180, "share": 18.5},
            "portal": {"count": 85, "share": 8.7},
            "other": {"count": 361, "share": 37.1},
        },
    },
    "2019-Q1": {
        "written_total": 1145,
        "by_channel": {
            "president_office": {"count": 185, "share": 16.2},
            "jogorku_kenesh": {"count": 194, "share": 16.9},
            "public_reception": {"count": 171, "share": 14.9},
            "portal": {"count": 172, "share": 15.0},
            "other": {"count": 423, "share": 36.9},
        },
    },
}
QUARTERS = {"2020-Q1": dt.date(2020, 1, 1), "2019-Q1": dt.date(2019, 1, 1)}
ORAL = {"2020-Q1": 7, "2019-Q1": 5}  # heard in person: counted apart from the channels
DELIVERIES = ["post", "expedition", "field_courier", "courier", "box"]
KINDS = ["statement", "complaint", "proposal"]
HEADER = "received_on;channel;delivery;form;agency;kind;applicant;text"


def test_shared_figures_are_the_ones_this_test_checks():
    if not FIGURES_FILE.exists():
        pytest.skip(f"{FIGURES_FILE} is not here")
    shared = json.loads(FIGURES_FILE.read_text(encoding="utf-8"))["periods"]
    for label, figures in FIGURES.items():
        assert shared[label]["written_total"] == figures["written_total"]
        for code, row in figures["by_channel"].items():
            published = shared[label]["by_channel"][code]
            assert (published["count"], published["share"]) == (
                row["count"],
                row["share"],
            )


def _quarter_days(start: dt.date) -> list[dt.date]:
    end = dt.date(start.year, 3, 31)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def register_csv(path: Path) -> Path:
    """The register of the Government Apparatus for both quarters, days spread evenly
    over each quarter, plus a few rows just outside them that must not count."""
    lines = [HEADER]
    deliveries = itertools.cycle(DELIVERIES)
    kinds = itertools.cycle(KINDS)
    number = itertools.count(1)
    for label, figures in FIGURES.items():
        days = _quarter_days(QUARTERS[label])
        rows = [
            (code, "written")
            for code, row in figures["by_channel"].items()
            for _n in range(row["count"])
        ]
        rows += [("public_reception", "oral")] * ORAL[label]
        for index, (channel, form) in enumerate(rows):
            day = days[index * len(days) // len(rows)]
            delivery = next(deliveries) if channel == "other" else ""
            lines.append(
                f"{day.isoformat()};{channel};{delivery};{form};gov-apparatus;"
                f"{next(kinds)};Өтүнүч ээси {next(number)};Кайрылуунун кыскача мазмуну"
            )
    for day in ("2019-12-31", "2020-04-01", "2018-12-31", "2019-04-01"):
        lines.append(f"{day};portal;;written;gov-apparatus;;Чектен тышкары;")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def imported(tmp_path):
    out = io.StringIO()
    call_command(
        "import_appeals",
        str(register_csv(tmp_path / "ga-register.csv")),
        "--lang",
        "en",
        stdout=out,
        stderr=io.StringIO(),
    )
    expected = sum(f["written_total"] for f in FIGURES.values()) + sum(ORAL.values())
    assert f"Imported {expected + 4} appeals." in out.getvalue()


def intake_report(tmp_path, *args: str) -> Path:
    path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}"
    call_command(
        "intake_report",
        "--period",
        "2020-Q1",
        *args,
        "-o",
        str(path),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return path


def test_the_2020_q1_report_shows_the_published_figures_and_last_year_s(
    imported, tmp_path
):
    data = json.loads(
        intake_report(tmp_path, "--format", "json").read_text(encoding="utf-8")
    )

    assert (data["period"], data["previous"]) == ("2020-Q1", "2019-Q1")
    for label, figures in FIGURES.items():
        block = data["periods"][label]
        assert block["written_total"] == figures["written_total"]
        assert block["oral_total"] == ORAL[label]
        assert list(block["by_channel"]) == list(figures["by_channel"])
        for code, expected in figures["by_channel"].items():
            row = block["by_channel"][code]
            assert row["count"] == expected["count"], (label, code)
            assert abs(row["share"] - expected["share"]) <= 0.1, (label, code)
    assert data["periods"]["2020-Q1"]["written_total"] == 974
    assert data["periods"]["2019-Q1"]["written_total"] == 1145


def test_the_same_report_for_the_apparatus_alone_shows_the_same_figures(
    imported, tmp_path
):
    data = json.loads(
        intake_report(
            tmp_path, "--agency", "gov-apparatus", "--format", "json"
        ).read_text(encoding="utf-8")
    )
    for label, figures in FIGURES.items():
        counts = {
            code: row["count"]
            for code, row in data["periods"][label]["by_channel"].items()
        }
        assert counts == {
            code: row["count"] for code, row in figures["by_channel"].items()
        }


# --- The PDF half ---------------------------------------------------------------------


def _pdf_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    # Whatever space the PDF draws between digits and before %, read it as one space.
    return re.sub(r"[\u00a0\u202f\u2009 ]+", " ", result.stdout.decode())


def _spaced(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\u2009 ]+", " ", text)


@pytest.mark.skipif(
    importlib.util.find_spec("reports.render") is None
    or importlib.util.find_spec("reports.render.pdf") is None,
    reason="reports.render.pdf is not written yet",
)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_pdf_text_shows_every_count_and_share_in_the_language_s_format(
    imported, tmp_path, language
):
    """The PDF-text half of the acceptance test: every count and share of both
    periods appears in the text pdftotext extracts, written as the language writes
    numbers (16,5 in ky and ru; 16.5 in en)."""
    path = intake_report(tmp_path, "--lang", language, "--format", "pdf")
    assert path.read_bytes().startswith(b"%PDF")

    text = _pdf_text(path)

    for label, figures in FIGURES.items():
        total = _spaced(format_count(figures["written_total"], language))
        assert re.search(rf"(?<![\d.,]){re.escape(total)}(?![\d])", text), (
            label,
            total,
        )
        for code, row in figures["by_channel"].items():
            count = str(row["count"])
            share = _spaced(format_share(row["share"], language)).rstrip(" %")
            assert re.search(rf"(?<![\d.,]){count}(?![\d.,])", text), (label, code)
            assert re.search(rf"(?<![\d.,]){re.escape(share)}(?!\d)", text), (
                label,
                code,
                share,
            )
