"""Measuring the current model on a file of appeals whose competent agency is known
(CSV in UTF-8 with `,` or `;`, or XLSX, first sheet): columns `text`, `agency` (the
agency's slug) and optionally `topic` (the topic's code). Every row is checked first;
errors are `line N: reason`, as import_appeals reports them, and nothing is measured.
"""

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from agencies.models import Agency, Topic
from appeals.suggestions import model

REQUIRED = ("text", "agency")
OPTIONAL = ("topic",)
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"  # fixed format; the reason translated


class EvaluationFileError(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Rows:
    texts: list[str]
    agencies: list[int]
    topics: list[int | None]
    has_topic: bool


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value).strip()


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open("rb") as file:
        is_xlsx = file.read(4) == _XLSX_MAGIC
    if is_xlsx:
        from openpyxl import load_workbook  # only XLSX files pay for it

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises zipfile, XML and its own errors alike
            raise EvaluationFileError(
                [RowError(1, _("the file is not a readable XLSX workbook"))]
            ) from None
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield line, [_cell(cell) for cell in cells]
        finally:
            workbook.close()
        return
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            first = file.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            file.seek(0)
            reader = csv.reader(file, delimiter=delimiter)
            start = 1
            for cells in reader:
                line, start = start, reader.line_num + 1
                yield line, [cell.strip() for cell in cells]
    except UnicodeDecodeError:
        raise EvaluationFileError(
            [
                RowError(
                    1, _("the file is not UTF-8 text; save it as “CSV UTF-8” or XLSX")
                )
            ]
        ) from None
    except csv.Error as error:
        raise EvaluationFileError(
            [RowError(1, _("the CSV cannot be read: %(error)s") % {"error": error})]
        ) from None


def read(path: str | Path) -> Rows:
    """The file's rows with the agencies' and topics' ids; EvaluationFileError with
    every error found when the header or any row is wrong."""
    lines = _lines(Path(path))
    first = next(lines, None)
    if first is None:
        raise EvaluationFileError([RowError(1, _("the file is empty"))])
    header = [name.strip() for name in first[1]]
    while header and not header[-1]:
        header.pop()
    errors = []
    for name in header:
        if name not in REQUIRED + OPTIONAL:
            errors.append(
                RowError(
                    1,
                    _("unknown column “%(column)s”; the columns are %(columns)s")
                    % {"column": name, "columns": ", ".join(REQUIRED + OPTIONAL)},
                )
            )
    for name in REQUIRED:
        if name not in header:
            errors.append(
                RowError(
                    1, _("required column “%(column)s” is missing") % {"column": name}
                )
            )
    if errors:
        raise EvaluationFileError(errors)
    agencies = dict(Agency.objects.values_list("slug", "pk"))
    topics = dict(Topic.objects.values_list("code", "pk"))
    has_topic = "topic" in header
    rows = Rows(texts=[], agencies=[], topics=[], has_topic=has_topic)
    for line, cells in lines:
        if not any(cells):
            continue
        before = len(errors)
        values = dict(zip(header, cells, strict=False))
        text = values.get("text", "")
        slug = values.get("agency", "")
        code = values.get("topic", "")
        if not text:
            errors.append(RowError(line, _("the text is empty")))
        if not slug:
            errors.append(RowError(line, _("the agency is missing")))
        elif slug not in agencies:
            errors.append(
                RowError(line, _("unknown agency “%(slug)s”") % {"slug": slug})
            )
        if code and code not in topics:
            errors.append(
                RowError(line, _("unknown topic “%(code)s”") % {"code": code})
            )
        if len(errors) == before:
            rows.texts.append(text)
            rows.agencies.append(agencies[slug])
            rows.topics.append(topics[code] if code else None)
    if errors:
        raise EvaluationFileError(errors)
    if not rows.texts:
        raise EvaluationFileError([RowError(2, _("the file has no appeals"))])
    return rows


def evaluate(
    bundle: model.Bundle, rows: Rows
) -> tuple[model.Figures, model.Figures | None]:
    """The agency's figures on every row; the topic's on the rows that name one (None
    when the file has no topic column or the model no topic classifier)."""
    matrix = bundle.features.transform(rows.texts)
    agency = model.figures(bundle, rows.texts, rows.agencies, matrix=matrix)
    topic = None
    if rows.has_topic and bundle.topic is not None:
        with_topic = [row for row, value in enumerate(rows.topics) if value is not None]
        topic = model.figures(
            bundle,
            [rows.texts[row] for row in with_topic],
            [rows.topics[row] for row in with_topic],
            which="topic",
            matrix=matrix[with_topic],
        )
    return agency, topic
