"""Renderers of the intake report: PDF, XLSX, CSV (each its own module, loaded when
asked for) and JSON (reports.render.layout, with what the renderers share)."""

from reports.report import IntakeReport

from .layout import render_json


def render(report: IntakeReport, fmt: str) -> bytes:
    """The report as a file in one of FORMATS."""
    # Each renderer is imported when asked for: WeasyPrint (pdf) and openpyxl (xlsx)
    # are heavy, and a command or worker that renders CSV never loads them.
    if fmt == "pdf":
        from .pdf import render as render_pdf

        return render_pdf(report)
    if fmt == "xlsx":
        from .xlsx import render as render_xlsx

        return render_xlsx(report)
    if fmt == "csv":
        from .csv import render as render_csv

        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    raise ValueError(f"unknown report format {fmt!r}")
