"""The inbox read at scale (issue 11): lead and co-executor parts on their own
indexes, one page merged from both, the tab counts from aggregates."""

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import routing, worklists
from appeals.intake import registration
from appeals.models import Appeal, Assignment, Status
from tests.factories import AgencyFactory, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def health():
    return AgencyFactory(slug="min-health", code="MZ")


@pytest.fixture
def labour():
    return AgencyFactory(slug="min-labour", code="MT")


@pytest.fixture
def people(health, labour):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
        "labour_head": staff_member("head", labour),
    }


def _routed(people, *, lead, co=()):
    appeal, _ = registration.register_paper_appeal(
        actor=people["clerk"],
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="president_office",
        form="written",
        kind="complaint",
        applicant_name="Иванова Мария",
        applicant_email="maria@example.kg",
        text="Третий месяц не выплачивают пособие.",
        language="ru",
        received_at=timezone.now(),
    )
    routing.route_appeal(
        appeal_id=appeal.pk, actor=people["controller"], lead=lead, co_executors=co
    )
    return Appeal.objects.get(pk=appeal.pk)


def _tab(user, agency, tab):
    return {a.pk for a in worklists.inbox_queryset(user=user, agency=agency, tab=tab)}


def test_head_sees_appeals_led_and_co_executed_in_new_then_in_progress(
    people, health, labour
):
    led = _routed(people, lead=health)
    helped = _routed(people, lead=labour, co=[health])
    assert _tab(people["head"], health, "new") == {led.pk, helped.pk}
    routing.assign_executor(
        appeal_id=led.pk, actor=people["head"], executor=people["executor"]
    )
    assert _tab(people["head"], health, "new") == {helped.pk}
    assert _tab(people["head"], health, "in_progress") == {led.pk}
    Assignment.objects.filter(appeal=helped, agency=health).update(
        executor=people["executor"]
    )
    assert _tab(people["head"], health, "in_progress") == {led.pk, helped.pk}
    assert _tab(people["labour_head"], labour, "new") == {helped.pk}


def test_closed_appeals_leave_the_inbox_though_their_assignments_stay_active(
    people, health, labour
):
    led = _routed(people, lead=health, co=[labour])
    Appeal.objects.filter(pk=led.pk).update(status=Status.CLOSED, outcome="explained")
    assert Assignment.objects.filter(appeal=led, is_active=True).count() == 2
    assert _tab(people["head"], health, "new") == set()
    assert _tab(people["labour_head"], labour, "new") == set()


def test_counts_equal_the_tabs_for_heads_and_executors(people, health, labour):
    first = _routed(people, lead=health)
    _routed(people, lead=health)
    _routed(people, lead=labour, co=[health])
    routing.assign_executor(
        appeal_id=first.pk, actor=people["head"], executor=people["executor"]
    )
    today = timezone.localdate()
    Appeal.objects.filter(pk=first.pk).update(due_on=today - timezone.timedelta(1))
    for user in (people["head"], people["executor"]):
        counts = worklists.inbox_counts(user=user, agency=health)
        assert counts == {
            tab: len(_tab(user, health, tab)) for tab in worklists.INBOX_TABS
        }
    assert worklists.inbox_counts(user=people["head"], agency=health) == {
        "new": 2,
        "in_progress": 1,
        "due_soon": 0,
        "overdue": 1,
    }


def test_pages_merge_lead_and_co_executed_in_registration_order(people, health, labour):
    appeals = [
        _routed(people, lead=health)
        if n % 2
        else _routed(people, lead=labour, co=[health])
        for n in range(7)
    ]
    seen, after = [], None
    while True:
        page = worklists.inbox_page(
            user=people["head"], agency=health, tab="new", after=after, size=3
        )
        seen.extend(appeal.pk for appeal in page.rows)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == [appeal.pk for appeal in appeals]


def test_the_inbox_page_costs_the_same_queries_and_cache_reads_however_many_rows(
    client, people, health, labour, django_assert_num_queries, monkeypatch
):
    # Session, user, second-factor device, memberships (read once for the menu, the
    # agency list and every role check), the keys of the page's two parts and its
    # rows by id, the counts (one sum of the inbox counts on PostgreSQL, an aggregate
    # per part elsewhere): eight or nine, with 1 row or 12; the topics of the filter
    # come from the cache after the first page. The working days left of every row come from one calendar, so one
    # edition look-up in the cache.
    from appeals.deadlines import calendar as deadlines
    from tests.helpers import login_staff, using_postgres

    login_staff(client, people["head"])
    edition_reads = []
    current = deadlines._current_edition
    monkeypatch.setattr(
        deadlines,
        "_current_edition",
        lambda: edition_reads.append(1) or current(),
    )
    _routed(people, lead=health)
    client.get("/en/staff/inbox/", {"tab": "new"})  # the topics' choices cached
    for rows, more in ((1, 0), (12, 11)):
        for n in range(more):  # led and co-executed ones
            lead, co = (health, []) if n % 2 else (labour, [health])
            _routed(people, lead=lead, co=co)
        edition_reads.clear()
        with django_assert_num_queries(8 if using_postgres() else 9):
            response = client.get("/en/staff/inbox/", {"tab": "new"})
        assert response.status_code == 200
        assert response.content.count(b'href="/en/staff/inbox/') >= rows
        assert len(edition_reads) == 1


def test_keyset_keys_are_the_keys_of_the_keyset_pages(people, health):
    from portal.pagination import keyset_keys, keyset_page

    for _n in range(5):
        _routed(people, lead=health)
    part = Appeal.objects.filter(lead_agency=health, status=Status.ROUTED)
    after, pages = None, []
    while True:
        page = keyset_page(part, key="registered_at", after=after, size=2)
        keys = keyset_keys(part, key="registered_at", after=after, size=2)
        assert [pk for _at, pk in keys[:2]] == [appeal.pk for appeal in page.rows]
        assert (len(keys) > 2) == (page.next_cursor is not None)
        pages.append(len(page.rows))
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == [2, 2, 1]
