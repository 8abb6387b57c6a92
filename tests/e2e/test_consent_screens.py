"""The consent under the filing form's checkbox and the privacy page in Chromium: the
checkbox is described by the consent text in effect, its link opens the policy in a
new window; screenshots under var/screenshots (consent-*.png)."""

import pytest

from appeals.models import ConsentVersion
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_the_checkbox_is_described_by_the_consent_in_effect(live_server, browser, lang):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    version = ConsentVersion.objects.get()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/{lang}/appeal/")
    checkbox = page.locator("#id_consent")
    described = checkbox.get_attribute("aria-describedby")
    help_text = page.locator(f"#{described}").inner_text()
    assert getattr(version, f"text_{lang}")[:60] in help_text
    page.locator("#id_consent").scroll_into_view_if_needed()
    page.locator("#id_consent").locator("xpath=..").screenshot(
        path=str(SCREENSHOTS / f"consent-checkbox-{lang}.png")
    )
    with context.expect_page() as opened:
        page.locator(f"#{described} a").click()
    policy = opened.value
    policy.wait_for_load_state("load")
    assert policy.url.endswith(f"/{lang}/privacy/")
    assert (
        policy.locator("#consent-text")
        .inner_text()
        .startswith(getattr(version, f"text_{lang}")[:40])
    )
    policy.screenshot(
        path=str(SCREENSHOTS / f"consent-privacy-{lang}.png"), full_page=True
    )
    context.close()
