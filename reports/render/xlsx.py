"""The intake report as an XLSX workbook: a summary sheet, then a sheet a breakdown;
typed cells (counts as integers, shares as numbers shown 0.0, dates as dates)."""

import io
import re
import zoneinfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.report import IntakeReport

from .layout import PERCENT, SCORE, Line, Section, period_words, sections

BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")
SHARE_FORMAT = "0.0"
COUNT_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E9EFF6")
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _text(sheet, row: int, column: int, value: str, **style):
    """A text cell that stays text: openpyxl would store "=..." as a formula."""
    cell = sheet.cell(
        row=row, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", value)
    )
    cell.data_type = "s"
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _number(sheet, row: int, column: int, value, number_format: str):
    if value is None:
        return sheet.cell(row=row, column=column)
    # openpyxl writes int and float; a Decimal share becomes a float of one decimal.
    value = value if isinstance(value, int) else float(value)
    cell = sheet.cell(row=row, column=column, value=value)
    cell.number_format = number_format
    return cell


def _sheet_title(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = SHEET_TITLE_FORBIDDEN.sub(" ", title)[:31].strip() or "Sheet"
    candidate, number = base, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


def _header(sheet, values: list[str]) -> None:
    for column, value in enumerate(values, start=1):
        _text(sheet, 1, column, value, font=HEADER_FONT, fill=HEADER_FILL)
        sheet.cell(row=1, column=column).alignment = Alignment(wrap_text=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 48
    for column in range(2, len(values) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 16
    sheet.column_dimensions[get_column_letter(len(values))].width = 24


def _summary(sheet, report: IntakeReport) -> None:
    language = report.language
    current, previous = report.current.period, report.previous.period
    generated = timezone.localtime(report.generated_at, BISHKEK).replace(tzinfo=None)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 60
    _text(
        sheet,
        1,
        1,
        _("Appeals received by the state bodies"),
        font=Font(bold=True, size=14),
    )
    rows = [
        (_("Body"), report.scope),
        (_("Period"), period_words(current, language)),
        (_("Period code"), current.label),
        (_("From"), current.start),
        (_("To"), current.end),
        (_("Compared with"), period_words(previous, language)),
        (_("From"), previous.start),
        (_("To"), previous.end),
        (_("Generated (Bishkek time)"), generated),
        (_("Language"), language),
    ]
    for number, (label, value) in enumerate(rows, start=3):
        _text(sheet, number, 1, label, font=HEADER_FONT)
        if isinstance(value, str):
            _text(sheet, number, 2, value)
        else:
            cell = sheet.cell(row=number, column=2, value=value)
            cell.number_format = (
                DATETIME_FORMAT if hasattr(value, "hour") else DATE_FORMAT
            )
            cell.alignment = Alignment(horizontal="left")
    narrative_row = len(rows) + 4
    _text(sheet, narrative_row, 1, _("Summary"), font=HEADER_FONT)
    _text(
        sheet,
        narrative_row,
        2,
        report.narrative,
        alignment=Alignment(wrap_text=True, vertical="top"),
    )
    sheet.row_dimensions[narrative_row].height = max(
        15, 15 * (len(report.narrative) // 70 + 1)
    )


def _breakdown(sheet, section: Section, period: str, previous: str) -> None:
    _header(
        sheet,
        [
            section.title,
            f"{period}: {section.count_heading}",
            f"{period}: " + _("Share, %"),
            f"{previous}: {section.count_heading}",
            f"{previous}: " + _("Share, %"),
            _("Code"),
        ],
    )
    for number, line in enumerate(section.lines, start=2):
        font = HEADER_FONT if line.is_total else None
        _text(sheet, number, 1, line.label, **({"font": font} if font else {}))
        _number(sheet, number, 2, line.count, COUNT_FORMAT)
        _number(sheet, number, 3, line.share, SHARE_FORMAT)
        _number(sheet, number, 4, line.previous_count, COUNT_FORMAT)
        _number(sheet, number, 5, line.previous_share, SHARE_FORMAT)
        _text(sheet, number, 6, line.code)


def _one_figure(line: Line) -> tuple:
    if line.unit == SCORE:
        return line.value, line.previous_value, SHARE_FORMAT
    if line.unit == PERCENT:
        return line.share, line.previous_share, SHARE_FORMAT
    return line.count, line.previous_count, COUNT_FORMAT


def _ratings(sheet, section: Section, period: str, previous: str) -> None:
    _header(sheet, [section.title, period, previous, _("Code")])
    for number, line in enumerate(section.lines, start=2):
        now, before, number_format = _one_figure(line)
        _text(sheet, number, 1, line.label)
        _number(sheet, number, 2, now, number_format)
        _number(sheet, number, 3, before, number_format)
        _text(sheet, number, 4, line.code)


def render(report: IntakeReport) -> bytes:
    language = report.language
    with translation.override(language):
        period = period_words(report.current.period, language)
        previous = period_words(report.previous.period, language)
        book = Workbook()
        taken: set[str] = set()
        summary = book.active
        summary.title = _sheet_title(_("Report"), taken)
        _summary(summary, report)
        for section in sections(report):
            sheet = book.create_sheet(_sheet_title(section.title, taken))
            if section.code == "ratings":
                _ratings(sheet, section, period, previous)
            else:
                _breakdown(sheet, section, period, previous)
        book.properties.title = _("Appeals received by the state bodies")
        book.properties.creator = "appeals-portal"
        out = io.BytesIO()
        book.save(out)
    return out.getvalue()
