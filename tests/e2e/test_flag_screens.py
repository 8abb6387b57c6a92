"""The clerks' flags in Chromium: the controllers' queue and routing page with a
flagged appeal, the clerk's and the controller's form to leave an appeal without
consideration (axe-core in ky, ru and en; screenshots in var/screenshots/)."""

import pytest

from appeals.models import Appeal, Status
from tests.e2e.steps import AxeReport, shot, staff_page
from tests.factories import paper_appeal, portal_submission, staff_member
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]


def test_flags_and_the_leave_form_in_three_languages(live_server, browser):
    clerk = staff_member("clerk", username="aigul")
    staff_member("controller", username="nurlan")
    flagged = paper_appeal(
        clerk,
        applicant_name="Аноним",
        applicant_email="",
        text="POMOGITE POZHALUYSTA, YA NE MOGU POLUCHIT PENSIYU UZHE TRI MESYATSA",
    )
    paper_appeal(clerk)  # one without flags beside it
    submission = portal_submission(text="БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК!")
    report = AxeReport("flags")
    for lang in ("ky", "ru", "en"):
        context, page = staff_page(browser, live_server, "nurlan", lang=lang)
        page.goto(f"{live_server.url}/{lang}/staff/routing/")
        assert page.locator("[data-flag=no_name]").count() == 1
        report.check(page, f"controllers-queue-flags-{lang}")
        shot(page, f"staff-controllers-queue-flags-{lang}")
        page.goto(f"{live_server.url}/{lang}/staff/routing/{flagged.pk}/")
        assert page.locator(".appeal-flags li").count() == 4
        report.check(page, f"route-flags-{lang}")
        shot(page, f"staff-route-flags-{lang}")
        page.locator("#leave-form button[type=submit]").click()  # nothing chosen
        page.wait_for_selector("#leave-form .invalid-feedback, #leave-form .is-invalid")
        report.check(page, f"route-leave-errors-{lang}")
        page.locator("#leave-form").screenshot(
            path=str(SCREENSHOTS / f"staff-leave-form-errors-{lang}.png")
        )
        context.close()

        context, page = staff_page(browser, live_server, "aigul", lang=lang)
        page.goto(f"{live_server.url}/{lang}/staff/queue/{submission.appeal.pk}/")
        assert page.locator("[data-flag=all_capitals]").count() == 1
        report.check(page, f"portal-submission-flags-{lang}")
        shot(page, f"staff-queue-item-leave-form-{lang}")
        context.close()
    report.save()
    assert report.blocking() == []

    # The controller leaves the flagged appeal without consideration, by keyboard
    # and mouse as a person would.
    context, page = staff_page(browser, live_server, "nurlan", lang="ky")
    page.goto(f"{live_server.url}/ky/staff/routing/{flagged.pk}/")
    page.locator("#leave-form input[value=no_name_or_address]").check()
    page.locator("#leave-form textarea").fill(
        "Кат кол тамгасыз жана кайтаруучу дареги жок келген."
    )
    page.locator("#leave-form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/ky/staff/routing/")
    context.close()
    flagged = Appeal.objects.get(pk=flagged.pk)
    assert flagged.status == Status.CLOSED
    assert flagged.inadmissibility_ground == "no_name_or_address"
