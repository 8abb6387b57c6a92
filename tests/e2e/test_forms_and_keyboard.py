"""What axe cannot judge: every visible field has a visible label, an error is tied to
its field and announced (an error summary that takes the focus, with links to the
fields), and a citizen files and tracks an appeal with the keyboard alone."""

import pytest

from tests.e2e.steps import shot, staff_page
from tests.factories import TopicFactory, staff_member

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

# For each visible control: its label (a <label> or, for radios and checkboxes in a
# group, the fieldset's legend) and, when it is marked invalid, the error text its
# aria-describedby points at. Returns the problems found.
FIELDS_SCRIPT = """() => {
    const shown = (el) => el && el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== 'hidden';
    const problems = [];
    const controls = [...document.querySelectorAll('main input, main select, main textarea')]
        .filter((el) => !['hidden', 'submit', 'button'].includes(el.type) && shown(el));
    for (const el of controls) {
        const name = el.id || el.name;
        const labels = [...(el.labels || [])].filter(shown)
            .filter((l) => l.innerText.trim().length > 0);
        if (!labels.length) problems.push(name + ': no visible label');
        if (['radio', 'checkbox'].includes(el.type) && el.closest('fieldset')) {
            const legend = el.closest('fieldset').querySelector('legend');
            if (!legend || !legend.innerText.trim()) problems.push(name + ': no legend');
        }
        const group = el.closest('fieldset[aria-describedby]');
        const invalid = el.getAttribute('aria-invalid') === 'true'
            || (group && group.querySelector('.invalid-feedback'));
        if (!invalid) continue;
        const described = (el.getAttribute('aria-describedby')
            || (group && group.getAttribute('aria-describedby')) || '')
            .split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean);
        const error = described.find((d) => d.classList.contains('invalid-feedback'));
        if (!error || !shown(error) || !error.innerText.trim()) {
            problems.push(name + ': error not tied by aria-describedby');
        } else if (error.getAttribute('role') !== 'alert') {
            problems.push(name + ': error not announced');
        }
    }
    const errors = [...document.querySelectorAll('main .invalid-feedback')].filter(shown);
    for (const error of errors) {
        if (!document.querySelector(`[aria-describedby~="${error.id}"]`)) {
            problems.push(error.id + ': error tied to no field');
        }
    }
    return {problems, fields: controls.length, errors: errors.length};
}"""

# The error summary: focused, names every invalid field with a link to it.
SUMMARY_SCRIPT = """() => {
    const summary = document.querySelector('[data-error-summary]');
    if (!summary) return null;
    const targets = [...summary.querySelectorAll('a[href^="#"]')]
        .map((a) => a.getAttribute('href').slice(1));
    const invalid = [...document.querySelectorAll('main [aria-invalid=true]')]
        .map((el) => el.closest('fieldset[id]') && el.type === 'radio'
            ? el.closest('fieldset').id : el.id);
    const groups = [...document.querySelectorAll('main fieldset[id]')]
        .filter((f) => f.querySelector('.invalid-feedback')).map((f) => f.id);
    return {
        focused: document.activeElement === summary,
        role: summary.getAttribute('role'),
        targets,
        invalid: [...new Set([...invalid, ...groups])],
    };
}"""


def _check_form(page, label: str, submit: str) -> dict:
    before = page.evaluate(FIELDS_SCRIPT)
    assert before["problems"] == [], f"{label}: {before['problems']}"
    page.locator(submit).first.click()
    page.wait_for_selector("[data-error-summary]")
    after = page.evaluate(FIELDS_SCRIPT)
    assert after["errors"] > 0, label
    assert after["problems"] == [], f"{label}: {after['problems']}"
    summary = page.evaluate(SUMMARY_SCRIPT)
    assert summary["focused"], f"{label}: the error summary does not take the focus"
    assert summary["role"] == "alert"
    assert set(summary["invalid"]) <= set(summary["targets"]), (label, summary)
    shot(page, f"forms-{label}-errors")
    return summary


