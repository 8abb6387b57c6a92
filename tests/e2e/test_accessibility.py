"""WCAG 2.1 AA in Chromium: axe-core on every public and staff page, and the
heading outline axe does not judge strictly.

What runs where (to keep CI within minutes):
- Kyrgyz (the default language): every public page and every staff page, with real
  appeals in every state, forms with and without errors.
- Russian and English: the main public pages and a sample of staff pages (a form with
  errors, the executor's work page, the manager's report).
- Low-vision mode (high contrast + 200 % text), in Kyrgyz: the same sample.
The reports (JSON, and a short text of what axe found, minor and moderate included)
go to var/screenshots/axe/.
"""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.e2e.steps import AxeReport, file_appeal, shot, staff_page, track
from tests.e2e.world import build_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

LOW_VISION = "contrast,font-200"
# The heading outline: one h1, first; no level skipped on the way down.
HEADINGS_SCRIPT = """() => {
    const visible = (el) => el.getClientRects().length > 0
        || el.closest('.visually-hidden') !== null;
    const levels = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
        .filter(visible).map((h) => Number(h.tagName[1]));
    const problems = [];
    if (levels.filter((l) => l === 1).length !== 1) problems.push('h1 count');
    if (levels[0] !== 1) problems.push('first heading is h' + levels[0]);
    for (let i = 1; i < levels.length; i++) {
        if (levels[i] > levels[i - 1] + 1) {
            problems.push('h' + levels[i - 1] + ' then h' + levels[i]);
        }
    }
    return {levels, problems};
}"""


@dataclass(frozen=True)
class Visit:
    label: str
    path: str = ""  # after /<lang>; "{in_work}" etc. are the world's appeal ids
    submit: str = ""  # a submit button to press before checking (errors shown)


PUBLIC = [
    Visit("home", "/"),
    Visit("appeal-form", "/appeal/"),
    Visit("appeal-form-errors", "/appeal/", submit="main form button[type=submit]"),
    Visit("track", "/track/"),
    Visit("track-errors", "/track/", submit="main form button[type=submit]"),
    Visit("agencies", "/agencies/"),
    Visit("statistics", "/statistics/"),
    Visit("privacy", "/privacy/"),
    Visit("staff-login", "/staff/login/"),
    Visit("not-found", "/no-such-page/"),
]
# Filled through the browser: the receipt page and the answered appeal's status page.
PUBLIC_JOURNEY = ("appeal-sent", "status-answered")

STAFF = {
    "clerk": [
        Visit("workspace", "/staff/"),
        Visit("portal-queue", "/staff/queue/"),
        Visit("portal-submission", "/staff/queue/{submitted}/"),
        Visit("register-written", "/staff/register/written/"),
        Visit(
            "register-written-errors",
            "/staff/register/written/",
            submit=".registration-form button[type=submit]",
        ),
        Visit("register-oral", "/staff/register/oral/"),
        Visit("registration-card", "/staff/appeals/{in_work}/"),
        Visit("journal", "/staff/journal/"),
        Visit("data-requests", "/staff/data-requests/"),
        Visit(
            "data-request-new-errors",
            "/staff/data-requests/new/",
            submit=".data-request-form button[type=submit]",
        ),
        Visit("data-request", "/staff/data-requests/{data_request}/"),
    ],
    "controller": [
        Visit("controllers-queue", "/staff/routing/"),
        Visit("route", "/staff/routing/{registered}/"),
        Visit("figures", "/staff/figures/"),
        Visit("figure-appeals", "/staff/figures/appeals/?figure=received"),
    ],
    "head": [
        Visit("inbox-head", "/staff/inbox/"),
        Visit("work-head", "/staff/inbox/{in_work}/"),
        Visit("work-answered", "/staff/inbox/{answered}/"),
    ],
    "executor": [
        Visit("inbox-executor", "/staff/inbox/?tab=in_progress"),
        Visit("work-executor", "/staff/inbox/{in_work}/"),
    ],
    "manager": [
        Visit("reports", "/statistics/manager/"),
        Visit(
            "report-shown",
            "/statistics/manager/?kind={quarter}&year={year}&language={lang}",
        ),
    ],
}
PUBLIC_SAMPLE = {
    "home",
    "appeal-form",
    "appeal-form-errors",
    "track",
    "agencies",
    "statistics",
    "privacy",
}
STAFF_SAMPLE = {
    "clerk": {
        "register-written-errors",
        "data-requests",
        "data-request-new-errors",
        "data-request",
    },
    "executor": {"work-executor"},
    "manager": {"report-shown"},
}


