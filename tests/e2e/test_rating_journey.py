"""A citizen reads the answer, rates it and asks for a re-review, in Chromium."""

import pytest

from appeals.casework import answering
from appeals.models import Rating, Status
from tests.e2e.world import pension_appeal_in_work
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]
CODE = "RATE1-RATE2-RATE3"


def test_citizen_rates_the_answer_and_asks_for_a_re_review(live_server, browser):
    appeal, people = pension_appeal_in_work(CODE)
    head, executor = people["head"], people["executor"]
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=executor,
        outcome="not_supported",
        submit=True,
        text="Сиздин стажыңыз толук эсептелген, кайра эсептөөгө негиз жок.",
    )
    answering.approve_answer(appeal_id=appeal.pk, actor=head)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(f"{live_server.url}/ky/track/")
    page.locator("#id_tracking_number").fill(appeal.tracking_number)
    page.locator("#id_access_code").fill(CODE)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#appeal-answer")
    page.screenshot(path=str(SCREENSHOTS / "rating-01-answer-ky.png"), full_page=True)

    page.locator("#rating-form #id_score_1").check()  # the second choice: 2 of 5
    page.locator("#rating-form #id_addressed_1").check()  # "No"
    page.locator("#rating-form #id_comment").fill("Жооп суроомо жооп берген жок.")
    page.locator("#rating-form button[type=submit]").click()
    page.wait_for_selector("#re-review-form")
    assert page.locator("#rating-form").count() == 0
    page.locator("#re-review-form #id_reason").fill(
        "1990-жылдардагы колхоздогу стажым эсептелген жок."
    )
    page.locator("#re-review-form button[type=submit]").click()
    page.wait_for_selector("#appeal-history")
    page.screenshot(
        path=str(SCREENSHOTS / "rating-02-re-review-ky.png"), full_page=True
    )

    rating = Rating.objects.get()
    assert (rating.score, rating.addressed) == (2, False)
    appeal.refresh_from_db()
    assert appeal.status == Status.RE_REVIEW
