"""The intake report as CSV: one row a line of each section, for machines."""

import csv
import io

from reports.report import IntakeReport

from .layout import sections

# Codes, not translated words: the header is what a program reads. `label` carries
# the line's name in the report's language; `value` is the average rating, the one
# figure that is neither a count nor a share.
HEADER = [
    "section",
    "code",
    "label",
    "period",
    "count",
    "share",
    "value",
    "previous_period",
    "previous_count",
    "previous_share",
    "previous_value",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _figure(value) -> str:
    # A decimal point whatever the report's language (16.5, not 16,5): the file is for
    # programs, and `;` as delimiter keeps a spreadsheet from splitting on commas.
    return "" if value is None else str(value)


def _text(value: str) -> str:
    # Spreadsheets run a cell that starts like a formula; names are entered by people.
    return "'" + value if value.startswith(FORMULA_START) else value


def render(report: IntakeReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    period = report.current.period.label
    previous = report.previous.period.label
    for section in sections(report):
        for line in section.lines:
            writer.writerow(
                [
                    section.code,
                    line.code,
                    _text(line.label),
                    period,
                    _figure(line.count),
                    _figure(line.share),
                    _figure(line.value),
                    previous,
                    _figure(line.previous_count),
                    _figure(line.previous_share),
                    _figure(line.previous_value),
                ]
            )
    # With the BOM, Excel opens UTF-8 (Cyrillic) correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
