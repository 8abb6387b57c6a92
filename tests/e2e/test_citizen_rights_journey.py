"""A citizen adds a document to an appeal in work, then withdraws it, in Chromium."""

import pytest
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import routing
from appeals.intake import registration
from appeals.models import Addition, Appeal, Outcome, Status
from appeals.register import codes
from tests.factories import AgencyFactory, staff_member
from tests.files import pdf_bytes
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]
CODE = "ADDWD-CODE1-CODE2"


def test_citizen_adds_a_document_then_withdraws(live_server, browser, tmp_path):
    agency = AgencyFactory(
        slug="social-fund",
        code="SF",
        name_ky="Социалдык фонд",
        name_ru="Социальный фонд",
        name_en="Social Fund",
    )
    clerk, controller = staff_member("clerk"), staff_member("controller")
    head, executor = staff_member("head", agency), staff_member("executor", agency)
    appeal, _ = registration.register_paper_appeal(
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="public_reception",
        form="written",
        kind="statement",
        applicant_name="Сулайманова Айпери",
        applicant_phone="+996 700 111 222",
        text="Пенсиямды кайра эсептеп берүүнү суранам: эмгек стажым толук эсептелген жок.",
        language="ky",
        received_at=timezone.now(),
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code(CODE)
    )
    routing.route_appeal(appeal_id=appeal.pk, actor=controller, lead=agency)
    routing.assign_executor(appeal_id=appeal.pk, actor=head, executor=executor)
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
