"""What the intake report's renderers share: the report laid out as sections of lines,
numbers in the language's format, file names; and the JSON rendering."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from portal.numbers import number, share
from portal.periods import period_title
from reports.report import Block, IntakeReport, Period, Row

FORMATS = ("pdf", "xlsx", "csv", "json")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
# What a line's numbers mean: appeals counted (with their share of the section), a
# per cent on its own, or an average rating. Renderers place and format them by it.
COUNT, PERCENT, SCORE = "count", "percent", "score"
DASH = "—"  # printed where a line has no share (oral appeals) or no figure yet


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    count: int | None = None
    share: Decimal | None = None
    previous_count: int | None = None
    previous_share: Decimal | None = None
    # Only for an average rating (unit SCORE): the average of the period, and last year's.
    value: Decimal | None = None
    previous_value: Decimal | None = None
    unit: str = COUNT
    is_total: bool = False


@dataclass(frozen=True)
class Section:
    code: str  # stable: by_channel, by_kind, ..., timeliness, ratings
    title: str  # in the report's language
    lines: list[Line]
    count_heading: str = ""  # what the count column counts, in the report's language


def period_words(period: Period, language: str) -> str:
    """The period in words ("I квартал 2020 года"), as portal.periods titles it."""
    return period_title(period, language)


def _paired(current: list[Row], previous: list[Row]) -> list[Line]:
    """The period's rows beside last year's, matched by code; a code that only one
    period has (an agency since dissolved, a new topic) gets zero in the other."""
    before = {row.code: row for row in previous}
    lines = []
    for row in current:
        old = before.pop(row.code, None)
        lines.append(
            Line(
                code=row.code,
                label=row.label,
                count=row.count,
                share=row.share,
                previous_count=old.count if old else 0,
                previous_share=old.share if old else Decimal("0.0"),
            )
        )
    for old in before.values():
        lines.append(
            Line(
                code=old.code,
                label=old.label,
                count=0,
                share=Decimal("0.0"),
                previous_count=old.count,
                previous_share=old.share,
            )
        )
    return lines


def _total(code: str, label: str, current: int, previous: int) -> Line:
    return Line(
        code=code,
        label=label,
        count=current,
        share=share(current, current),
        previous_count=previous,
        previous_share=share(previous, previous),
        is_total=True,
    )


TIMELINESS = ("answered_on_time", "answered_late", "open_overdue", "open_in_time")


def _timeliness(current: Block, previous: Block) -> list[Line]:
    if current.timeliness is None:
        return []
    labels = {
        "answered_on_time": _("Answered on time"),
        "answered_late": _("Answered late"),
        "open_overdue": _("Open and overdue"),
        "open_in_time": _("Open, not yet due"),
    }
    # Shares of the appeals that had a deadline (archival imports have none).
    now = vars(current.timeliness)
    before = vars(previous.timeliness) if previous.timeliness else {}
    now_total = sum(now.values())
    before_total = sum(before.values())
    return [
        Line(
            code=code,
            label=labels[code],
            count=now[code],
            share=share(now[code], now_total),
            previous_count=before.get(code, 0),
            previous_share=share(before.get(code, 0), before_total),
        )
        for code in TIMELINESS
    ]


def _ratings(current: Block, previous: Block) -> list[Line]:
    now, before = current.ratings, previous.ratings
    if not now.count and not before.count:
        return []
    return [
        Line(
            code="rated",
            label=_("Answers rated by citizens"),
            count=now.count,
            previous_count=before.count,
        ),
        Line(
            code="average",
            label=_("Average rating (1 to 5)"),
            value=now.average,
            previous_value=before.average,
            unit=SCORE,
        ),
        Line(
            code="addressed",
            label=_("Said the answer addressed their appeal, %"),
            share=now.addressed_share,
            previous_share=before.addressed_share,
            unit=PERCENT,
        ),
    ]


def sections(report: IntakeReport) -> list[Section]:
    """The report as sections of lines, titles and labels in the report's language.
    A breakdown with nothing in either period is left out."""
    current, previous = report.current, report.previous
    with translation.override(report.language):
        received = _("Received")
        result = [
            Section(
                "by_channel",
                _("Written appeals by channel"),
                [
                    *_paired(current.by_channel, previous.by_channel),
                    _total(
                        "written_total",
                        _("Written appeals, total"),
                        current.written_total,
                        previous.written_total,
                    ),
                    # One figure beside the written ones, as the chancellery
                    # publishes it; not part of the written total.
                    Line(
                        code="oral_total",
                        label=_("Oral appeals"),
                        count=current.oral_total,
                        previous_count=previous.oral_total,
                        is_total=True,
                    ),
                ],
                received,
            ),
        ]
        for code, title, now, before, heading in (
            ("by_kind", _("By kind"), current.by_kind, previous.by_kind, received),
            ("by_topic", _("By topic"), current.by_topic, previous.by_topic, received),
            (
                "by_agency",
                _("By agency routed to"),
                current.by_agency,
                previous.by_agency,
                received,
            ),
            (
                "by_outcome",
                _("By outcome"),
                current.by_outcome,
                previous.by_outcome,
                _("Appeals"),
            ),
        ):
            if now or before:
                result.append(Section(code, title, _paired(now, before), heading))
        timeliness = _timeliness(current, previous)
        if timeliness:
            result.append(
                Section("timeliness", _("Timeliness"), timeliness, _("Appeals"))
            )
        ratings = _ratings(current, previous)
        if ratings:
            result.append(Section("ratings", _("Citizens' ratings"), ratings))
    return result


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


def _display(section: Section, language: str) -> dict:
    one_figure = section.code == "ratings"
    rows = [
        {
            "line": line,
            "cells": (_values if one_figure else _cells)(line, language),
        }
        for line in section.lines
    ]
    return {"section": section, "rows": rows}


def display_tables(report: IntakeReport) -> list[dict]:
    """The sections with every figure written the report language's way, for the
    PDF and the managers' preview: [{"section", "rows": [{"line", "cells"}]}]."""
    with translation.override(report.language):
        return [_display(section, report.language) for section in sections(report)]


def scope_slug(report: IntakeReport) -> str:
    if not report.agency_slug:
        return "all"
    return report.agency_slug + ("-sub" if report.with_subordinates else "")


def filename(report: IntakeReport, fmt: str) -> str:
    """intake-2020-Q1-all-ky.pdf; a date range is written 2020-01-01_2020-02-15."""
    label = report.current.period.label.replace("..", "_")
    return f"intake-{label}-{scope_slug(report)}-{report.language}.{fmt}"


def render_json(report: IntakeReport) -> bytes:
    """The structure of decisions.md ("intake_report"), UTF-8, indented."""
    text = json.dumps(report.as_json(), ensure_ascii=False, indent=2)
    return (text + "\n").encode()
