"""A clerk registers a paper appeal forwarded by the Jogorku Kenesh, keyboard first."""

import pytest
from django.utils import timezone

from appeals.models import Appeal
from tests.factories import TopicFactory, staff_member
from tests.files import pdf_bytes
from tests.helpers import SCREENSHOTS, browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]


def test_clerk_registers_a_paper_appeal_from_the_jogorku_kenesh(
    live_server, browser, tmp_path
):
    staff_member("clerk", username="aigul")
    TopicFactory(
        code="land",
        name_ky="Жер маселелери",
        name_ru="Земельные вопросы",
        name_en="Land",
    )
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdf_bytes())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    browser_login(page, live_server.url, "aigul", "a-long-test-password")
    page.goto(f"{live_server.url}/ky/staff/register/written/")
    # The channel field has the focus: the clerk types from the keyboard.
    assert page.evaluate("document.activeElement.id") == "id_channel"
    page.locator("#id_channel").select_option("jogorku_kenesh")
    page.locator("#id_cover_letter_number").fill("ЖК-1234/26")
    page.locator("#id_cover_letter_date").fill(timezone.localdate().isoformat())
    page.locator("#id_scan").set_input_files(str(scan))
    page.locator("#id_applicant_name").fill("Турдубаев Нурбек Маратович")
    page.locator("#id_applicant_address").fill("Нарын ш., Ленин көч., 12")
    page.locator("#id_kind").select_option("complaint")
    page.locator("#id_topic").select_option("land")
    page.locator("#id_text").fill(
        "Жер үлүшүн каттоодон баш тартылганы боюнча даттануу."
    )
    page.screenshot(
        path=str(SCREENSHOTS / "staff-register-written-ky.png"), full_page=True
    )
    page.locator(".registration-form button[type=submit]").click()
    page.wait_for_selector("#registration-number")
    page.screenshot(
        path=str(SCREENSHOTS / "staff-registration-card-ky.png"), full_page=True
    )

    appeal = Appeal.objects.get()
    assert (
        page.locator("#registration-number").inner_text() == appeal.registration_number
    )
    assert appeal.channel == "jogorku_kenesh"
    assert appeal.cover_letter_number == "ЖК-1234/26"
    assert appeal.attachments.get().purpose == "scan"
    assert page.locator("#access-code").is_visible()
