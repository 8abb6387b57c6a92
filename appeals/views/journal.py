"""The registration journal of the staff workspace: the filtered register of the user's
own agencies, paged by keyset, and its export to CSV and XLSX."""

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from agencies.models import Membership
from appeals.forms import JournalFilterForm
from appeals.models import Appeal
from appeals.oversight import journal as register_journal
from appeals.register import permissions
from portal.replica import heavy_reads_stream

Role = Membership.Role
JOURNAL_ROLES = (Role.CLERK, Role.CONTROLLER, Role.MANAGER, Role.HEAD)

# An XLSX is built in memory and Excel stops at 1,048,576 rows anyway; past this the
# sheet says so in its last row. The CSV streams and has no limit.
XLSX_MAX_ROWS = 200_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheets run a cell that starts like a formula; citizens write the names.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _filter_form(request: HttpRequest) -> JournalFilterForm:
    agencies = permissions.journal_agencies(request.user).order_by("code")
    return JournalFilterForm(request.GET, agencies=agencies)


def _filter_params(form: JournalFilterForm) -> dict[str, str]:
    """The filter as typed, for links that must keep it (pages, exports)."""
    return {
        name: form.data[name].strip()
        for name in form.fields
        if form.data.get(name, "").strip()
    }


def _page_size(request: HttpRequest) -> int | None:
    """`?size=` when given, within 1..JOURNAL_PAGE_MAX; else None for the default."""
    try:
        size = int(request.GET.get("size", ""))
    except ValueError:
        return None
    return max(1, min(size, register_journal.JOURNAL_PAGE_MAX))


def _journal_page(request: HttpRequest, form: JournalFilterForm) -> HttpResponse:
    params = _filter_params(form)
    size = _page_size(request)
    paging = {**params, **({"size": size} if size else {})}
    after = register_journal.JournalCursor.parse(request.GET.get("after"))
    context = {
        "filter_form": form,
        "rows": [],
        "is_filtered": bool(params),
        "after": after,
        "first_url": f"?{urlencode(paging)}" if paging else request.path,
        "next_url": None,
        "export_query": urlencode(params),
    }
    status = 200
    if form.is_valid():
        page = register_journal.journal_page(
            user=request.user,
            filters=register_journal.JournalFilters(**form.cleaned_data),
            after=after,
            size=size or register_journal.JOURNAL_PAGE_SIZE,
        )
        context["rows"] = page.rows
        # A manager reads the journal but opens no appeal: those rows link nowhere.
        context["openable"] = permissions.viewable_appeal_ids(
            request.user, (appeal.pk for appeal in page.rows)
        )
        if page.next_cursor:
            context["next_url"] = "?" + urlencode(
                {**paging, "after": str(page.next_cursor)}
            )
    else:
        status = 400
    return render(request, "staff/journal.html", context, status=status)


@never_cache
@permissions.role_required(*JOURNAL_ROLES)
@require_GET
def journal(request: HttpRequest) -> HttpResponse:
    return _journal_page(request, _filter_form(request))


def _header() -> list[str]:
    return [
        _("Registration number"),
        _("Date received"),
        _("Channel"),
        _("Delivery method"),
        _("Form"),
        _("Kind"),
        _("Applicant"),
        _("Topic"),
        _("Status"),
        _("Outcome"),
        _("Registering agency"),
    ]


class _RowValues:
    """Journal rows as cell values in one language.

    The labels are looked up once per export: get_FOO_display() per cell translates
    every choice again and made a large export several times slower.
    """

    CHOICE_FIELDS = ("channel", "delivery", "form", "kind", "status", "outcome")

    def __init__(self, language: str):
        self.language = language
        with translation.override(language):
            self.labels = {
                name: {
                    value: str(label)
                    for value, label in Appeal._meta.get_field(name).flatchoices
                }
                for name in self.CHOICE_FIELDS
            }
        self.topics: dict[int, str] = {}

    def _label(self, appeal: Appeal, name: str) -> str:
        value = getattr(appeal, name)
        return self.labels[name].get(value, value)

    def _topic(self, appeal: Appeal) -> str:
        if appeal.topic is None:
            return ""
        if appeal.topic_id not in self.topics:
            with translation.override(self.language):
                self.topics[appeal.topic_id] = appeal.topic.name
        return self.topics[appeal.topic_id]

    def __call__(self, appeal: Appeal) -> list:
        return [
            appeal.registration_number,
            appeal.received_on,
            self._label(appeal, "channel"),
            self._label(appeal, "delivery"),
            self._label(appeal, "form"),
            self._label(appeal, "kind"),
            appeal.applicant_name,
            self._topic(appeal),
            self._label(appeal, "status"),
            self._label(appeal, "outcome"),
            appeal.registering_agency.code,
        ]


def _csv_text(value) -> str:
    if not isinstance(value, str):
        return value.isoformat() if value else ""
    # A leading apostrophe keeps a spreadsheet from running "=..." as a formula.
    return "'" + value if value.startswith(FORMULA_START) else value


class _Echo:
    """csv.writer's file: hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(
    rows: Iterable[Appeal], header: list[str], language: str
) -> Iterator[str]:
    # ";" rather than ",": Excel in ru/ky locales (decimal comma) splits on ";", so the
    # file opens in columns with a double click. The BOM makes Excel read it as UTF-8.
    writer = csv.writer(_Echo(), delimiter=";")
    # The response streams after the view returned: the language is passed along.
    values = _RowValues(language)
    yield "\ufeff" + writer.writerow(header)
    for appeal in rows:
        yield writer.writerow([_csv_text(value) for value in values(appeal)])


def _xlsx_cell(sheet, value):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            # Text that looks like a formula stays text.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value
    if value:  # a date: a real date cell, which Excel sorts and filters as a date
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return None


def _xlsx_bytes(rows: Iterable[Appeal], header: list[str], language: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Registration journal")[:31])
    widths = (18, 12, 28, 18, 12, 12, 30, 24, 16, 22, 10)
    for letter, width in zip("ABCDEFGHIJK", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header)
    values = _RowValues(language)
    written = 0
    for appeal in rows:
        if written == XLSX_MAX_ROWS:
            sheet.append(
                [
                    _(
                        "The filter matches more than %(limit)s appeals; only the "
                        "first %(limit)s are in this file. Narrow the filter or "
                        "download the CSV, which has every row."
                    )
                    % {"limit": f"{XLSX_MAX_ROWS:,}".replace(",", " ")}
                ]
            )
            break
        sheet.append([_xlsx_cell(sheet, value) for value in values(appeal)])
        written += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@never_cache
@permissions.role_required(*JOURNAL_ROLES)
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form = _filter_form(request)
    if not form.is_valid():
        return _journal_page(request, form)
    # Personal data leaves the system here (applicants' names). Issue 10 logs who
    # opened which citizen's data: record this export (user, filter, row count) here.
    # Read on the replica when there is one, chunk by chunk as the file streams.
    rows = heavy_reads_stream(
        register_journal.journal_rows(
            user=request.user,
            filters=register_journal.JournalFilters(**form.cleaned_data),
        )
    )
    filename = f"journal-{timezone.localdate():%Y%m%d}.{fmt}"
    language = translation.get_language()
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(rows, _header(), language),
            content_type="text/csv; charset=utf-8",
        )
    else:
        response = HttpResponse(
            _xlsx_bytes(rows, _header(), language), content_type=XLSX_CONTENT_TYPE
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
