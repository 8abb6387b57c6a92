"""The intake report as a value: figures for a period beside the same period a year
earlier. `reports.selectors.build_intake_report` fills it (in SQL); the renderers in
`reports.render` (PDF, XLSX, CSV) and `as_json()` draw it. Nothing here queries."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from portal.periods import Period


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: a stable code, its label in the report's language,
    the count and its share of the breakdown's total (one decimal, half up)."""

    code: str
    label: str
    count: int
    share: Decimal


@dataclass(frozen=True)
class Timeliness:
    answered_on_time: int
    answered_late: int
    open_overdue: int
    open_in_time: int


@dataclass(frozen=True)
class Ratings:
    """Citizens' ratings of answers (issue 9); empty until ratings exist."""

    count: int = 0
    average: Decimal | None = None
    addressed_share: Decimal | None = None  # per cent who said the answer addressed it


@dataclass(frozen=True)
class Block:
    """The figures of one period."""

    period: Period
    written_total: int
    oral_total: int
    by_channel: list[Row]  # written appeals; every channel, in the published order
    by_kind: list[Row] = field(default_factory=list)
    by_topic: list[Row] = field(default_factory=list)
    by_agency: list[Row] = field(default_factory=list)  # the lead agency routed to
    by_outcome: list[Row] = field(default_factory=list)
    timeliness: Timeliness | None = None
    ratings: Ratings = field(default_factory=Ratings)


@dataclass(frozen=True)
class IntakeReport:
    scope: str  # "all state bodies" or the agency's name, in the report's language
    agency_slug: str | None
    with_subordinates: bool
    language: str  # ky, ru or en
    current: Block
    previous: Block
    narrative: str  # the opening paragraph, in the report's language
    generated_at: dt.datetime

    def as_json(self) -> dict:
        """The structure of decisions.md and of shared/data/kattar-intake-2020q1.json:
        {"period", "previous", "periods": {label: BLOCK}}; shares are numbers."""

        def rows(items: list[Row]) -> dict:
            return {r.code: {"count": r.count, "share": float(r.share)} for r in items}

        def block(b: Block) -> dict:
            data = {
                "start": b.period.start.isoformat(),
                "end": b.period.end.isoformat(),
                "written_total": b.written_total,
                "oral_total": b.oral_total,
                "by_channel": rows(b.by_channel),
                "by_kind": rows(b.by_kind),
                "by_topic": rows(b.by_topic),
                "by_agency": rows(b.by_agency),
                "by_outcome": rows(b.by_outcome),
            }
            if b.timeliness is not None:
                data["timeliness"] = vars(b.timeliness).copy()
            data["ratings"] = {
                "count": b.ratings.count,
                "average": float(b.ratings.average) if b.ratings.average else None,
                "addressed_share": (
                    float(b.ratings.addressed_share)
                    if b.ratings.addressed_share is not None
                    else None
                ),
            }
            return data

        return {
            "period": self.current.period.label,
            "previous": self.previous.period.label,
            "scope": self.scope,
            "agency": self.agency_slug,
            "with_subordinates": self.with_subordinates,
            "language": self.language,
            "generated_at": self.generated_at.isoformat(),
            "narrative": self.narrative,
            "periods": {
                self.current.period.label: block(self.current),
                self.previous.period.label: block(self.previous),
            },
        }
