"""A citizen adds a document to an appeal in work, then withdraws it, in Chromium."""

import pytest

from appeals.models import Addition, Outcome, Status
from tests.e2e.world import pension_appeal_in_work
from tests.files import pdf_bytes
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]
CODE = "ADDWD-CODE1-CODE2"


def test_citizen_adds_a_document_then_withdraws(live_server, browser, tmp_path):
    appeal, _people = pension_appeal_in_work(CODE)
    scan = tmp_path / "эмгек-китепчеси.pdf"
    scan.write_bytes(pdf_bytes())

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(f"{live_server.url}/ky/track/")
    page.locator("#id_tracking_number").fill(appeal.tracking_number)
    page.locator("#id_access_code").fill(CODE)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#addition-form")
    page.locator("#addition-form textarea").fill(
        "Эмгек китепчемдин көчүрмөсүн тиркеп жатам."
    )
    page.locator("#addition-form input[type=file]").set_input_files(str(scan))
    page.locator("#addition-form button[type=submit]").click()
    page.wait_for_selector("#appeal-additions")
    assert "эмгек-китепчеси.pdf" in page.locator("#appeal-additions").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "rights-01-added-ky.png"), full_page=True)

    page.locator("a[href$='/withdraw/']").click()
    page.wait_for_selector("#withdraw-form")
    page.screenshot(
        path=str(SCREENSHOTS / "rights-02-withdraw-step-ky.png"), full_page=True
    )
    page.locator("#withdraw-form textarea").fill("Маселе чечилди, рахмат.")
    page.locator("#withdraw-form button[type=submit]").click()
    page.wait_for_selector("#appeal-withdrawn")
    page.screenshot(
        path=str(SCREENSHOTS / "rights-03-withdrawn-ky.png"), full_page=True
    )

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome) == (Status.CLOSED, Outcome.WITHDRAWN)
    assert Addition.objects.get(appeal=appeal).attachments.count() == 1
    assert page.locator("#addition-form").count() == 0
