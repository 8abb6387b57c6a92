import csv
import datetime as dt
import io
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from agencies.models import Agency, Membership, Topic
from appeals.intake import filing, registration
from appeals.views import journal as journal_views
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

User = get_user_model()
URL = "/en/staff/journal/"
CSV_URL = "/en/staff/journal/export.csv"
XLSX_URL = "/en/staff/journal/export.xlsx"
NUMBER = re.compile(r"\b[A-Z]{2}-\d{4}-\d{6}\b")


def _agency(code: str) -> Agency:
    return Agency.objects.create(
        slug=f"agency-{code.lower()}",
        code=code,
        name_ky=f"Мекеме {code}",
        name_ru=f"Ведомство {code}",
        name_en=f"Agency {code}",
    )


def _user(username: str, *memberships: tuple[Agency, str]):
    user = User.objects.create_user(username=username, password="x")
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def agency_a():
    return _agency("AA")


@pytest.fixture
def agency_b():
    return _agency("BB")


@pytest.fixture
def clerk_a(agency_a):
    return _user("clerk-a", (agency_a, "clerk"))


@pytest.fixture
def clerk_b(agency_b):
    return _user("clerk-b", (agency_b, "clerk"))


@pytest.fixture
def topic():
    return Topic.objects.create(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )


def _paper(
    agency,
    clerk,
    received_on: dt.date,
    *,
    name: str = "Асанов Бакыт",
    channel: str = "other",
    form: str = "written",
    topic=None,
):
    """A paper (or oral) appeal registered by the clerk, as the registration form does."""
    oral = form == "oral"
    appeal, _code = registration.register_paper_appeal(
        actor=clerk,
        agency=agency,
        channel="public_reception" if oral else channel,
        delivery="post" if channel == "other" and not oral else "",
        form=form,
        kind="complaint",
        applicant_name=name,
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө үч айдан бери жарык күйбөй жатат.",
        language="ky",
        received_at=timezone.make_aware(dt.datetime.combine(received_on, dt.time(10))),
        received_by=clerk if oral else None,
        topic=topic,
        cover_letter_number="12-3" if channel == "president_office" else "",
        cover_letter_date=received_on if channel == "president_office" else None,
    )
    return appeal


def _archival(agency, received_on: dt.date, name: str = "Сыдыкова Айгүл", **extra):
    """A closed record of an old register: the quickest way to a row."""
    return registration.import_archival_appeal(
        agency=agency,
        received_on=received_on,
        channel=extra.pop("channel", "other"),
        delivery=extra.pop("delivery", "post"),
        form="written",
        applicant_name=name,
        kind="statement",
        **extra,
    )


def _numbers(response) -> list[str]:
    """Registration numbers in the journal table, top to bottom."""
    html = response.content.decode()
    table = (
        html.split('id="journal-table"', 1)[1] if 'id="journal-table"' in html else ""
    )
    return NUMBER.findall(table)


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _xlsx_rows(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(response.content))
    return list(book.worksheets[0].iter_rows(values_only=True))


D = dt.date


# --- who sees it -----------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_log_in(client):
    for url in (URL, CSV_URL, XLSX_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/staff/login/" in response["Location"]


def test_user_without_a_journal_role_gets_403(client, agency_a):
    for user in (_user("citizen"), _user("executor", (agency_a, "executor"))):
        login_staff(client, user)
        for url in (URL, CSV_URL, XLSX_URL):
            assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["clerk", "controller", "manager", "head"])
def test_each_journal_role_opens_the_journal(client, agency_a, clerk_a, role):
    appeal = _archival(agency_a, D(2025, 3, 1))
    login_staff(client, _user(f"user-{role}", (agency_a, role)))
    response = client.get(URL)
    assert response.status_code == 200
    assert _numbers(response) == [appeal.registration_number]


def test_export_of_an_unknown_format_is_404(client, clerk_a):
    login_staff(client, clerk_a)
    assert client.get("/en/staff/journal/export.pdf").status_code == 404


def test_journal_shows_own_agency_newest_first_with_link_to_the_card(
    client, agency_a, clerk_a, topic
):
    older = _paper(agency_a, clerk_a, D(2026, 1, 10), topic=topic)
    newer = _paper(agency_a, clerk_a, D(2026, 1, 12))
    login_staff(client, clerk_a)
    response = client.get(URL)
    assert _numbers(response) == [newer.registration_number, older.registration_number]
    html = response.content.decode()
    assert f'href="/en/staff/appeals/{older.pk}/"' in html
    assert "Асанов Бакыт" in html and "Roads" in html
    assert "post" in html  # the delivery beside the channel