class Tour:
    """Opens pages, runs axe and the heading script on each, screenshots them."""

    def __init__(self, live_server, world, lang: str, name: str, a11y: str = ""):
        self.base = live_server.url
        self.a11y = a11y  # the low-vision panel's cookie, when set
        self.world = world
        self.lang = lang
        self.name = name
        self.report = AxeReport(name)
        self.headings: list[str] = []

    def path(self, visit: Visit) -> str:
        today = timezone.localdate()
        return visit.path.format(
            submitted=self.world.submitted.pk,
            registered=self.world.registered.pk,
            in_work=self.world.in_work.pk,
            answered=self.world.answered.pk,
            data_request=self.world.data_request.pk,
            quarter=self.world.quarter,
            year=today.year,
            lang=self.lang,
        )

    def visit(self, page, visit: Visit) -> None:
        page.goto(f"{self.base}/{self.lang}{self.path(visit)}")
        if visit.submit:
            page.locator(visit.submit).first.click()
            page.wait_for_selector("[role=alert]")
        self.check(page, visit.label)

    def check(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == self.lang, label
        for mode in filter(None, self.a11y.split(",")):
            assert f"a11y-{mode}" in page.locator("html").get_attribute("class")
        self.report.check(page, label)
        outline = page.evaluate(HEADINGS_SCRIPT)
        if outline["problems"]:
            self.headings.append(f"{label}: {outline}")
        shot(page, f"axe-{self.name}-{label}")

    def finish(self) -> None:
        path = self.report.save()
        blocking = self.report.blocking()
        assert not blocking, (
            f"axe found serious or critical violations (report: {path}):\n"
            + "\n".join(blocking)
        )
        assert not self.headings, "headings out of order:\n" + "\n".join(self.headings)


def _a11y_cookie(tour: Tour, context) -> None:
    if tour.a11y:
        context.add_cookies([{"name": "a11y", "value": tour.a11y, "url": tour.base}])


def _public_tour(browser, tour: Tour, labels=None) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    _a11y_cookie(tour, context)
    page = context.new_page()
    for visit in PUBLIC:
        if labels is None or visit.label in labels:
            tour.visit(page, visit)
    if labels is None:
        file_appeal(
            page,
            tour.base,
            lang=tour.lang,
            fields={
                "id_kind_0": True,
                "id_topic": "select:social",
                "id_text": "Биздин айылда мектептин чатыры агып жатат.",
                "id_applicant_name": "Жээнбекова Гүлнара",
                "id_applicant_phone": "+996 555 123 456",
                "id_consent": True,
            },
        )
        tour.check(page, "appeal-sent")
        track(
            page,
            tour.base,
            lang=tour.lang,
            tracking=tour.world.answered.tracking_number,
            code=tour.world.answered_code,
        )
        page.wait_for_selector("#rating-form")
        tour.check(page, "status-answered")
    context.close()


def _staff_tour(browser, live_server, tour: Tour, sample=None):
    for role, visits in STAFF.items():
        chosen = [
            v for v in visits if sample is None or v.label in sample.get(role, ())
        ]
        if not chosen:
            continue
        context, page = staff_page(browser, live_server, role, lang=tour.lang)
        _a11y_cookie(tour, context)
        for visit in chosen:
            tour.visit(page, visit)
        context.close()


@pytest.fixture
def world(live_server):
    return build_world()


def test_every_public_page_in_kyrgyz_passes_axe(live_server, browser, world):
    tour = Tour(live_server, world, "ky", "public-ky")
    _public_tour(browser, tour)
    assert len(tour.report.pages) == len(PUBLIC) + len(PUBLIC_JOURNEY)
    tour.finish()


def test_every_staff_page_in_kyrgyz_passes_axe(live_server, browser, world):
    tour = Tour(live_server, world, "ky", "staff-ky")
    _staff_tour(browser, live_server, tour)
    assert len(tour.report.pages) == sum(len(v) for v in STAFF.values())
    tour.finish()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_main_pages_in_russian_and_english_pass_axe(live_server, browser, world, lang):
    tour = Tour(live_server, world, lang, f"sample-{lang}")
    _public_tour(browser, tour, labels=PUBLIC_SAMPLE)
    _staff_tour(browser, live_server, tour, sample=STAFF_SAMPLE)
    tour.finish()


def test_low_vision_mode_passes_axe(live_server, browser, world):
    """High contrast and 200 % text, as the panel sets them (its cookie)."""
    tour = Tour(live_server, world, "ky", "low-vision-ky", a11y=LOW_VISION)
    _public_tour(browser, tour, labels=PUBLIC_SAMPLE)
    _staff_tour(browser, live_server, tour, sample=STAFF_SAMPLE)
    tour.finish()
