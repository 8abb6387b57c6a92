"""From the portal to the answer, in Chromium: a citizen writes in Russian, the
controller routes the appeal to the ministry, its head assigns an executor, the
executor drafts the answer, the head approves it, and the citizen reads the answer on
the tracking page and downloads the letter."""

import shutil
import subprocess
from pathlib import Path

import pytest

from agencies.models import Agency
from appeals.intake import registration
from appeals.models import Appeal, Status
from tests.e2e.steps import VIEWPORT, open_from_inbox, staff_page
from tests.factories import AgencyFactory, TopicFactory, staff_member
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

TEXT = (
    "Третий месяц не выплачивают пособие по уходу за ребёнком до полутора лет. "
    "Районное управление соцразвития не отвечает на звонки."
)
ANSWER = (
    "Проверка проведена: задержка возникла из-за ошибки в реквизитах счёта. "
    "Пособие за три месяца будет выплачено до 30 ноября вместе с долгом."
)


def _shot(page, number: int, step: str) -> None:
    page.screenshot(
        path=str(SCREENSHOTS / f"answer-journey-{number:02d}-{step}.png"),
        full_page=True,
    )


def test_routed_drafted_approved_and_read_by_the_citizen(live_server, browser):
    health = AgencyFactory(
        slug="min-health",
        code="MZ",
        name_ky="Саламаттык сактоо министрлиги",
        name_ru="Министерство здравоохранения",
        name_en="Ministry of Health",
        kind="ministry",
    )
    TopicFactory(
        code="social",
        name_ky="Социалдык коргоо",
        name_ru="Социальная защита",
        name_en="Social protection",
    )
    clerk = staff_member("clerk", username="clerk")
    staff_member(
        "controller", username="controller", first_name="Бакыт", last_name="Осмонов"
    )
    head = staff_member(
        "head", health, username="head", first_name="Нурлан", last_name="Абдыкеров"
    )
    executor = staff_member(
        "executor",
        health,
        username="executor",
        first_name="Гүлзат",
        last_name="Токтогулова",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The citizen writes on the portal in Russian.
    citizen_context = browser.new_context(viewport=VIEWPORT)
    citizen = citizen_context.new_page()
    citizen.goto(f"{live_server.url}/ru/appeal/")
    citizen.locator("#id_kind_1").check()  # statement
    citizen.locator("#id_topic").select_option("social")
    citizen.locator("#id_text").fill(TEXT)
    citizen.locator("#id_applicant_name").fill("Иванова Мария Петровна")
    citizen.locator("#id_applicant_address").fill("Бишкек, ул. Токтогула, 1, кв. 5")
    citizen.locator("#id_applicant_email").fill("maria@example.kg")
    citizen.locator("#id_consent").check()
    _shot(citizen, 1, "citizen-form")
    citizen.locator("main button[type=submit]").click()
    citizen.wait_for_selector("#tracking-number")
    _shot(citizen, 2, "citizen-sent")
    tracking = citizen.locator("#tracking-number").inner_text().strip()
    code = citizen.locator("#access-code").inner_text().strip()
    citizen_context.close()
    appeal = Appeal.objects.get()
    assert appeal.language == "ru" and appeal.tracking_number == tracking

    # The chancellery's clerk registers it (not this journey's point).
    registration.register_appeal(
        appeal_id=appeal.pk,
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
    )
    appeal.refresh_from_db()
    number = appeal.registration_number

    # The controller routes it to the Ministry of Health.
    context, page = staff_page(browser, live_server, lang="ru", username="controller")
    page.locator("a.nav-link[href='/ru/staff/routing/']").click()
    page.wait_for_selector("h1")
    _shot(page, 3, "controller-queue")
    page.locator("main table a", has_text=number).click()
    page.wait_for_selector("#route-form")
    page.locator("#id_lead").select_option("min-health")
    page.locator("#id_cover_note").fill("Прошу рассмотреть в установленный срок.")
    _shot(page, 4, "controller-route")
    page.locator("#route-form button[type=submit]").click()
    page.wait_for_url("**/ru/staff/routing/")
    assert (
        "Министерство здравоохранения"
        in page.locator("main .alert-success").inner_text()
    )
    _shot(page, 5, "controller-routed")
    context.close()
    appeal.refresh_from_db()
    assert appeal.status == Status.ROUTED and appeal.lead_agency == health

    # The head of the ministry assigns an executor.
    head_context, head_page = staff_page(
        browser, live_server, lang="ru", username="head"
    )
    open_from_inbox(head_page, number, tab="new")
    _shot(head_page, 6, "head-work-page")
    head_page.locator("#id_executor").select_option(str(executor.pk))
    head_page.locator("#assign-form button[type=submit]").click()
    head_page.wait_for_selector("#assign-form >> text=Гүлзат Токтогулова")
    _shot(head_page, 7, "head-assigned")
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS

    # The executor drafts the answer and submits it for approval.
    context, page = staff_page(browser, live_server, lang="ru", username="executor")
    page.locator("a.nav-link[href='/ru/staff/inbox/']").click()
    page.wait_for_selector("h1")
    _shot(page, 8, "executor-inbox")
    open_from_inbox(page, number, tab="in_progress")
    page.locator("#id_outcome_0").check()  # supported
    page.locator("#id_text").fill(ANSWER)
    _shot(page, 9, "executor-draft")
    page.locator("#answer-form button[value=submit]").click()
    page.wait_for_selector("#answer-for-approval")
    _shot(page, 10, "executor-submitted")
    # The executor cannot approve their own answer.
    assert page.locator("#answer-for-approval form").count() == 0
    context.close()

    # The head approves: the letter goes to the citizen.
    open_from_inbox(head_page, number, tab="in_progress")
    assert ANSWER in head_page.locator("#answer-for-approval").inner_text()
    _shot(head_page, 11, "head-approval")
    head_page.locator("#answer-for-approval button.btn-success").click()
    head_page.wait_for_url("**/ru/staff/inbox/")
    _shot(head_page, 12, "head-approved")
    head_context.close()
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.outcome == "supported"
    assert appeal.answers.get().approved_by == head

    # Later, in a fresh session, the citizen reads the answer and downloads the letter.
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live_server.url}/ru/track/")
    page.locator("#id_tracking_number").fill(tracking)
    page.locator("#id_access_code").fill(code)
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#appeal-answer")
    _shot(page, 13, "citizen-answer")
    section = page.locator("#appeal-answer")
    assert ANSWER in section.inner_text()
    assert "Министерство здравоохранения" in section.inner_text()
    link = section.get_by_role("link", name="Скачать письмо с ответом (PDF)")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"answer-{number}.pdf"
    letter = Path(download.path()).read_bytes()
    assert letter.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=letter, capture_output=True, check=True
        ).stdout.decode()
        assert "министерство здравоохранения" in text.lower()  # the letterhead
        assert "до 30 ноября" in text
        assert number in text
        assert "Абдыкеров" in text  # signed by the head who approved
    context.close()
