"""Keyset cursors: what cursor_of writes reads back; anything else is not a cursor."""

import datetime as dt

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.models import Appeal
from portal.pagination import (
    InvalidCursor,
    cursor_of,
    decode_cursor,
    keyset_page,
    seek,
)
from tests.factories import paper_appeal, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def appeals():
    clerk = staff_member("clerk")
    return [paper_appeal(clerk) for _ in range(3)]


def test_a_cursor_reads_back_as_written(appeals):
    appeal = appeals[0]
    assert decode_cursor(cursor_of(appeal, "received_at"), kind=dt.datetime) == (
        appeal.received_at,
        appeal.pk,
    )
    assert decode_cursor(cursor_of(appeal, "received_on"), kind=dt.date) == (
        appeal.received_on,
        appeal.pk,
    )
    agency = Agency.objects.get(slug="gov-apparatus")
    assert decode_cursor(cursor_of(agency, "pk"), kind=int) == (agency.pk, agency.pk)


@pytest.mark.parametrize(
    ("cursor", "kind"),
    [
        ("garbage", dt.datetime),
        ("", dt.datetime),
        ("~", dt.datetime),
        ("t2026-13-45T00:00:00+00:00~1", dt.datetime),
        ("t2026-01-05T10:00:00~1", dt.datetime),  # no time zone: not ours
        ("t2026-01-05T10:00:00+00:00~x", dt.datetime),
        ("t2026-01-05T10:00:00+00:00~0", dt.datetime),
        (f"t2026-01-05T10:00:00+00:00~{2**63}", dt.datetime),  # beyond bigint
        ("d2026-01-05~1", dt.datetime),  # a date where a moment belongs
        ("t2026-01-05T10:00:00+00:00~1", dt.date),
        ("i1~2", dt.datetime),
        (f"i{2**70}~2", int),
        ("x1~2", int),
    ],
)
def test_anything_else_is_not_a_cursor(cursor, kind):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, kind=kind)


@pytest.mark.parametrize(
    "cursor", ["garbage", "i1~2", f"t2026-01-05T10:00:00+00:00~{2**70}"]
)
def test_a_staff_list_given_a_foreign_cursor_starts_from_the_beginning(appeals, cursor):
    """The staff pages' links carry the cursor in `after`: a hand-edited one shows
    the first page rather than an error."""
    page = keyset_page(Appeal.objects.all(), key="registered_at", after=cursor, size=2)
    assert [a.pk for a in page.rows] == [a.pk for a in appeals[:2]]
    assert page.next_cursor == cursor_of(appeals[1], "registered_at")


def test_a_cursor_continues_after_its_row(appeals):
    after = cursor_of(appeals[0], "registered_at")
    page = keyset_page(Appeal.objects.all(), key="registered_at", after=after)
    assert [a.pk for a in page.rows] == [a.pk for a in appeals[1:]]
    assert timezone.is_aware(decode_cursor(after, kind=dt.datetime)[0])


@pytest.mark.parametrize("descending", [False, True])
def test_seek_walks_ties_on_the_key_by_id_either_way(descending):
    """Rows sharing the key's value are split between pages by id, in both
    directions: the journal reads newest first, the queues oldest first."""
    clerk = staff_member("clerk")
    same_day = [paper_appeal(clerk) for _ in range(4)]
    Appeal.objects.filter(pk__in=[a.pk for a in same_day]).update(
        received_on=dt.date(2026, 3, 2)
    )
    order = ("-received_on", "-id") if descending else ("received_on", "id")
    everything = list(Appeal.objects.order_by(*order).values_list("pk", flat=True))
    middle = Appeal.objects.get(pk=everything[1])
    rest = seek(
        Appeal.objects.order_by(*order),
        key="received_on",
        value=middle.received_on,
        last_id=middle.pk,
        descending=descending,
    )
    assert list(rest.values_list("pk", flat=True)) == everything[2:]
