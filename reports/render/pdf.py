"""The intake report as an A4 PDF (WeasyPrint through portal.pdf), in its language."""

import datetime as dt
import zoneinfo

from django.utils import formats, timezone, translation

from portal import pdf
from reports.report import IntakeReport

from .charts import report_charts
from .layout import display_tables, period_words

TEMPLATE = "reports/intake_report_pdf.html"
BISHKEK = zoneinfo.ZoneInfo("Asia/Bishkek")
# The year the Apparatus of the President became the Administration of the President.
OFFICE_RENAMED = dt.date(2021, 1, 1)


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
            # Until 2021 the President's Office was the Apparatus of the President:
            # a report that reaches back to then says why its published figures name
            # another body than the channel's label.
            "office_renamed": report.previous.period.start < OFFICE_RENAMED,
            # Kyrgyz and Russian papers write 01.04.2020 (as portal.periods does).
            "generated": formats.date_format(
                generated, "d.m.Y, H:i" if language in ("ky", "ru") else "j F Y, H:i"
            ),
        }


def render(
    report: IntakeReport, *, extra: dict | None = None, variant: str | None = None
) -> bytes:
    """`extra`: more for the template (an archived report's verification footer);
    `variant`: WeasyPrint's PDF variant (portal.pdf.ARCHIVAL for the archive)."""
    with translation.override(report.language):
        return pdf.render(
            TEMPLATE, {**context(report), **(extra or {})}, variant=variant
        )