def test_portal_submission_not_yet_registered_is_not_in_the_journal(
    client, agency_a, clerk_a
):
    filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Токтогулов Нурлан",
        applicant_phone="+996 700 000 000",
        text="Көчөдөгү жарык күйбөй жатат, жардам бериңиздер.",
        language="ky",
        kind="complaint",
    )
    registered = _paper(agency_a, clerk_a, D(2026, 1, 10))
    login_staff(client, clerk_a)
    response = client.get(URL)
    assert _numbers(response) == [registered.registration_number]
    assert "Токтогулов" not in response.content.decode()


def test_staff_of_another_agency_see_nothing_of_it(
    client, agency_a, agency_b, clerk_a, clerk_b
):
    _paper(agency_a, clerk_a, D(2026, 1, 10), name="Асанов Бакыт")
    theirs = _archival(agency_b, D(2026, 1, 11), name="Бекова Жаркын")
    login_staff(client, clerk_b)
    assert _numbers(client.get(URL)) == [theirs.registration_number]
    csv_text = str(_csv_rows(client.get(CSV_URL)))
    xlsx_text = str(_xlsx_rows(client.get(XLSX_URL)))
    for text in (csv_text, xlsx_text):
        assert theirs.registration_number in text and "Бекова" in text
        assert "AA-" not in text and "Асанов" not in text
    # Naming the other agency in the query string does not help.
    response = client.get(URL, {"agency": "AA"})
    assert "Асанов" not in response.content.decode()
    assert "Асанов" not in str(_csv_rows(client.get(CSV_URL, {"agency": "AA"})))
    assert "Асанов" not in str(_xlsx_rows(client.get(XLSX_URL, {"agency": "AA"})))


def test_asking_for_an_agency_that_is_not_yours_is_refused(
    client, agency_a, agency_b, clerk_a
):
    _paper(agency_a, clerk_a, D(2026, 1, 10), name="Асанов Бакыт")
    manager = _user("manager-b", (agency_b, "manager"), (_agency("CC"), "head"))
    login_staff(client, manager)
    for url in (URL, CSV_URL, XLSX_URL):
        response = client.get(url, {"agency": "AA"})
        assert response.status_code == 400
        assert "Асанов" not in response.content.decode()


# --- filters ---------------------------------------------------------------------------


def test_filter_by_date_range_includes_both_ends(client, agency_a, clerk_a):
    rows = {day: _archival(agency_a, D(2026, 2, day)) for day in (1, 2, 3, 4, 5)}
    login_staff(client, clerk_a)
    response = client.get(
        URL, {"received_from": "2026-02-02", "received_to": "2026-02-04"}
    )
    assert _numbers(response) == [rows[d].registration_number for d in (4, 3, 2)]


def test_filter_with_the_end_before_the_beginning_is_an_error(client, clerk_a):
    login_staff(client, clerk_a)
    response = client.get(
        URL, {"received_from": "2026-02-05", "received_to": "2026-02-01"}
    )
    assert response.status_code == 400
    assert "before its beginning" in response.content.decode()


def test_filter_by_channel(client, agency_a, clerk_a):
    president = _paper(agency_a, clerk_a, D(2026, 1, 10), channel="president_office")
    _paper(agency_a, clerk_a, D(2026, 1, 11), channel="other")
    login_staff(client, clerk_a)
    response = client.get(URL, {"channel": "president_office"})
    assert _numbers(response) == [president.registration_number]


def test_filter_by_form(client, agency_a, clerk_a):
    oral = _paper(agency_a, clerk_a, D(2026, 1, 10), form="oral")
    _paper(agency_a, clerk_a, D(2026, 1, 11))
    login_staff(client, clerk_a)
    assert _numbers(client.get(URL, {"form": "oral"})) == [oral.registration_number]


def test_filter_by_status(client, agency_a, clerk_a):
    closed = _archival(agency_a, D(2025, 5, 1))
    registered = _paper(agency_a, clerk_a, D(2026, 1, 10))
    login_staff(client, clerk_a)
    assert _numbers(client.get(URL, {"status": "closed"})) == [
        closed.registration_number
    ]
    assert _numbers(client.get(URL, {"status": "registered"})) == [
        registered.registration_number
    ]


