"""Registers kept before the portal, imported as archival appeals: parse, check, write.

`parse` reads a CSV or XLSX file into raw rows, `validate` checks every row and collects
every error (nothing is written), `import_rows` writes the checked rows in one
transaction: all of them or none. Numbers come from the registers' counters
(numbering.reserve_registration_numbers / note_registration_number), so imported and
registered appeals share one gap-free register per agency and year.
"""

import csv
import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from agencies.models import Agency
from appeals.models import Appeal, Channel, Delivery, Event, Form, Kind, Status
from appeals.register import codes, matching, numbering

REQUIRED_COLUMNS = ("received_on", "channel", "form", "agency", "applicant")
OPTIONAL_COLUMNS = ("delivery", "kind", "text", "registration_number")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

MAX_APPLICANT = Appeal._meta.get_field("applicant_name").max_length  # 300
MAX_TEXT = 10_000
MAX_REGISTRATION_NUMBER = Appeal._meta.get_field("registration_number").max_length

BATCH_SIZE = 5_000
PROGRESS_EVERY = 10_000
_LOOKUP_CHUNK = 2_000  # numbers per `IN (...)` query; well under SQLite's limit

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# CODE-YYYY-NNNNNN, the shape numbering.format_registration_number gives; at most nine
# digits, so the sequence always fits the counter's integer column.
_REGISTER_NUMBER = re.compile(r"^([A-Z][A-Z0-9]{0,9})-([0-9]{4})-([0-9]{1,9})$")
_XLSX_MAGIC = b"PK\x03\x04"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RawRow:
    """One data line of the file: its line number and its cells by column name."""

    line: int
    values: dict[str, str | dt.date]
    extra_values: int = 0  # non-empty cells beyond the header's columns


@dataclass(frozen=True)
class ImportRow:
    """A checked row, ready to be written."""

    line: int
    received_on: dt.date
    channel: str
    delivery: str
    form: str
    agency: Agency
    kind: str
    applicant: str
    text: str
    registration_number: str


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        # The "line N:" prefix is a fixed, machine-readable format (decisions.md);
        # only the reason is translated.
        return f"line {self.line}: {self.reason}"


