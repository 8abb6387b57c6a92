"""The figures page of controllers and heads: the figures on a known data set built
through the services (with the clock set to each moment), the trend, the sort, the
lists behind the numbers, and who sees what."""

import datetime as dt
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import answering, letters, routing
from appeals.deadlines.calendar import BISHKEK
from appeals.intake import registration
from appeals.models import ReReview
from appeals.oversight import figures as dashboard
from portal.periods import parse_period
from tests.factories import AgencyFactory, staff_member
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

ANSWER = "Проверка проведена: пособие будет выплачено до конца месяца вместе с долгом."
Q2 = "2026-Q2"  # the period of the data set; Q1 is the one before it


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=BISHKEK)


@contextmanager
def clock(moment: dt.datetime):
    """Every service call inside runs at `moment` (timestamps, deadlines, "today").

    timezone.now is looked up when called, except where a model field took it as its
    default when the class was built (ReReview.requested_at): that one is set too.
    """
    requested_at = ReReview._meta.get_field("requested_at")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        patch.setattr(requested_at, "_get_default", lambda: moment, raising=False)
        yield


class World:
    """The known data set: two ministries, their people, and appeals in Q1 and Q2."""

    def __init__(self):
        self.apparatus = Agency.objects.get(slug="gov-apparatus")
        self.health = AgencyFactory(slug="min-health", code="MZ", name_en="Health")
        self.labour = AgencyFactory(slug="min-labour", code="MT", name_en="Labour")
        self.clerk = staff_member("clerk")
        self.controller = staff_member("controller")
        self.people = {
            self.health: (
                staff_member("head", self.health),
                staff_member("executor", self.health),
            ),
            self.labour: (
                staff_member("head", self.labour),
                staff_member("executor", self.labour),
            ),
        }
        self.appeals = {}

    def register(self, name: str, moment: dt.datetime, repeat_of: str | None = None):
        with clock(moment):
            appeal, _ = registration.register_paper_appeal(
                actor=self.clerk,
                agency=self.apparatus,
                channel="public_reception",
                form="written",
                kind="complaint",
                applicant_name=f"Заявитель {name}",
                applicant_email=f"{name.lower()}@example.kg",
                text=f"Обращение {name}: прошу разобраться с начислением пособия.",
                language="ru",
                received_at=moment,
                repeat_of=self.appeals[repeat_of] if repeat_of else None,
            )
        self.appeals[name] = appeal
        return appeal

    def route(self, name: str, lead: Agency, moment: dt.datetime) -> None:
        with clock(moment):
            routing.route_appeal(
                appeal_id=self.appeals[name].pk, actor=self.controller, lead=lead
            )

    def answer(
        self, name: str, lead: Agency, moment: dt.datetime, outcome: str = "explained"
    ) -> None:
        head, executor = self.people[lead]
        pk = self.appeals[name].pk
        with clock(moment):
            routing.assign_executor(appeal_id=pk, actor=head, executor=executor)
            answering.save_answer_draft(
                appeal_id=pk, actor=executor, text=ANSWER, outcome=outcome, submit=True
            )
            answering.approve_answer(appeal_id=pk, actor=head)

    def give_back(self, name: str, lead: Agency, moment: dt.datetime) -> None:
        with clock(moment):
            routing.return_appeal(
                appeal_id=self.appeals[name].pk,
                actor=self.people[lead][0],
                reason="Не относится к компетенции министерства.",
            )

    def re_review(self, name: str, moment: dt.datetime) -> None:
        with clock(moment):
            answering.request_re_review(
                appeal_id=self.appeals[name].pk, reason="Ответ не отвечает на вопрос."
            )

    def rate(self, name: str, score: int, moment: dt.datetime) -> None:
        with clock(moment):
            answering.rate_answer(
                appeal_id=self.appeals[name].pk, score=score, addressed=score > 3
            )

    def numbers(self, *names: str) -> set[str]:
        return {self.appeals[name].registration_number for name in names}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Seven staff members a test: the default hasher would take most of its time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(monkeypatch):
    # The answer letter (WeasyPrint, its own tests) is not what is counted here.
    monkeypatch.setattr(letters, "render_answer_letter", lambda **kw: b"%PDF-1.4\n")
    w = World()
    # Q1: two appeals answered within days, one rated.
    w.register("P1", at(2, 2))
    w.route("P1", w.health, at(2, 2, 11))
    w.answer("P1", w.health, at(2, 4))
    w.rate("P1", 3, at(2, 5))
    w.register("P2", at(2, 9))
    w.route("P2", w.labour, at(2, 9, 11))
    w.answer("P2", w.labour, at(2, 12), outcome="supported")

    # Q2.
    # A1: answered on time, rated 2, re-review asked and upheld, rated 5.
    w.register("A1", at(4, 6))
    w.route("A1", w.health, at(4, 6, 11))
    w.answer("A1", w.health, at(4, 8), outcome="not_supported")
    w.rate("A1", 2, at(4, 10))
    w.re_review("A1", at(4, 12))
    w.route("A1", w.health, at(4, 13))
    w.answer("A1", w.health, at(4, 20), outcome="supported")
    w.rate("A1", 5, at(4, 22))
    # A2: answered late.
    w.register("A2", at(4, 7))
    w.route("A2", w.health, at(4, 7, 11))
    w.answer("A2", w.health, at(6, 15))
    # A3: labour returns it, health has it in progress and it is overdue now.
    w.register("A3", at(4, 8))
    w.route("A3", w.labour, at(4, 8, 11))
    w.give_back("A3", w.labour, at(4, 9))
    w.route("A3", w.health, at(4, 10))
    # A4: a repeat of P1, answered by labour and rated 4.
    w.register("A4", at(5, 4), repeat_of="P1")
    w.route("A4", w.labour, at(5, 4, 11))
    w.answer("A4", w.labour, at(5, 6), outcome="supported")
    w.rate("A4", 4, at(5, 8))
    # A5: never routed, overdue in the controllers' queue.
    w.register("A5", at(5, 5))
    # A6: answered by labour, re-review asked, waiting for a controller.
    w.register("A6", at(6, 1))
    w.route("A6", w.labour, at(6, 1, 11))
    w.answer("A6", w.labour, at(6, 3), outcome="not_supported")
    w.re_review("A6", at(6, 5))
    return w


