"""The journal: the register of incoming appeals of the agencies a member of staff may
see, filtered, page by page and for export.
"""

import datetime as dt
import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.db.models.functions import Reverse

from agencies.models import Agency
from appeals.models import (
    Appeal,
)
from appeals.register import matching
from appeals.register.permissions import journal_agencies
from portal import pagination

JOURNAL_PAGE_SIZE = 50


JOURNAL_PAGE_MAX = 200


# A number of our own registers ("GA-2026-000123") is looked up exactly; anything
# shorter ("000123", "2026-000123", an imported register's own style) by its ending.
_FULL_REGISTRATION_NUMBER = re.compile(r"^[A-Z][A-Z0-9]*-\d{4}-\d+$")


_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{1,19})$")


@dataclass(frozen=True)
class JournalFilters:
    """What the journal is narrowed to; field names match JournalFilterForm's."""

    received_from: dt.date | None = None
    received_to: dt.date | None = None
    channel: str = ""
    form: str = ""
    agency: Agency | None = None
    status: str = ""
    number: str = ""
    applicant: str = ""


@dataclass(frozen=True)
class JournalCursor:
    """The last row of a page: the next page starts strictly after it."""

    received_on: dt.date
    id: int

    def __str__(self) -> str:
        return f"{self.received_on.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, value: str | None) -> "JournalCursor | None":
        """`2026-03-05_1234` as written by str(); None for anything else."""
        match = _CURSOR.match((value or "").strip())
        if not match:
            return None
        try:
            received_on, last_id = dt.date.fromisoformat(match[1]), int(match[2])
        except ValueError:
            return None
        if not 0 < last_id <= pagination.MAX_ID:
            return None  # the database would refuse it as a bigint
        return cls(received_on, last_id)

    @classmethod
    def of(cls, appeal: Appeal) -> "JournalCursor":
        return cls(appeal.received_on, appeal.pk)


@dataclass(frozen=True)
class JournalPage:
    rows: list[Appeal]
    next_cursor: JournalCursor | None


def _journal_key(appeal: Appeal) -> tuple[dt.date, int]:
    return (appeal.received_on, appeal.pk)


def journal_agency_ids(*, user: AbstractBaseUser, filters: JournalFilters) -> list[int]:
    """The agencies whose journal is read: the user's own, narrowed by the filter.

    Every journal read goes through here, so nobody sees another agency's register,
    whatever the query string says.
    """
    allowed = journal_agencies(user)
    if filters.agency is not None:
        allowed = allowed.filter(pk=filters.agency.pk)
    return sorted(allowed.values_list("pk", flat=True))


def _journal_queryset(filters: JournalFilters) -> QuerySet[Appeal]:
    # Portal submissions not yet registered have no number and are not on the register.
    appeals = Appeal.objects.filter(registration_number__isnull=False)
    if filters.received_from:
        appeals = appeals.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        appeals = appeals.filter(received_on__lte=filters.received_to)
    if filters.channel:
        appeals = appeals.filter(channel=filters.channel)
    if filters.form:
        appeals = appeals.filter(form=filters.form)
    if filters.status:
        # appeal_journal_status_idx: (agency, status, received_on DESC, id DESC).
        appeals = appeals.filter(status=filters.status)
    number = filters.number.strip().upper()
    if number:
        if _FULL_REGISTRATION_NUMBER.match(number):
            appeals = appeals.filter(registration_number=number)  # the unique index
        else:
            # The number's end is the reversed number's beginning (LIKE '321000%'):
            # on PostgreSQL the b-tree appeal_number_suffix_idx (migration 0017)
            # answers it, whatever the length of the ending.
            appeals = appeals.alias(number_reversed=Reverse("registration_number"))
            appeals = appeals.filter(number_reversed__startswith=number[::-1])
    applicant = matching.name_key(filters.applicant)
    if applicant:
        # A prefix of the normalised name (LIKE 'key%'). At scale it is served by
        # appeal_journal_applicant_idx, (agency, applicant_name_key) with the
        # varchar_pattern_ops operator class: a plain b-tree under a non-C collation
        # cannot answer LIKE. A pg_trgm GIN index would also serve infix search.
        appeals = appeals.filter(applicant_name_key__startswith=applicant)
    return (
        appeals.select_related("registering_agency", "topic")
        # The journal never shows the long texts; an export reads millions of rows.
        .defer("text", "outcome_reason", "backdate_reason")
        .order_by("-received_on", "-id")
    )


def journal_page(
    *,
    user: AbstractBaseUser,
    filters: JournalFilters,
    after: JournalCursor | None = None,
    size: int = JOURNAL_PAGE_SIZE,
) -> JournalPage:
    """One page of the registration journal, newest first, and the cursor of the next.

    Keyset pagination: no OFFSET and no COUNT(*), so page 10,000 costs what page 1
    does. Each agency is read on its own, walking appeal_journal_idx (registering
    agency, received_on DESC, id DESC) from the cursor; the pages are merged here. One
    query per agency in scope, usually one, never one per row.
    """
    size = max(1, min(size, JOURNAL_PAGE_MAX))
    appeals = _journal_queryset(filters)
    if after is not None:
        appeals = pagination.seek(
            appeals,
            key="received_on",
            value=after.received_on,
            last_id=after.id,
            descending=True,
        )
    candidates: list[Appeal] = []
    for agency_id in journal_agency_ids(user=user, filters=filters):
        candidates.extend(appeals.filter(registering_agency_id=agency_id)[: size + 1])
    candidates.sort(key=_journal_key, reverse=True)
    rows = candidates[:size]
    more = len(candidates) > size
    return JournalPage(
        rows=rows, next_cursor=JournalCursor.of(rows[-1]) if more else None
    )


def journal_rows(
    *, user: AbstractBaseUser, filters: JournalFilters
) -> Iterator[Appeal]:
    """Every row of the filtered journal, newest first, for the exports.

    Streams: each agency's rows come in index order in chunks, and the streams are
    merged, so the database never sorts the whole register.
    """
    appeals = _journal_queryset(filters)
    streams = [
        _in_chunks(appeals.filter(registering_agency_id=agency_id))
        for agency_id in journal_agency_ids(user=user, filters=filters)
    ]
    return heapq.merge(*streams, key=_journal_key, reverse=True)


JOURNAL_EXPORT_CHUNK = 2000


def _in_chunks(appeals: QuerySet[Appeal]) -> Iterator[Appeal]:
    """The rows of `appeals` (newest first), read JOURNAL_EXPORT_CHUNK at a time, each
    chunk a short query of its own from the last row's key on (the journal's index).

    Not .iterator(): its server-side cursor outlives the query's transaction, which
    PgBouncer's transaction mode cannot keep (the next fetch may reach another server
    connection), and without one (DISABLE_SERVER_SIDE_CURSORS) psycopg would load an
    agency's whole register into memory before the first row.
    """
    after = None
    while True:
        chunk = appeals
        if after is not None:
            chunk = pagination.seek(
                appeals,
                key="received_on",
                value=after.received_on,
                last_id=after.pk,
                descending=True,
            )
        rows = list(chunk[:JOURNAL_EXPORT_CHUNK])
        yield from rows
        if len(rows) < JOURNAL_EXPORT_CHUNK:
            return
        after = rows[-1]
