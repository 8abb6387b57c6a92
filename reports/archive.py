"""The archive of published reports: each quarter's files for the government and
every agency, made once and never changed afterwards."""

import datetime as dt
import logging
from itertools import groupby

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from agencies.models import Agency
from appeals.models import IssuedDocument
from appeals.register import issuing
from portal.periods import parse_period, period_title
from portal.signing import SigningError

from . import selectors
from .models import ArchivedReport
from .render import render
from .render.layout import filename
from .report import Period

logger = logging.getLogger(__name__)

LANGUAGES = ("ky", "ru", "en")
FORMATS = (
    ArchivedReport.Format.PDF,
    ArchivedReport.Format.XLSX,
    ArchivedReport.Format.JSON,
)


def quarter_before(day: dt.date) -> str:
    """The label of the last quarter that ended before `day` (1 April → 2020-Q1)."""
    first_of_quarter = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last_day = first_of_quarter - dt.timedelta(days=1)
    return f"{last_day.year}-Q{(last_day.month - 1) // 3 + 1}"


def _keep(
    *,
    period: Period,
    agency: Agency | None,
    language: str,
    fmt: str,
    name: str,
    content: bytes,
    figures: dict,
) -> ArchivedReport | None:
    """Store one file and its figures; None when it is already there."""
    record = ArchivedReport(
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        agency=agency,
        language=language,
        format=fmt,
        figures=figures,
    )
    record.file.save(name, ContentFile(content), save=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # Another run archived the same report a moment earlier: theirs stays.
        record.file.delete(save=False)
        return None
    return record


def _keep_signed_pdf(
    *, period: Period, agency: Agency | None, report, figures: dict
) -> ArchivedReport | None:
    """The archived PDF: PDF/A with its verification code, signed by the agency's (or
    the portal's) certificate. When it cannot be signed it is not archived now (never
    unsigned): the next run fills what is missing."""
    # Imported here: WeasyPrint loads only where a PDF is made.
    from portal import pdf

    from .render.pdf import render as render_pdf

    document = issuing.reserve(
        kind=IssuedDocument.Kind.REPORT,
        agency=agency,
        registration_number=period.label,
        language=report.language,
    )
    content = render_pdf(
        report, extra=issuing.footer_context(document), variant=pdf.ARCHIVAL
    )
    try:
        signed = issuing.sign(document, content, store=lambda _signed: "")
    except SigningError:
        document.delete()
        logger.error("report %s was not archived as PDF: not signed", period.label)
        return None
    record = _keep(
        period=period,
        agency=agency,
        language=report.language,
        fmt=ArchivedReport.Format.PDF,
        name=filename(report, ArchivedReport.Format.PDF),
        content=signed,
        figures=figures,
    )
    if record is None:
        document.delete()
        return None
    document.file_name = record.file.name
    document.save(update_fields=["file_name"])
    return record


def archive_period(*, period: Period) -> list[ArchivedReport]:
    """Archive the period's reports (all state bodies, then each active agency; ky,
    ru, en; PDF, XLSX, JSON). What is archived already is skipped, never replaced,
    so running it again creates nothing new. Returns what it created."""
    created = []
    scopes = [None, *Agency.objects.filter(is_active=True).order_by("code")]
    for agency in scopes:
        for language in LANGUAGES:
            have = set(
                ArchivedReport.objects.filter(
                    period=period.label, agency=agency, language=language
                ).values_list("format", flat=True)
            )
            missing = [fmt for fmt in FORMATS if fmt not in have]
            if not missing:
                continue
            report = selectors.build_intake_report(
                period=period,
                agency_slug=agency.slug if agency else None,
                language=language,
            )
            figures = report.as_json()
            for fmt in missing:
                if fmt == ArchivedReport.Format.PDF:
                    record = _keep_signed_pdf(
                        period=period, agency=agency, report=report, figures=figures
                    )
                else:
                    record = _keep(
                        period=period,
                        agency=agency,
                        language=language,
                        fmt=fmt,
                        name=filename(report, fmt),
                        content=render(report, fmt),
                        figures=figures,
                    )
                if record is not None:
                    created.append(record)
    logger.info("archived %d report files for %s", len(created), period.label)
    return created


def archive_quarter(*, today: dt.date) -> list[ArchivedReport]:
    """Archive the quarter that ended before `today` (a Bishkek date)."""
    return archive_period(period=parse_period(quarter_before(today)))


def download_name(record: ArchivedReport) -> str:
    scope = record.agency.slug if record.agency_id else "all"
    label = record.period.replace("..", "_")
    return f"intake-{label}-{scope}-{record.language}.{record.format}"


def archived_periods(*, agency: Agency | None, language: str, limit: int = 12):
    """One scope's archive for the managers' page, newest period first:
    [{"period", "title", "files": {language: [ArchivedReport, ...]}}]."""
    records = (
        ArchivedReport.objects.filter(agency=agency)
        .order_by("-period_end", "period", "language", "format")
        .only("period", "period_start", "period_end", "language", "format", "agency")
    )
    labels = list(
        records.values_list("period", "period_start", "period_end")
        .order_by("-period_end", "period")
        .distinct()[:limit]
    )
    wanted = [label for label, _start, _end in labels]
    rows = []
    by_period = {
        key: list(group)
        for key, group in groupby(
            records.filter(period__in=wanted), key=lambda record: record.period
        )
    }
    for label, start, end in labels:
        files: dict[str, list[ArchivedReport]] = {code: [] for code in LANGUAGES}
        for record in by_period.get(label, []):
            files.setdefault(record.language, []).append(record)
        rows.append(
            {
                "period": label,
                "title": period_title(Period(label, start, end), language),
                "files": files,
            }
        )
    return rows