def figures(period: str = Q2, **kwargs) -> dict:
    return dashboard.figures_of_period(
        period=parse_period(period), today=timezone.localdate(), **kwargs
    )


EXPECTED_GOVERNMENT = {
    "received": 6,  # A1-A6
    "repeated_count": 1,
    "repeated": Decimal("16.7"),
    "answered": 3,  # A1 (after the re-review), A2, A4; A6 is open again
    "on_time": 2,  # A2 is late
    "overdue": 3,  # A3 with health, A5 and A6 waiting for a controller
    "median_days": Decimal("14.0"),  # 2, 14, 69
    "returned": 1,
    "re_reviews": 2,
    "upheld": 1,
    "rating": Decimal("3.7"),  # 2, 5, 4
    "ratings": 3,
}
EXPECTED_HEALTH = {
    "received": 3,  # A1, A2, A3 (routed to health after labour returned it)
    "repeated": Decimal("0.0"),
    "answered": 2,
    "on_time": 1,
    "overdue": 1,
    "median_days": Decimal("41.5"),  # 14, 69
    "returned": 0,
    "re_reviews": 1,
    "upheld": 1,
    "rating": Decimal("3.5"),
}
EXPECTED_LABOUR = {
    "received": 2,  # A4, A6
    "repeated": Decimal("50.0"),
    "answered": 1,
    "on_time": 1,
    "overdue": 0,  # A6 waits for a controller, not for labour
    "median_days": Decimal("2.0"),
    "returned": 1,
    "re_reviews": 1,
    "upheld": 0,
    "rating": Decimal("4.0"),
}


def _subset(values: dict, expected: dict) -> dict:
    return {key: values[key] for key in expected}


def test_figures_of_the_whole_government(world):
    values = figures(agency_ids=None, by_agency=False)[None]
    assert _subset(values, EXPECTED_GOVERNMENT) == EXPECTED_GOVERNMENT


