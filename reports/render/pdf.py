"""The intake report as an A4 PDF (WeasyPrint through portal.pdf), in its language."""

import zoneinfo

from django.utils import formats, timezone, translation

from portal import pdf
from reports.report import IntakeReport

from . import display_tables, period_words
from .charts import report_charts

TEMPLATE = "reports/intake_report_pdf.html"
BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")


def context(report: IntakeReport) -> dict:
    """What the template draws: every number already written the language's way."""
    language = report.language
    generated = timezone.localtime(report.generated_at, BISHKEK)
    with translation.override(language):
        return {
            "report": report,
            "period": period_words(report.current.period, language),
            "previous": period_words(report.previous.period, language),
            "tables": display_tables(report),
            "charts": report_charts(report),
            # Kyrgyz and Russian papers write 01.04.2020 (as portal.periods does).
            "generated": formats.date_format(
                generated, "d.m.Y, H:i" if language in ("ky", "ru") else "j F Y, H:i"
            ),
        }


def render(report: IntakeReport) -> bytes:
    with translation.override(report.language):
        return pdf.render(TEMPLATE, context(report))
