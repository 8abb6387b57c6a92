"""Browser steps the journeys share: staff sessions, filing and tracking an appeal,
screenshots, and axe-core runs (the vendored axe.min.js, never served by the portal)."""

import json
from collections import Counter
from pathlib import Path

from tests.helpers import SCREENSHOTS, browser_login

PASSWORD = "a-long-test-password"
VIEWPORT = {"width": 1280, "height": 1000}
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_REPORTS = SCREENSHOTS / "axe"
# WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, heading
# order, ...): the report lists them all, the tests fail on serious and critical.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def staff_page(browser, live_server, username: str, *, lang: str = "ky", **options):
    """A fresh browser context with a staff member logged in (browser_login: the
    one place that satisfies the login's factors)."""
    context = browser.new_context(**{"viewport": VIEWPORT, **options})
    page = context.new_page()
    browser_login(page, live_server.url, username, PASSWORD, lang=lang)
    return context, page


def open_from_inbox(page, registration_number: str, tab: str, lang: str = "ru"):
    """Through the menu, the inbox tab and the appeal's number, as staff would."""
    page.locator(f"a.nav-link[href='/{lang}/staff/inbox/']").click()
    page.wait_for_selector("h1")
    if tab != "new":
        page.locator(f".nav-tabs a[href^='?tab={tab}&']").click()
        page.wait_for_url(f"**/{lang}/staff/inbox/?tab={tab}*")
    page.locator("#inbox-table a", has_text=registration_number).click()
    page.wait_for_selector("#appeal-status")


def file_appeal(page, base_url: str, *, lang: str, fields: dict, files=()):
    """The public form: `fields` maps field ids to values (True checks a box, a
    "select:" prefix picks an option, "radio" ids are checked). Returns the
    tracking number and the access code shown after sending."""
    page.goto(f"{base_url}/{lang}/appeal/")
    fill(page, fields)
    if files:
        page.locator("#id_attachments").set_input_files([str(f) for f in files])
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#tracking-number")
    tracking = page.locator("#tracking-number").inner_text().strip()
    code = page.locator("#access-code").inner_text().strip()
    return tracking, code


def track(page, base_url: str, *, lang: str, tracking: str, code: str) -> None:
    """The tracking form, with the number and the code: ends on the status page."""
    page.goto(f"{base_url}/{lang}/track/")
    page.locator("#id_tracking_number").fill(tracking)
    page.locator("#id_access_code").fill(code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#appeal-history")


# ---- axe-core --------------------------------------------------------------------


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page as it is. The script is evaluated through
    the DevTools protocol, so the portal's Content-Security-Policy stays in force
    for the page itself (an injected <script> tag would need bypass_csp, which
    would also let blocked inline styles apply and falsify the contrast checks)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(' '),
                    html: n.html.slice(0, 300),
                    summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )


class AxeReport:
    """What axe found on each page, kept for the report; blocking() lists the
    serious and critical findings the tests fail on."""

    def __init__(self, name: str):
        self.name = name
        self.pages: list[dict] = []

    def check(self, page, label: str) -> list[dict]:
        violations = run_axe(page)
        self.pages.append({"page": label, "url": page.url, "violations": violations})
        return violations

    def blocking(self) -> list[str]:
        return [
            f"{entry['page']}: {v['id']} ({v['impact']}) {v['help']} — "
            + "; ".join(node["target"] for node in v["nodes"][:5])
            for entry in self.pages
            for v in entry["violations"]
            if v["impact"] in BLOCKING
        ]

    def save(self) -> Path:
        AXE_REPORTS.mkdir(parents=True, exist_ok=True)
        (AXE_REPORTS / f"{self.name}.json").write_text(
            json.dumps(self.pages, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        by_rule: Counter = Counter()
        impacts: dict[str, str] = {}
        for entry in self.pages:
            for v in entry["violations"]:
                by_rule[v["id"]] += len(v["nodes"])
                impacts[v["id"]] = v["impact"]
        lines = [
            f"axe-core {axe_version()} · {self.name} · {len(self.pages)} pages",
            f"tags: {', '.join(AXE_TAGS)}",
            "",
        ]
        if not by_rule:
            lines.append("No violation on any page.")
        for rule, count in by_rule.most_common():
            pages = [
                entry["page"]
                for entry in self.pages
                if any(v["id"] == rule for v in entry["violations"])
            ]
            lines.append(f"{impacts[rule]:>9}  {rule}: {count} element(s) on")
            lines.extend(f"           {label}" for label in pages)
        lines.append("")
        lines.append("Pages checked:")
        lines.extend(f"  {entry['page']}  {entry['url']}" for entry in self.pages)
        path = AXE_REPORTS / f"{self.name}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def axe_version() -> str:
    head = AXE_JS.read_text(encoding="utf-8")[:40]
    return head.split("axe v", 1)[1].split()[0] if "axe v" in head else "?"


# ---- staff steps -------------------------------------------------------------------


def fill(page, fields: dict) -> None:
    """Fill a form: field id -> value; True checks, "select:x" picks an option."""
    for field_id, value in fields.items():
        locator = page.locator(f"#{field_id}")
        if value is True:
            locator.check()
        elif isinstance(value, str) and value.startswith("select:"):
            locator.select_option(value.removeprefix("select:"))
        else:
            locator.fill(value)


def register_paper(
    page, base_url: str, *, lang: str, form: str, fields: dict, scan=None
) -> str:
    """The clerk's written or oral registration form; returns the registration
    number shown on the card."""
    page.goto(f"{base_url}/{lang}/staff/register/{form}/")
    fill(page, fields)
    if scan is not None:
        page.locator("#id_scan").set_input_files(str(scan))
    page.locator(".registration-form button[type=submit]").click()
    page.wait_for_selector("#registration-number")
    return page.locator("#registration-number").inner_text().strip()


def route(page, *, lang: str, number: str, lead: str, note: str = "") -> None:
    """The controller routes an appeal from the queue to its lead agency."""
    page.locator(f"a.nav-link[href='/{lang}/staff/routing/']").click()
    page.wait_for_selector("h1")
    page.locator("main table a", has_text=number).click()
    page.wait_for_selector("#route-form")
    page.locator("#id_lead").select_option(lead)
    if note:
        page.locator("#id_cover_note").fill(note)
    page.locator("#route-form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/staff/routing/")