def test_figures_per_agency_are_of_the_lead_agency(world):
    rows = figures(agency_ids=None, by_agency=True)
    assert _subset(rows[world.health.pk], EXPECTED_HEALTH) == EXPECTED_HEALTH
    assert _subset(rows[world.labour.pk], EXPECTED_LABOUR) == EXPECTED_LABOUR
    one = figures(agency_ids=[world.health.pk], by_agency=False)[None]
    assert _subset(one, EXPECTED_HEALTH) == EXPECTED_HEALTH


def test_figures_of_the_period_before(world):
    values = figures("2026-Q1", agency_ids=None, by_agency=False, with_now=False)[None]
    expected = {
        "received": 2,
        "answered": 2,
        "on_time": 2,
        "median_days": Decimal("2.5"),  # 2 and 3 days
        "rating": Decimal("3.0"),
    }
    assert _subset(values, expected) == expected
    assert values["overdue"] is None  # "now" belongs to no past period


@pytest.mark.postgres
def test_median_is_percentile_cont_on_postgresql(world):
    from django.db import connection

    assert connection.vendor == "postgresql"
    _SQL.clear()
    with connection.execute_wrapper(_record_sql):
        values = figures(agency_ids=None, by_agency=True)
    assert any("percentile_cont(0.5) WITHIN GROUP" in sql for sql in _SQL)
    assert values[world.health.pk]["median_days"] == Decimal("41.5")
    assert values[world.labour.pk]["median_days"] == Decimal("2.0")


_SQL: list[str] = []


def _record_sql(execute, sql, params, many, context):
    _SQL.append(sql)
    return execute(sql, params, many, context)


def test_figures_take_a_few_queries_whatever_the_number_of_appeals(
    world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        figures(agency_ids=None, by_agency=True)


# --- Periods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "preceding"),
    [
        ("2026-Q3", "2026-Q2"),
        ("2026-Q1", "2025-Q4"),
        ("2026-H1", "2025-H2"),
        ("2026-H2", "2026-H1"),
        ("2026", "2025"),
        ("2026-9M", "2025-04-01..2025-12-31"),
        ("2026-03-01..2026-03-10", "2026-02-19..2026-02-28"),
    ],
)
def test_the_trend_compares_with_the_preceding_period_of_the_same_length(
    label, preceding
):
    assert dashboard.preceding_period(parse_period(label)).label == preceding


def test_the_default_period_is_the_current_quarter_so_far():
    period = dashboard.default_period(dt.date(2026, 8, 14))
    assert (period.start, period.end) == (dt.date(2026, 7, 1), dt.date(2026, 8, 14))


def test_comparing_with_a_year_earlier_uses_the_reports_rule():
    period = dashboard.comparison_period(parse_period("2026-Q2"), "year")
    assert period.label == "2025-Q2"


# --- The page ---------------------------------------------------------------------


def _figure_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', html))