def test_filter_by_agency_for_staff_of_several(client, agency_a, agency_b, clerk_a):
    mine_a = _archival(agency_a, D(2026, 1, 10))
    mine_b = _archival(agency_b, D(2026, 1, 11))
    _archival(_agency("CC"), D(2026, 1, 12))
    head = _user("head", (agency_a, "head"), (agency_b, "manager"))
    login_staff(client, head)
    assert _numbers(client.get(URL)) == [
        mine_b.registration_number,
        mine_a.registration_number,
    ]
    assert _numbers(client.get(URL, {"agency": "AA"})) == [mine_a.registration_number]
    assert _numbers(client.get(URL, {"agency": "BB"})) == [mine_b.registration_number]


def test_filter_by_full_registration_number_is_exact(client, agency_a, clerk_a):
    first = _archival(agency_a, D(2026, 1, 10), registration_number="AA-2026-000123")
    _archival(agency_a, D(2026, 1, 11), registration_number="AA-2026-001123")
    login_staff(client, clerk_a)
    response = client.get(URL, {"number": "  aa-2026-000123 "})
    assert _numbers(response) == [first.registration_number]


def test_filter_by_number_without_year_matches_its_end(client, agency_a, clerk_a):
    this_year = _archival(
        agency_a, D(2026, 1, 10), registration_number="AA-2026-000123"
    )
    last_year = _archival(
        agency_a, D(2025, 1, 10), registration_number="AA-2025-000123"
    )
    _archival(agency_a, D(2026, 1, 11), registration_number="AA-2026-000124")
    login_staff(client, clerk_a)
    assert _numbers(client.get(URL, {"number": "000123"})) == [
        this_year.registration_number,
        last_year.registration_number,
    ]


def test_filter_by_a_short_number_ending_matches_it(client, agency_a, clerk_a):
    # Two characters: fewer than a trigram, so the index must not depend on them.
    ends_23 = _archival(agency_a, D(2026, 1, 10), registration_number="AA-2026-000123")
    also_23 = _archival(agency_a, D(2026, 1, 11), registration_number="AA-2026-000023")
    _archival(agency_a, D(2026, 1, 12), registration_number="AA-2026-000132")
    login_staff(client, clerk_a)
    assert _numbers(client.get(URL, {"number": "23"})) == [
        also_23.registration_number,
        ends_23.registration_number,
    ]


@pytest.mark.parametrize("pattern", ["%", "_", "%3", "_23"])
def test_filter_by_number_ending_takes_wildcards_literally(
    client, agency_a, clerk_a, pattern
):
    _archival(agency_a, D(2026, 1, 10), registration_number="AA-2026-000123")
    login_staff(client, clerk_a)
    response = client.get(URL, {"number": pattern})
    assert response.status_code == 200
    assert _numbers(response) == []