class ImportFileError(Exception):
    """The file cannot be read, or its header is wrong: no row can be checked."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


# --- Parsing ----------------------------------------------------------------------


def parse(path: str | Path) -> Iterator[RawRow]:
    """The data rows of a CSV (UTF-8, `,` or `;`) or XLSX (first sheet) file.

    Raises ImportFileError (on the first `next()`) when the file cannot be read or its
    header is not line 1 with the known column names. Fully empty lines are skipped.
    """
    path = Path(path)
    with path.open("rb") as file:
        is_xlsx = file.read(4) == _XLSX_MAGIC
    if is_xlsx or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _parse_xlsx(path)
    return _parse_csv(path)


def _parse_csv(path: Path) -> Iterator[RawRow]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            first_line = file.readline()
            # The header names hold neither character: the header tells which is used.
            delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
            file.seek(0)
            reader = csv.reader(file, delimiter=delimiter)
            try:
                header = next(reader, None)
                if header is None:
                    raise ImportFileError([RowError(1, _("the file is empty"))])
                columns = _check_header(header)
                start = reader.line_num + 1
                for cells in reader:
                    # A quoted text may span lines: a row is named by its first line.
                    line, start = start, reader.line_num + 1
                    row = _row(line, columns, cells)
                    if row is not None:
                        yield row
            except csv.Error as exc:
                raise ImportFileError(
                    [
                        RowError(
                            reader.line_num,
                            _("the CSV cannot be read: %(error)s") % {"error": exc},
                        )
                    ]
                ) from None
    except UnicodeDecodeError:
        raise ImportFileError(
            [
                RowError(
                    _first_line_not_utf8(path),
                    _("the file is not UTF-8 text; save it as “CSV UTF-8” or XLSX"),
                )
            ]
        ) from None


def _first_line_not_utf8(path: Path) -> int:
    # The decoder reads ahead in blocks, so its error does not say which line.
    with path.open("rb") as file:
        for line, data in enumerate(file, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return line
    return 1


def _parse_xlsx(path: Path) -> Iterator[RawRow]:
    from openpyxl import load_workbook  # only imports that read XLSX pay for it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zipfile, XML and its own errors alike
        raise ImportFileError(
            [RowError(1, _("the file is not a readable XLSX workbook"))]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # Some programs write a wrong sheet size; reading without it loses no row.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError([RowError(1, _("the first sheet is empty"))])
        columns = _check_header([_cell_text(cell) for cell in header])
        date_at = columns.index("received_on")
        for line, cells in enumerate(rows, start=2):
            # Dates may be date cells or ISO text; every other cell is read as text.
            texts = [
                _date_cell(cell) if position == date_at else _cell_text(cell)
                for position, cell in enumerate(cells)
            ]
            row = _row(line, columns, texts)
            if row is not None:
                yield row
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a spreadsheet cell: 500.0 → 500
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value).strip()


def _date_cell(value: object) -> str | dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _cell_text(value)


def _check_header(header: Sequence[str]) -> list[str]:
    names = [name.strip() for name in header]
    while names and not names[-1]:
        names.pop()  # a trailing separator or empty spreadsheet cells
    errors = []
    seen = set()
    for position, name in enumerate(names, start=1):
        if not name:
            errors.append(
                _("column %(position)d of the header has no name")
                % {"position": position}
            )
        elif name not in COLUMNS:
            errors.append(
                _("unknown column “%(column)s”; the columns are %(columns)s")
                % {"column": name, "columns": ", ".join(COLUMNS)}
            )
        elif name in seen:
            errors.append(_("column “%(column)s” appears twice") % {"column": name})
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append(
                _("required column “%(column)s” is missing") % {"column": name}
            )
    if errors:
        raise ImportFileError([RowError(1, reason) for reason in errors])
    return names


def _row(line: int, columns: list[str], cells: Sequence) -> RawRow | None:
    cells = [cell.strip() if isinstance(cell, str) else cell for cell in cells]
    if not any(cells):
        return None
    values: dict[str, str | dt.date] = dict.fromkeys(COLUMNS, "")
    values.update(zip(columns, cells, strict=False))
    # A missing trailing cell reads as empty; extra values are reported by validate().
    extra = sum(1 for cell in cells[len(columns) :] if cell)
    return RawRow(line=line, values=values, extra_values=extra)


# --- Validation -------------------------------------------------------------------


def validate(
    rows: Iterable[RawRow],
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> tuple[list[ImportRow], list[RowError]]:
    """Check every row; nothing is written. Returns the good rows and every error.

    Registration numbers are checked against the register and within the file.
    """
    rows = rows if isinstance(rows, Sequence) else list(rows)
    today = today or timezone.localdate()
    agencies = {agency.slug: agency for agency in Agency.objects.all()}
    taken = _numbers_in_register(
        {row.values["registration_number"] for row in rows}
        - {""}  # a set of str: the column is text in both formats
    )
    first_line_of: dict[str, int] = {}
    good: list[ImportRow] = []
    errors: list[RowError] = []
    for done, raw in enumerate(rows, start=1):
        reasons, row = _check_row(raw, agencies=agencies, today=today)
        number = raw.values["registration_number"]
        if number:
            if number in taken:
                reasons.append(
                    _("registration number %(number)s is already in the register")
                    % {"number": number}
                )
            elif number in first_line_of:
                reasons.append(
                    _("registration number %(number)s repeats line %(line)d")
                    % {"number": number, "line": first_line_of[number]}
                )
            else:
                first_line_of[number] = raw.line
        if reasons:
            errors.extend(RowError(raw.line, reason) for reason in reasons)
        else:
            good.append(row)
        if progress and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))
    return good, errors


def _numbers_in_register(numbers: set[str]) -> set[str]:
    # A number with a NUL character is refused by the row check; PostgreSQL could not
    # even compare it.
    numbers = sorted(number for number in numbers if "\x00" not in number)
    taken: set[str] = set()
    for start in range(0, len(numbers), _LOOKUP_CHUNK):
        taken.update(
            Appeal.objects.filter(
                registration_number__in=numbers[start : start + _LOOKUP_CHUNK]
            ).values_list("registration_number", flat=True)
        )
    return taken


@functools.cache
def _choice_values(choices: type) -> frozenset[str]:
    # `Choices.values` builds a new list on every read: 4 reads a row cost more than
    # the rest of the row's check together.
    return frozenset(choices.values)


def _choice(
    values: dict, column: str, choices: type, reasons: list[str], *, required: bool
) -> str:
    value = values[column]
    if not value:
        if required:
            reasons.append(_("%(column)s is empty") % {"column": column})
        return ""
    if value not in _choice_values(choices):
        reasons.append(
            _("unknown %(column)s “%(value)s”; expected one of %(choices)s")
            % {"column": column, "value": value, "choices": ", ".join(choices.values)}
        )
        return ""
    return value


def _check_row(
    raw: RawRow, *, agencies: dict[str, Agency], today: dt.date
) -> tuple[list[str], ImportRow | None]:
    values = raw.values
    reasons: list[str] = []
    # PostgreSQL cannot store a NUL character in text: refuse it here, by column.
    nul_columns = [
        name
        for name, value in values.items()
        if isinstance(value, str) and "\x00" in value
    ]
    if nul_columns:
        return [
            _("column %(column)s contains a NUL character") % {"column": name}
            for name in nul_columns
        ], None
    if raw.extra_values:
        reasons.append(
            _("%(count)d values beyond the last column of the header")
            % {"count": raw.extra_values}
        )

    received_on = _date(values["received_on"], reasons)
    if received_on and received_on > today:
        reasons.append(
            _("received_on %(date)s is in the future") % {"date": received_on}
        )
    channel = _choice(values, "channel", Channel, reasons, required=True)
    delivery = _choice(values, "delivery", Delivery, reasons, required=False)
    if delivery and channel and channel != Channel.OTHER:
        reasons.append(
            _("delivery is only given for channel “other”, not “%(channel)s”")
            % {"channel": channel}
        )
    form = _choice(values, "form", Form, reasons, required=True)
    kind = _choice(values, "kind", Kind, reasons, required=False)

    agency = None
    if not values["agency"]:
        reasons.append(_("%(column)s is empty") % {"column": "agency"})
    else:
        agency = agencies.get(values["agency"])
        if agency is None:
            reasons.append(
                _("no agency with slug “%(slug)s”") % {"slug": values["agency"]}
            )

    applicant = values["applicant"]
    if not applicant:
        reasons.append(_("%(column)s is empty") % {"column": "applicant"})
    for column, limit in (
        ("applicant", MAX_APPLICANT),
        ("text", MAX_TEXT),
        ("registration_number", MAX_REGISTRATION_NUMBER),
    ):
        if len(values[column]) > limit:
            reasons.append(
                _("%(column)s is longer than %(limit)d characters")
                % {"column": column, "limit": limit}
            )
    if reasons:
        return reasons, None
    return reasons, ImportRow(
        line=raw.line,
        received_on=received_on,
        channel=channel,
        delivery=delivery,
        form=form,
        agency=agency,
        kind=kind,
        applicant=applicant,
        text=values["text"],
        registration_number=values["registration_number"],
    )


def _date(value: str | dt.date, reasons: list[str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not value:
        reasons.append(_("%(column)s is empty") % {"column": "received_on"})
        return None
    if _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    reasons.append(
        _("received_on “%(value)s” is not a date written as YYYY-MM-DD")
        % {"value": value}
    )
    return None


# --- Writing ----------------------------------------------------------------------


def import_rows(
    rows: Sequence[ImportRow], *, source: str, progress: Progress | None = None
) -> int:
    """Write checked rows as closed, imported appeals with their history: all or none.

    Kept numbers move their registers' counters first, then the missing numbers are
    reserved, so a generated number never equals a kept one, in this file or later.
    """
    return _import_rows(
        rows,
        source=source,
        progress=progress,
        copy=connection.vendor == "postgresql",
    )


def _import_rows(
    rows: Sequence[ImportRow],
    *,
    source: str,
    progress: Progress | None,
    copy: bool,
) -> int:
    total = len(rows)
    write = _CopyWriter() if copy else _OrmWriter()
    zone = timezone.get_default_timezone()
    received_at: dict[dt.date, dt.datetime] = {}  # by day: make_aware is not free
    with transaction.atomic():
        numbers = _numbers(rows)
        imported_at = timezone.now()
        for start in range(0, total, BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            appeals = []
            for row in batch:
                day = row.received_on
                if day not in received_at:
                    # An old register keeps the day only: 09:00, the office opening.
                    received_at[day] = timezone.make_aware(
                        dt.datetime.combine(day, dt.time(9)), zone
                    )
                appeals.append(
                    {
                        "access_code_hash": "",  # archival: no citizen holds a code
                        "registration_number": numbers[row.line],
                        "registering_agency_id": row.agency.pk,
                        "registered_at": received_at[day],
                        "channel": row.channel,
                        "delivery": row.delivery,
                        "form": row.form,
                        "kind": row.kind,
                        "status": Status.CLOSED.value,
                        "received_at": received_at[day],
                        "received_on": day,
                        "closed_at": received_at[day],
                        "is_imported": True,
                        **matching.applicant_fields(name=row.applicant),
                        "text": row.text,
                    }
                )
            _write_batch(write, batch, appeals, source=source, at=imported_at)
            done = start + len(batch)
            if progress and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
    return total


TRACKING_ATTEMPTS = 5


def _write_batch(write, batch, appeals: list[dict], *, source: str, at) -> None:
    """A batch's appeals and their history, with random tracking numbers.

    The numbers are unique by the constraint alone (no look-up first: at ten million
    appeals the look-ups were 1.5 s of an import of 100,000): on the rare clash with
    an existing number the batch is rolled back to its savepoint and written again
    with new numbers. Any other clash is the caller's error and goes up.
    """
    for attempt in range(1, TRACKING_ATTEMPTS + 1):
        # Each attempt's numbers overwrite the last one's.
        for number, appeal in zip(
            codes.new_tracking_numbers(len(appeals)), appeals, strict=True
        ):
            appeal["tracking_number"] = number
        try:
            with transaction.atomic():
                ids = write.appeals(appeals)
                write.events(
                    {
                        "appeal_id": appeal_id,
                        "type": Event.Type.IMPORTED.value,
                        "actor_id": None,
                        "at": at,
                        "is_public": False,
                        "data": {
                            "registration_number": appeal["registration_number"],
                            "source": source,
                            "line": row.line,
                        },
                    }
                    for appeal_id, appeal, row in zip(ids, appeals, batch, strict=True)
                )
            return
        except IntegrityError as error:
            if not _is_tracking_clash(error) or attempt == TRACKING_ATTEMPTS:
                raise


def _is_tracking_clash(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)  # psycopg's: the constraint's name
    if diag is not None:
        return diag.constraint_name == "appeals_appeal_tracking_number_key"
    return str(error).endswith("appeals_appeal.tracking_number")  # SQLite's message


class _OrmWriter:
    """bulk_create: every database Django supports."""

    def appeals(self, values: list[dict]) -> list[int]:
        appeals = Appeal.objects.bulk_create(
            [Appeal(**row) for row in values], batch_size=BATCH_SIZE
        )
        return [appeal.pk for appeal in appeals]

    def events(self, values: Iterable[dict]) -> None:
        Event.objects.bulk_create(
            [Event(**row) for row in values], batch_size=BATCH_SIZE
        )


class _CopyWriter:
    """PostgreSQL's COPY, with ids drawn from the table's sequence beforehand.

    Twice as fast as bulk_create here (no SQL to compile, no parameter arrays to
    encode): 100,000 rows in about 16 s instead of 32 s beside the appeal table's
    twenty indexes, a trigram index on the text among them (bench/import_appeals.py).
    Fields the import does not set take their model defaults, read from an unsaved
    instance, so a field added later is filled as bulk_create would fill it; a test
    on PostgreSQL compares the two writers.
    """

    def __init__(self) -> None:
        self.now = timezone.now()

    def appeals(self, values: list[dict]) -> list[int]:
        ids = self._ids(Appeal, len(values))
        pk = Appeal._meta.pk.attname
        self._copy(
            Appeal,
            ({pk: id_, **row} for id_, row in zip(ids, values, strict=True)),
            with_pk=True,
        )
        return ids

    def events(self, values: Iterable[dict]) -> None:
        self._copy(Event, values, json=("data",))

    def _ids(self, model, count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                "FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def _copy(
        self,
        model,
        rows: Iterable[dict],
        *,
        with_pk: bool = False,
        json: tuple[str, ...] = (),
    ) -> None:
        # The primary key is copied when drawn beforehand, else the column's default.
        fields = [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key or with_pk
        ]
        template = model()
        defaults = {}
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(
                field, "auto_now_add", False
            ):
                defaults[field.attname] = self.now
            elif not field.primary_key:
                defaults[field.attname] = field.get_db_prep_save(
                    getattr(template, field.attname), connection
                )
        names = [field.attname for field in fields]
        quote = connection.ops.quote_name
        sql = "COPY {table} ({columns}) FROM STDIN".format(
            table=quote(model._meta.db_table),
            columns=", ".join(quote(field.column) for field in fields),
        )
        # The psycopg cursor's copy() is not wrapped by Django: wrap its errors so a
        # clash raises django.db.IntegrityError, as bulk_create would.
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.copy(sql) as copy,
        ):
            for row in rows:
                for name in json:
                    row[name] = Jsonb(row[name])
                copy.write_row(
                    [row[name] if name in row else defaults[name] for name in names]
                )


def _numbers(rows: Sequence[ImportRow]) -> dict[int, str]:
    """Every row's registration number by line: kept, or the register's next one."""
    # The highest kept number of each register (agency code, year), read from the
    # number itself: a kept GA-2019-000500 moves GA's 2019 counter whatever row it is on.
    highest: dict[tuple[str, int], tuple[int, str]] = {}
    missing: dict[tuple[Agency, int], list[int]] = defaultdict(list)
    numbers: dict[int, str] = {}
    for row in rows:
        if row.registration_number:
            numbers[row.line] = row.registration_number
            match = _REGISTER_NUMBER.match(row.registration_number)
            if match:
                key = (match[1], int(match[2]))
                sequence = int(match[3])
                if key not in highest or sequence > highest[key][0]:
                    highest[key] = (sequence, row.registration_number)
        else:
            missing[(row.agency, row.received_on.year)].append(row.line)
    by_code = {
        agency.code: agency
        for agency in Agency.objects.filter(code__in={code for code, _y in highest})
    }
    registers: dict[tuple[int, int], tuple[Agency, int]] = {}
    for code, year in highest:
        if code in by_code:
            registers[(by_code[code].pk, year)] = (by_code[code], year)
    for agency, year in missing:
        registers[(agency.pk, year)] = (agency, year)
    # One register at a time, in a fixed order (counters are row-locked until commit,
    # so two imports never wait on each other crosswise); noted before reserved.
    for key in sorted(registers):
        agency, year = registers[key]
        if (agency.code, year) in highest:
            numbering.note_registration_number(
                agency=agency, year=year, number=highest[(agency.code, year)][1]
            )
        lines = missing.get((agency, year))
        if lines:
            reserved = numbering.reserve_registration_numbers(
                agency=agency, year=year, count=len(lines)
            )
            numbers.update(zip(lines, reserved, strict=True))
    return numbers
