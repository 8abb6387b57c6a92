"""The home page in Chromium, in each language; screenshots under var/screenshots."""

import pytest

from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

KYRGYZ_LETTERS = "ңөү"


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_home_page_renders_in_chromium(live_server, browser, lang):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/{lang}/")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").is_visible()
    # Styles come from the project's static files: the header band is dark blue.
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    if lang == "ky":
        assert any(letter in page.content() for letter in KYRGYZ_LETTERS)
    page.screenshot(path=str(SCREENSHOTS / f"home-{lang}.png"), full_page=True)
    page.close()


def test_low_vision_panel_works_with_javascript_and_is_remembered(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/en/")
    page.get_by_role("button", name="High contrast").click()
    page.wait_for_function(
        "document.documentElement.classList.contains('a11y-contrast')"
    )
    page.goto(f"{live_server.url}/ru/")  # another page, a later visit
    assert "a11y-contrast" in page.locator("html").get_attribute("class")
    page.screenshot(path=str(SCREENSHOTS / "home-ru-contrast.png"), full_page=True)
    context.close()


def test_pages_break_no_rule_of_the_content_security_policy(live_server, browser):
    """Chromium reports every CSP violation on the console: a page that needed an
    inline script or style would show one here."""
    violations = []
    page = browser.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    for path in (
        "/ky/",
        "/ru/appeal/",
        "/en/track/",
        "/ky/agencies/",
        "/en/statistics/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.get_by_role("button", name="A++").first.click()  # the panel's script runs
    page.close()
    assert violations == []
