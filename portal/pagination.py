"""Keyset pagination: the next page starts after the last row's key, so page 10,000
costs what page 1 does (no OFFSET, no COUNT over the whole filter)."""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models import Q, QuerySet

# Row ids are bigint: a larger id in a cursor would fail in the database.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_cursor: str | None


def _encode(value) -> str:
    if isinstance(value, dt.datetime):
        return "t" + value.isoformat()
    if isinstance(value, dt.date):
        return "d" + value.isoformat()
    return "i" + str(value)


def _decode(text: str):
    kind, raw = text[:1], text[1:]
    if kind == "t":
        return dt.datetime.fromisoformat(raw)
    if kind == "d":
        return dt.date.fromisoformat(raw)
    if kind == "i":
        return int(raw)
    raise ValueError(f"unknown cursor kind {kind!r}")


class InvalidCursor(ValueError):
    """A cursor no list gave out: malformed, or of a key of another type."""


def decode_cursor(text: str, *, kind: type) -> tuple:
    """(key value, id) of a cursor of a list ordered by a key of type `kind`
    (dt.datetime, dt.date or int); InvalidCursor for anything cursor_of cannot have
    made for such a list."""
    value_text, tilde, id_text = text.rpartition("~")
    try:
        value, last_id = _decode(value_text), int(id_text)
    except (ValueError, OverflowError):
        raise InvalidCursor(text) from None
    if (
        not tilde
        or type(value) is not kind  # a datetime is a date too
        or (kind is dt.datetime and value.tzinfo is None)
        or (kind is int and abs(value) > MAX_ID)
        or not 0 < last_id <= MAX_ID
    ):
        raise InvalidCursor(text)
    return value, last_id


def _kind_of(queryset: QuerySet, key: str) -> type:
    field = queryset.model._meta.get_field(key)
    if isinstance(field, models.DateTimeField):
        return dt.datetime
    if isinstance(field, models.DateField):
        return dt.date
    return int


def seek(
    queryset: QuerySet, *, key: str, value, last_id: int, descending: bool = False
) -> QuerySet:
    """The rows strictly after (value, last_id) in (key, id) order, ascending or
    descending: the one keyset condition of every paged list (queues, inboxes,
    figures, the API's lists and the journal)."""
    if descending:
        # The `<=` is implied by the OR, but PostgreSQL only starts the index range
        # at the cursor with it; without it, it reads from the first row.
        return queryset.filter(**{f"{key}__lte": value}).filter(
            Q(**{f"{key}__lt": value}) | Q(**{key: value, "id__lt": last_id})
        )
    # Likewise the `>=`.
    return queryset.filter(**{f"{key}__gte": value}).filter(
        Q(**{f"{key}__gt": value}) | Q(**{key: value, "id__gt": last_id})
    )


def _from_cursor(queryset: QuerySet, key: str, after: str | None) -> QuerySet:
    """The rows ordered by (key, id), from after the cursor `after` on. A cursor this
    list cannot have given out starts from the beginning (the staff pages' links);
    the API refuses one before it gets here (decode_cursor)."""
    ordered = queryset.order_by(key, "id")
    if after:
        try:
            value, last_id = decode_cursor(after, kind=_kind_of(queryset, key))
        except InvalidCursor:
            return ordered
        ordered = seek(ordered, key=key, value=value, last_id=last_id)
    return ordered


def keyset_page(
    queryset: QuerySet, *, key: str, after: str | None = None, size: int = 50
) -> KeysetPage:
    """Rows ordered by (key, id) ascending, starting after the cursor `after`."""
    rows = list(_from_cursor(queryset, key, after)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows=rows, next_cursor=cursor_of(rows[-1], key) if more else None)


def keyset_keys(
    queryset: QuerySet, *, key: str, after: str | None = None, size: int = 50
) -> list[tuple]:
    """The (key, id) pairs of the next `size` + 1 rows, without the rows.

    For a filter a covering index answers, where PostgreSQL underestimates the
    matching rows and would fetch and sort all of them rather than walk the index in
    order: an agency's open appeals are nearly all recent, which per-column
    statistics cannot know (a deep inbox page at 10M appeals: 49 ms for the rows,
    0.2 ms for their keys). The caller reads the rows by id."""
    ordered = _from_cursor(queryset, key, after)
    return list(ordered.values_list(key, "id")[: size + 1])


def cursor_of(row, key: str) -> str:
    """The cursor of the page that starts after `row`."""
    return f"{_encode(getattr(row, key))}~{row.pk}"
