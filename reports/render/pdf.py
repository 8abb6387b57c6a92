"""The intake report as an A4 PDF (WeasyPrint through portal.pdf), in its language."""

import zoneinfo

from django.utils import formats, timezone, translation

from portal import pdf
from reports.report import IntakeReport

from . import PERCENT, SCORE, Line, Section, number, period_words, sections
from .charts import data_uri, report_charts

TEMPLATE = "reports/intake_report_pdf.html"
BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")
DASH = "—"


def _share(value, language: str) -> str:
    return DASH if value is None else number(value, language, 1)


def _cells(line: Line, language: str) -> list[str]:
    """The figures of a line as printed: count and share, then last year's."""
    return [
        number(line.count, language),
        _share(line.share, language),
        number(line.previous_count, language),
        _share(line.previous_share, language),
    ]


def _values(line: Line, language: str) -> list[str]:
    """One figure a period (the ratings): a count, a per cent or an average."""
    if line.unit == SCORE:
        return [_share(line.value, language), _share(line.previous_value, language)]
    if line.unit == PERCENT:
        return [_share(line.share, language), _share(line.previous_share, language)]
    return [number(line.count, language), number(line.previous_count, language)]


def _table(section: Section, language: str) -> dict:
    one_figure = section.code == "ratings"
    rows = [
        {
            "line": line,
            "cells": (_values if one_figure else _cells)(line, language),
        }
        for line in section.lines
    ]
    return {"section": section, "rows": rows}


def context(report: IntakeReport) -> dict:
    """What the template draws: every number already written the language's way."""
    language = report.language
    generated = timezone.localtime(report.generated_at, BISHKEK)
    with translation.override(language):
        tables = [_table(section, language) for section in sections(report)]
        return {
            "report": report,
            "period": period_words(report.current.period, language),
            "previous": period_words(report.previous.period, language),
            "tables": tables,
            "charts": {
                name: data_uri(svg) if svg else ""
                for name, svg in report_charts(report).items()
            },
            "generated": formats.date_format(generated, "j E Y, H:i"),
        }


def render(report: IntakeReport) -> bytes:
    with translation.override(report.language):
        return pdf.render(TEMPLATE, context(report))