def test_public_forms_label_every_field_and_announce_errors(live_server, browser):
    TopicFactory(code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/ky/appeal/")
    summary = _check_form(page, "appeal-ky", "main form button[type=submit]")
    assert {"id_kind", "id_topic", "id_text", "id_applicant_name"} <= set(
        summary["targets"]
    )
    # A link of the summary takes the keyboard to its field.
    page.locator("[data-error-summary] a[href='#id_text']").click()
    assert page.evaluate("document.activeElement.id") == "id_text"
    page.locator("[data-error-summary] a[href='#id_kind']").click()
    assert page.evaluate("document.activeElement.id") == "id_kind_0"

    page.goto(f"{live_server.url}/ru/track/")
    summary = _check_form(page, "track-ru", "main form button[type=submit]")
    assert set(summary["targets"]) == {"id_tracking_number", "id_access_code"}
    page.close()


def test_staff_forms_label_every_field_and_announce_errors(live_server, browser):
    staff_member("clerk", username="clerk")
    context, page = staff_page(browser, live_server, "clerk", lang="en")
    for form in ("written", "oral"):
        page.goto(f"{live_server.url}/en/staff/register/{form}/")
        _check_form(
            page, f"register-{form}-en", ".registration-form button[type=submit]"
        )
    context.close()


def _tab_to(page, selector: str, *, backwards: bool = False, limit: int = 80) -> None:
    """Tab (or Shift+Tab) until the focus is on `selector`; the focus must be
    visible there (an outline of at least 2 px)."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)",
            selector,
        ):
            break
        page.keyboard.press(key)
    else:
        raise AssertionError(f"{selector} never got the focus with {key}")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, (selector, outline)


def test_citizen_files_and_tracks_an_appeal_with_the_keyboard_only(
    live_server, browser
):
    """Only page.keyboard: Tab, Shift+Tab, Enter, Space, arrows and typing. The
    attachment is left out: a file chooser cannot be driven from the keyboard in
    headless Chromium."""
    TopicFactory(code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    keyboard = page.keyboard
    page.goto(f"{live_server.url}/ru/appeal/")

    # The first Tab reaches the skip link, which shows itself and jumps to main.
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0
    shot(page, "keyboard-01-skip-link")
    keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    _tab_to(page, "#id_kind_0")
    keyboard.press("ArrowDown")  # radios: the arrow moves and checks: a statement
    _tab_to(page, "#id_topic")
    keyboard.press("ArrowDown")  # the first topic after "choose"
    _tab_to(page, "#id_text")
    keyboard.type("На улице Ленина в Караколе третий год не ремонтируют дорогу.")
    _tab_to(page, "#id_applicant_name")
    keyboard.type("Асанова Айгерим")
    _tab_to(page, "#id_applicant_phone")
    keyboard.type("+996 700 123 456")
    _tab_to(page, "#id_consent")
    keyboard.press("Space")
    # Back up one field with Shift+Tab and forward again: nothing is lost.
    _tab_to(page, "#id_applicant_phone", backwards=True)
    _tab_to(page, "main form button[type=submit]")
    shot(page, "keyboard-02-form-filled")
    keyboard.press("Enter")
    page.wait_for_selector("#tracking-number")
    shot(page, "keyboard-03-sent")
    tracking = page.locator("#tracking-number").inner_text().strip()
    code = page.locator("#access-code").inner_text().strip()

    # To the tracking page through the menu, then the number and the code.
    _tab_to(page, "header a[href='/ru/track/']")
    keyboard.press("Enter")
    page.wait_for_url("**/ru/track/")
    _tab_to(page, "#id_tracking_number")
    keyboard.type(tracking)
    keyboard.press("Tab")
    keyboard.type(code)
    keyboard.press("Enter")
    page.wait_for_selector("#appeal-history")
    shot(page, "keyboard-04-status")
    assert tracking in page.locator("h1").inner_text()
    assert "Караколе" in page.locator(".appeal-text").last.inner_text()
    page.close()