@pytest.mark.postgres
@pytest.mark.parametrize("ending", ["000123", "23", "3"])
def test_number_ending_is_read_from_the_suffix_index(agency_a, ending):
    from appeals.oversight.journal import JournalFilters, _journal_queryset

    queryset = (
        _journal_queryset(JournalFilters(number=ending))
        .select_related(None)
        .order_by()
        .only("pk")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = queryset.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "appeal_number_suffix_idx" in plan, plan


def test_filter_by_applicant_matches_the_beginning_of_the_name_in_any_case(
    client, agency_a, clerk_a
):
    asanov = _paper(agency_a, clerk_a, D(2026, 1, 10), name="Асанов Бакыт")
    asanova = _paper(agency_a, clerk_a, D(2026, 1, 11), name="АСАНОВА  Гүлнара")
    _paper(agency_a, clerk_a, D(2026, 1, 12), name="Бакыт Асанов")
    login_staff(client, clerk_a)
    assert _numbers(client.get(URL, {"applicant": "асанов"})) == [
        asanova.registration_number,
        asanov.registration_number,
    ]
    assert _numbers(client.get(URL, {"applicant": " асанов   бак"})) == [
        asanov.registration_number
    ]


# --- keyset pagination -----------------------------------------------------------------


def _walk(client, url, params) -> tuple[list[str], int]:
    """Follow "Next page" from the first page to the last: (numbers, pages)."""
    seen, pages = [], 0
    response = client.get(url, params)
    while True:
        pages += 1
        assert response.status_code == 200
        seen.extend(_numbers(response))
        match = re.search(r'href="(\?[^"]*)" rel="next"', response.content.decode())
        if not match:
            return seen, pages
        assert pages < 50
        response = client.get(url + match[1].replace("&amp;", "&"))


def test_pages_walk_every_row_exactly_once_in_order(client, agency_a, agency_b):
    head = _user("head", (agency_a, "head"), (agency_b, "head"))
    expected = []
    # Several rows on the same day in both agencies: the id breaks the tie.
    for i, day in enumerate([1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 5]):
        agency = agency_a if i % 2 else agency_b
        expected.append(_archival(agency, D(2026, 3, day)))
    expected.sort(key=lambda a: (a.received_on, a.pk), reverse=True)
    login_staff(client, head)
    seen, pages = _walk(client, URL, {"size": "3"})
    assert seen == [a.registration_number for a in expected]
    assert pages == 4


def test_pages_keep_the_filter(client, agency_a, clerk_a):
    wanted = [
        _archival(agency_a, D(2026, 3, d), channel="jogorku_kenesh", delivery="")
        for d in range(1, 6)
    ]
    for d in range(1, 6):
        _archival(agency_a, D(2026, 3, d))
    login_staff(client, clerk_a)
    seen, pages = _walk(client, URL, {"size": "2", "channel": "jogorku_kenesh"})
    assert sorted(seen) == sorted(a.registration_number for a in wanted)
    assert pages == 3


def test_next_page_link_only_when_there_is_one_more_row(client, agency_a, clerk_a):
    for d in (1, 2):
        _archival(agency_a, D(2026, 3, d))
    login_staff(client, clerk_a)
    html = client.get(URL, {"size": "2"}).content.decode()
    assert 'rel="next"' not in html and 'rel="first"' not in html
    html = client.get(URL, {"size": "1"}).content.decode()
    assert 'rel="next"' in html


def test_later_page_has_first_page_link_keeping_filter(client, agency_a, clerk_a):
    first = _archival(agency_a, D(2026, 3, 2))
    second = _archival(agency_a, D(2026, 3, 1))
    login_staff(client, clerk_a)
    cursor = f"2026-03-02_{first.pk}"
    response = client.get(URL, {"size": "1", "status": "closed", "after": cursor})
    assert _numbers(response) == [second.registration_number]
    html = response.content.decode()
    assert 'href="?status=closed&amp;size=1" rel="first"' in html
    assert 'href="/en/staff/journal/export.csv?status=closed"' in html


def test_a_malformed_cursor_shows_the_first_page(client, agency_a, clerk_a):
    row = _archival(agency_a, D(2026, 3, 2))
    login_staff(client, clerk_a)
    response = client.get(URL, {"after": "2026-13-45_x"})
    assert _numbers(response) == [row.registration_number]


def test_page_size_is_capped(client, agency_a, clerk_a, monkeypatch):
    monkeypatch.setattr("appeals.oversight.journal.JOURNAL_PAGE_MAX", 2)
    for d in (1, 2, 3):
        _archival(agency_a, D(2026, 3, d))
    login_staff(client, clerk_a)
    assert len(_numbers(client.get(URL, {"size": "1000"}))) == 2


def test_number_of_queries_does_not_grow_with_rows(
    client, agency_a, agency_b, topic, django_assert_max_num_queries
):
    head = _user("head", (agency_a, "head"), (agency_b, "clerk"))
    for d in (1, 2):
        _archival(agency_a, D(2026, 1, d))
    login_staff(client, head)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for d in range(1, 29):
        _paper(agency_b, head, D(2026, 2, d), topic=topic)
        _archival(agency_a, D(2026, 2, d))
    with django_assert_max_num_queries(len(few)):
        response = client.get(URL)
    assert len(_numbers(response)) == 50


# --- exports ---------------------------------------------------------------------------


def test_csv_has_bom_semicolons_header_and_the_filtered_rows(
    client, agency_a, clerk_a, topic
):
    wanted = _paper(
        agency_a, clerk_a, D(2026, 1, 10), channel="president_office", topic=topic
    )
    _paper(agency_a, clerk_a, D(2026, 1, 11))
    login_staff(client, clerk_a)
    response = client.get(CSV_URL, {"channel": "president_office"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().strftime("%Y%m%d")
    assert (
        response["Content-Disposition"] == f'attachment; filename="journal-{today}.csv"'
    )
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Registration number", "Date received"]
    assert rows[1:] == [
        [
            wanted.registration_number,
            "2026-01-10",
            "forwarded by the President's Office",
            "",
            "written",
            "complaint",
            "Асанов Бакыт",
            "Roads",
            "registered",
            "",
            "AA",
        ]
    ]


def test_csv_is_in_the_language_of_the_page(client, agency_a, clerk_a, topic):
    _paper(agency_a, clerk_a, D(2026, 1, 10), channel="president_office", topic=topic)
    login_staff(client, clerk_a)
    rows = _csv_rows(client.get("/ru/staff/journal/export.csv"))
    with translation.override("ru"):
        assert rows[0] == journal_views._header()
    assert "из Администрации Президента" in rows[1]
    assert "Дороги" in rows[1]


def test_csv_keeps_a_formula_like_name_as_text(client, agency_a, clerk_a):
    _paper(agency_a, clerk_a, D(2026, 1, 10), name='=HYPERLINK("http://x","y")')
    login_staff(client, clerk_a)
    rows = _csv_rows(client.get(CSV_URL))
    assert rows[1][6] == '\'=HYPERLINK("http://x","y")'
    xlsx = load_workbook(io.BytesIO(client.get(XLSX_URL).content))
    cell = xlsx.worksheets[0]["G2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_xlsx_has_header_rows_and_real_date_cells(client, agency_a, clerk_a):
    older = _archival(agency_a, D(2025, 12, 30), name="Бекова Жаркын")
    newer = _paper(agency_a, clerk_a, D(2026, 1, 10))
    login_staff(client, clerk_a)
    response = client.get(XLSX_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == journal_views.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Registration number"
    assert [row[0] for row in rows[1:]] == [
        newer.registration_number,
        older.registration_number,
    ]
    assert rows[2][6] == "Бекова Жаркын" and rows[2][8] == "closed"
    assert sheet["B2"].is_date
    assert rows[1][1].date() == D(2026, 1, 10)


def test_xlsx_past_its_limit_says_so_in_the_last_row(
    client, agency_a, clerk_a, monkeypatch
):
    monkeypatch.setattr(journal_views, "XLSX_MAX_ROWS", 2)
    for d in (1, 2, 3):
        _archival(agency_a, D(2026, 3, d))
    login_staff(client, clerk_a)
    rows = _xlsx_rows(client.get(XLSX_URL))
    assert len(rows) == 4  # header, two rows, the message
    assert "more than 2 appeals" in rows[-1][0]
    # The CSV streams everything.
    assert len(_csv_rows(client.get(CSV_URL))) == 4


def test_exports_of_several_agencies_are_merged_newest_first(
    client, agency_a, agency_b
):
    head = _user("head", (agency_a, "head"), (agency_b, "manager"))
    rows = [
        _archival(agency_a if d % 2 else agency_b, D(2026, 3, d)) for d in range(1, 7)
    ]
    login_staff(client, head)
    expected = [a.registration_number for a in reversed(rows)]
    assert [r[0] for r in _csv_rows(client.get(CSV_URL))[1:]] == expected
    assert [r[0] for r in _xlsx_rows(client.get(XLSX_URL))[1:]] == expected


def test_export_reads_in_keyset_chunks_and_loses_no_row_at_their_edges(
    client, agency_a, agency_b, monkeypatch
):
    from appeals.oversight import journal

    monkeypatch.setattr(journal, "JOURNAL_EXPORT_CHUNK", 2)
    head = _user("head", (agency_a, "head"), (agency_b, "manager"))
    # Several rows on one day: a chunk's edge falls between rows of the same date.
    days = [1, 1, 1, 2, 2, 3, 5, 5]
    rows = [
        _archival(agency_a if n % 3 else agency_b, D(2026, 3, d))
        for n, d in enumerate(days)
    ]
    login_staff(client, head)
    with CaptureQueriesContext(connection) as queries:
        exported = [r[0] for r in _csv_rows(client.get(CSV_URL))[1:]]
    expected = [
        a.registration_number
        for a in sorted(rows, key=lambda a: (a.received_on, a.pk), reverse=True)
    ]
    assert exported == expected
    # Agency A's 5 rows in 3 chunks and B's 3 in 2: no query reads more than a chunk.
    limited = [
        q["sql"]
        for q in queries
        if 'FROM "appeals_appeal"' in q["sql"] and q["sql"].endswith("LIMIT 2")
    ]
    assert len(limited) == 5, limited