def _trends(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-trend="([a-z_]+)">([^<]*)<', html))


def _row_order(html: str) -> list[str]:
    return re.findall(r'<tr data-agency="([a-z0-9-]+)"', html)


def test_controller_sees_the_whole_government_with_the_trend(client, world):
    login_staff(client, world.controller)
    response = client.get("/en/staff/figures/", {"period": Q2})
    assert response.status_code == 200
    html = response.content.decode()
    assert _figure_values(html) == {
        "received": "6",
        "answered": "3",
        "on_time": "2",
        "overdue": "3",
        "median_days": "14.0",
        "returned": "1",
        "re_reviews": "2",
        "upheld": "1",
        "rating": "3.7",
        "repeated": "16.7%",
    }
    # Against Q1: 2 received, 2 answered (both on time), 2.5 days, rating 3.0.
    trends = _trends(html)
    assert trends["received"] == "▲ 4"
    assert trends["answered"] == "▲ 1"
    assert trends["on_time"] == "="
    assert trends["median_days"] == "▲ 11.5"
    assert trends["rating"] == "▲ 0.7"
    assert "overdue" not in trends
    assert "Q1 2026" in html  # what the trend compares with
    assert 'class="badge text-bg-danger" data-trend="median_days"' in html
    assert 'class="badge text-bg-success" data-trend="answered"' in html
    assert "<svg" in html and 'data-chart="received"' in html
    # Ready for a CSP without unsafe-inline: no inline script or style attribute.
    content = html.split("<h1>", 1)[1].split("<footer", 1)[0]
    assert "<script" not in content and "style=" not in content


def test_controller_picks_an_agency(client, world):
    login_staff(client, world.controller)
    html = client.get(
        "/en/staff/figures/", {"period": Q2, "agency": "min-labour"}
    ).content.decode()
    values = _figure_values(html)
    assert values["received"] == "2" and values["returned"] == "1"
    assert values["rating"] == "4.0" and values["repeated"] == "50.0%"


@pytest.mark.parametrize(
    ("lang", "repeated", "on_time"),
    [
        ("en", "16.7%", "66.7% of 3 answered"),
        ("ru", "16,7\u00a0%", "66,7\u00a0% от 3 обращений с ответом"),
        ("ky", "16,7\u00a0%", "жооп берилген 3 кайрылуунун 66,7\u00a0%"),
    ],
)
def test_shares_are_written_as_the_reports_write_them(
    client, world, lang, repeated, on_time
):
    """A no-break space before the sign in ky and ru (it never wraps alone), none in
    en: portal.numbers.percent, the reports' formatter (issue 26, item 4)."""
    login_staff(client, world.controller)
    html = client.get(f"/{lang}/staff/figures/", {"period": Q2}).content.decode()
    assert _figure_values(html)["repeated"] == repeated
    assert on_time in html
    assert " %" not in html.split("<h1>", 1)[1]


def test_the_table_sorts_by_any_figure_without_javascript(client, world):
    login_staff(client, world.controller)
    page = lambda **q: client.get(  # noqa: E731
        "/en/staff/figures/", {"period": Q2, **q}
    ).content.decode()
    by_received = _row_order(page())  # default: received, largest first
    assert by_received[:2] == ["min-health", "min-labour"]
    assert _row_order(page(sort="received", dir="asc"))[-2:] == [
        "min-labour",
        "min-health",
    ]
    by_rating = _row_order(page(sort="rating", dir="desc"))
    assert by_rating[:2] == ["min-labour", "min-health"]
    assert by_rating[-1] == "gov-apparatus"  # no rating: last either way
    by_rating_up = _row_order(page(sort="rating", dir="asc"))
    assert by_rating_up[:2] == ["min-health", "min-labour"]
    assert by_rating_up[-1] == "gov-apparatus"
    html = page(sort="returned", dir="desc")
    assert _row_order(html)[0] == "min-labour"
    assert (
        'aria-sort="descending"><a href="?period=2026-Q2&amp;sort=returned&amp;dir=asc"'
        in html
    )


LISTS = [
    # (figure, agency slug or None, the appeals behind the number)
    ("received", None, ("A1", "A2", "A3", "A4", "A5", "A6")),
    ("repeated", None, ("A4",)),
    ("answered", None, ("A1", "A2", "A4")),
    ("median_days", None, ("A1", "A2", "A4")),
    ("on_time", None, ("A1", "A4")),
    ("overdue", None, ("A3", "A5", "A6")),
    ("returned", None, ("A3",)),
    ("re_reviews", None, ("A1", "A6")),
    ("upheld", None, ("A1",)),
    ("rating", None, ("A1", "A4")),
    ("received", "min-health", ("A1", "A2", "A3")),
    ("on_time", "min-health", ("A1",)),
    ("overdue", "min-health", ("A3",)),
    ("returned", "min-labour", ("A3",)),
    ("returned", "min-health", ()),
    ("re_reviews", "min-labour", ("A6",)),
    ("rating", "min-labour", ("A4",)),
    ("overdue", "min-labour", ()),
]


def _listed(html: str) -> set[str]:
    return set(re.findall(r'<a href="/en/staff/appeals/\d+/">([^<]+)</a>', html))


@pytest.mark.parametrize(("figure", "agency", "names"), LISTS)
def test_each_number_links_to_exactly_the_appeals_it_counts(
    client, world, figure, agency, names
):
    login_staff(client, world.controller)
    query = {"period": Q2}
    if agency:
        query["agency"] = agency
    figures_html = client.get("/en/staff/figures/", query).content.decode()
    link = f"figure={figure}&amp;period={Q2}" + (
        f"&amp;agency={agency}" if agency else ""
    )
    assert f'href="/en/staff/figures/appeals/?{link}"' in figures_html
    response = client.get("/en/staff/figures/appeals/", {"figure": figure, **query})
    assert response.status_code == 200
    assert _listed(response.content.decode()) == world.numbers(*names)


def test_the_list_behind_a_number_pages_by_keyset(client, world):
    login_staff(client, world.controller)
    seen = set()
    url = f"/en/staff/figures/appeals/?figure=received&period={Q2}"
    from appeals.views import dashboard as views

    pages = 0
    original = views.keyset_page
    try:
        views.keyset_page = lambda qs, **kw: original(qs, **{**kw, "size": 4})
        while url:
            html = client.get(url).content.decode()
            seen |= _listed(html)
            pages += 1
            match = re.search(r'href="(\?[^"]*after=[^"]*)" rel="next"', html)
            url = (
                "/en/staff/figures/appeals/" + match[1].replace("&amp;", "&")
                if match
                else None
            )
    finally:
        views.keyset_page = original
    assert pages == 2
    assert seen == world.numbers("A1", "A2", "A3", "A4", "A5", "A6")


def test_head_sees_their_agency_only(client, world):
    head = world.people[world.health][0]
    login_staff(client, head)
    html = client.get("/en/staff/figures/", {"period": Q2}).content.decode()
    assert _figure_values(html)["received"] == "3"
    assert "All state bodies" not in html and 'id="figures-table"' not in html
    assert (
        client.get(
            "/en/staff/figures/", {"period": Q2, "agency": "min-labour"}
        ).status_code
        == 403
    )
    assert (
        client.get(
            "/en/staff/figures/appeals/",
            {"figure": "received", "period": Q2, "agency": "min-labour"},
        ).status_code
        == 403
    )
    # Without an agency the list is the head's own agency, never the government's.
    html = client.get(
        "/en/staff/figures/appeals/", {"figure": "received", "period": Q2}
    ).content.decode()
    assert _listed(html) == world.numbers("A1", "A2", "A3")


def test_the_list_never_shows_an_appeal_its_viewer_may_not_open(client, world):
    # Labour returned A3: it no longer works on it, so its head may not open it; the
    # number still counts it and the list says one is not shown.
    login_staff(client, world.people[world.labour][0])
    html = client.get(
        "/en/staff/figures/appeals/", {"figure": "returned", "period": Q2}
    ).content.decode()
    assert _listed(html) == set()
    assert "1 appeal counted." in html and "1 of them is not listed" in html


def test_anonymous_visitors_log_in(client):
    for url in ("/en/staff/figures/", "/en/staff/figures/appeals/?figure=received"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/en/staff/login/")


def test_executors_are_refused(client):
    login_staff(client, staff_member("executor", AgencyFactory()))
    assert client.get("/en/staff/figures/").status_code == 403
    assert client.get("/en/staff/figures/appeals/?figure=received").status_code == 403


def test_the_menu_shows_figures_to_controllers_heads_and_managers(client):
    for role in ("controller", "manager", "head"):
        client.logout()
        login_staff(client, staff_member(role, AgencyFactory()))
        assert 'href="/en/staff/figures/"' in client.get("/en/staff/").content.decode()


def test_manager_of_a_ministry_sees_it_and_its_subordinate_bodies(world):
    service = AgencyFactory(slug="health-service", code="MZS", parent=world.health)
    manager = staff_member("manager", world.health)
    scope = dashboard.dashboard_scope(manager)
    assert not scope.whole_government
    assert {a.slug for a in scope.agencies} == {"min-health", "health-service"}
    assert service in scope.agencies
    assert dashboard.dashboard_scope(staff_member("manager")).whole_government


def test_an_unknown_period_is_said_and_the_current_quarter_shown(client, world):
    login_staff(client, world.controller)
    response = client.get("/en/staff/figures/", {"period": "2026-Q5"})
    assert response.status_code == 200
    assert "Unknown period" in response.content.decode()
