"""The verification page in Debian's Chromium: a citizen's copy recognised, a changed
one refused; screenshots of the page and of the signed letter's first page."""

import subprocess

import pytest

from appeals.models import IssuedDocument
from tests.e2e.steps import VIEWPORT, shot
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]


def test_citizen_checks_the_letter_on_the_verification_page(
    browser, live_server, approve, tmp_path
):
    answer = approve()
    letter = answer.letter.read()
    document = IssuedDocument.objects.get(answer=answer)
    issued = tmp_path / "answer.pdf"
    issued.write_bytes(letter)
    changed = tmp_path / "changed.pdf"
    flipped = bytearray(letter)
    flipped[len(letter) // 3] ^= 0x01
    changed.write_bytes(bytes(flipped))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
         str(issued), str(SCREENSHOTS / "signed-letter-page1")],
        check=True,
    )  # fmt: skip

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live_server.url}/ru/verify/{document.code}/")
    assert document.sha256 in page.content()
    page.set_input_files("#id_file", str(issued))
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()
    assert page.locator("[data-result]").get_attribute("data-result") == "genuine"
    shot(page, "verify-genuine")
    page.set_input_files("#id_file", str(changed))
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()
    assert page.locator("[data-result]").get_attribute("data-result") == "changed"
    shot(page, "verify-changed")
    context.close()
