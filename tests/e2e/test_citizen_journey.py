"""A citizen files an appeal in Kyrgyz in Chromium, trips over a validation error
without losing the text or the file, gets the tracking number and opens the status."""

import pytest

from agencies.models import Topic
from appeals.models import Appeal
from tests.files import png_bytes
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

TEXT = "Биздин айылдагы мектептин чатыры агып жатат. Күз келди, балдар суукта окуп жатышат."


def test_citizen_files_in_kyrgyz_and_follows_the_appeal(live_server, browser, tmp_path):
    Topic.objects.create(
        code="education",
        name_ky="Билим берүү",
        name_ru="Образование",
        name_en="Education",
    )
    scan = tmp_path / "чатыр.png"
    scan.write_bytes(png_bytes(40, 30))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})

    page.goto(f"{live_server.url}/ky/appeal/")
    page.screenshot(path=str(SCREENSHOTS / "appeal-form-ky.png"), full_page=True)
    page.locator("#id_kind_2").check()  # complaint
    page.locator("#id_topic").select_option("education")
    page.locator("#id_text").fill(TEXT)
    page.locator("#id_attachments").set_input_files(str(scan))
    page.locator("#id_applicant_phone").fill("+996 555 123 456")
    page.locator("#id_consent").check()
    # The full name is forgotten: the form comes back with an error.
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#form-errors")
    page.screenshot(path=str(SCREENSHOTS / "appeal-form-ky-error.png"), full_page=True)
    assert page.locator("#id_text").input_value() == TEXT
    assert "чатыр.png" in page.locator(".staged-files").inner_text()
    assert page.locator("#id_applicant_name").get_attribute("aria-invalid") == "true"

    page.locator("#id_applicant_name").fill("Жээнбекова Гүлнара Асылбековна")
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#tracking-number")
    page.screenshot(path=str(SCREENSHOTS / "appeal-sent-ky.png"), full_page=True)
    tracking = page.locator("#tracking-number").inner_text()
    code = page.locator("#access-code").inner_text()
    appeal = Appeal.objects.get()
    assert appeal.tracking_number == tracking
    assert appeal.attachments.get().original_name == "чатыр.png"
    assert appeal.language == "ky"

    # Later, in a fresh browser session, with the number and the code.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    later = context.new_page()
    later.goto(f"{live_server.url}/ky/track/")
    later.locator("#id_tracking_number").fill(tracking)
    later.locator("#id_access_code").fill(code)
    later.locator("main button[type=submit]").click()
    later.wait_for_selector("#appeal-history")
    later.screenshot(path=str(SCREENSHOTS / "appeal-status-ky.png"), full_page=True)
    assert tracking in later.locator("h1").inner_text()
    assert TEXT in later.locator(".appeal-text").inner_text()
    context.close()
