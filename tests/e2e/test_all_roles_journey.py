"""Every role in one suite, in Chromium: a citizen files in Russian with an attachment;
a clerk registers it, a paper appeal from the Jogorku Kenesh and an oral one; the
controller routes all three to the ministry; its head assigns an executor, who drafts
the answer to the citizen, which the head approves; the citizen reads it in Russian,
rates it and asks for a re-review; a manager downloads the quarter's PDF and finds
these appeals counted in it."""

import re
import subprocess

import pytest
from django.utils import timezone

from appeals.models import Appeal, Rating, Status
from tests.e2e.steps import (
    VIEWPORT,
    file_appeal,
    open_from_inbox,
    register_paper,
    route,
    shot,
    staff_page,
    track,
)
from tests.e2e.world import quarter_of
from tests.factories import AgencyFactory, TopicFactory, staff_member
from tests.files import pdf_bytes, png_bytes
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

ANSWER = (
    "Ремонт дороги по улице Ленина включён в план на следующий год; "
    "ямочный ремонт будет проведён до 1 декабря."
)


def _people():
    ministry = AgencyFactory(
        slug="min-transport",
        code="MT",
        name_ky="Транспорт министрлиги",
        name_ru="Министерство транспорта",
        name_en="Ministry of Transport",
    )
    TopicFactory(code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads")
    staff_member("clerk", username="clerk", first_name="Айгүл", last_name="Бекова")
    staff_member("controller", username="controller")
    staff_member("manager", username="manager")
    staff_member("head", ministry, username="head", last_name="Абдыкеров")
    executor = staff_member(
        "executor", ministry, username="executor", last_name="Токтогулова"
    )
    return executor


def test_every_role_in_one_journey(live_server, browser, tmp_path):
    executor = _people()
    base = live_server.url
    photo = tmp_path / "яма.png"
    photo.write_bytes(png_bytes(40, 30))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdf_bytes())

    # 1. The citizen files in Russian, with a photo.
    citizen = browser.new_context(viewport=VIEWPORT)
    page = citizen.new_page()
    tracking, code = file_appeal(
        page,
        base,
        lang="ru",
        fields={
            "id_kind_2": True,  # complaint
            "id_topic": "select:roads",
            "id_text": "На улице Ленина в Караколе яма на всю ширину дороги.",
            "id_applicant_name": "Иванова Мария Петровна",
            "id_applicant_email": "maria@example.kg",
            "id_consent": True,
        },
        files=[photo],
    )
    shot(page, "all-roles-01-citizen-sent")
    citizen.close()

    # 2. The clerk registers the portal appeal, a paper one from the Jogorku Kenesh
    #    and an oral one heard at the reception.
    context, page = staff_page(browser, live_server, "clerk", lang="ru")
    page.goto(f"{base}/ru/staff/queue/")
    page.locator("main table a").first.click()
    page.locator("main form button[type=submit]", has_text="Зарегистрировать").click()
    page.wait_for_selector("#registration-number")
    portal_number = page.locator("#registration-number").inner_text().strip()
    paper_number = register_paper(
        page,
        base,
        lang="ru",
        form="written",
        fields={
            "id_channel": "select:jogorku_kenesh",
            "id_cover_letter_number": "ЖК-77/26",
            "id_cover_letter_date": timezone.localdate().isoformat(),
            "id_applicant_name": "Турдубаев Нурбек",
            "id_applicant_address": "Нарын, ул. Ленина, 12",
            "id_kind": "select:complaint",
            "id_topic": "select:roads",
            "id_language": "select:ru",
            "id_text": "Жалоба на состояние моста через реку Нарын.",
        },
        scan=scan,
    )
    shot(page, "all-roles-02-clerk-paper")
    oral_number = register_paper(
        page,
        base,
        lang="ru",
        form="oral",
        fields={
            "id_applicant_name": "Садыкова Айжан",
            "id_applicant_phone": "+996 555 000 111",
            "id_kind": "select:proposal",
            "id_topic": "select:roads",
            "id_language": "select:ru",
            "id_text": "Предлагает установить светофор у школы № 5.",
        },
    )
    shot(page, "all-roles-03-clerk-oral")
    context.close()
    numbers = (portal_number, paper_number, oral_number)
    assert len(set(numbers)) == 3

    # 3. The controller routes all three to the ministry.
    context, page = staff_page(browser, live_server, "controller", lang="ru")
    for number in numbers:
        route(page, lang="ru", number=number, lead="min-transport")
    shot(page, "all-roles-04-controller-routed")
    context.close()
    assert set(
        Appeal.objects.filter(registration_number__in=numbers).values_list(
            "status", flat=True
        )
    ) == {Status.ROUTED}

    # 4. The head assigns the executor to each; the executor drafts the citizen's
    #    answer; the head approves it.
    head_context, head = staff_page(browser, live_server, "head", lang="ru")
    for number in numbers:
        open_from_inbox(head, number, tab="new")
        head.locator("#id_executor").select_option(str(executor.pk))
        head.locator("#assign-form button[type=submit]").click()
        head.wait_for_selector("#assign-form >> text=Токтогулова")
    context, page = staff_page(browser, live_server, "executor", lang="ru")
    open_from_inbox(page, portal_number, tab="in_progress")
    page.locator("#id_outcome_0").check()  # supported
    page.locator("#id_text").fill(ANSWER)
    page.locator("#answer-form button[value=submit]").click()
    page.wait_for_selector("#answer-for-approval")
    shot(page, "all-roles-05-executor-draft")
    context.close()
    open_from_inbox(head, portal_number, tab="in_progress")
    head.locator("#answer-for-approval button.btn-success").click()
    head.wait_for_url("**/ru/staff/inbox/")
    shot(head, "all-roles-06-head-approved")
    head_context.close()

    # 5. The citizen reads the answer in Russian, rates it, asks for a re-review.
    citizen = browser.new_context(viewport=VIEWPORT)
    page = citizen.new_page()
    track(page, base, lang="ru", tracking=tracking, code=code)
    answer = page.locator("#appeal-answer")
    assert ANSWER in answer.inner_text()
    assert "Ответ" in answer.locator("h2").inner_text()
    shot(page, "all-roles-07-citizen-answer")
    page.locator("#rating-form #id_score_2").check()  # 3 of 5
    page.locator("#rating-form #id_addressed_1").check()  # no
    page.locator("#rating-form button[type=submit]").click()
    page.wait_for_selector("#re-review-form")
    page.locator("#re-review-form #id_reason").fill(
        "Срок ремонта не назван, яма остаётся опасной."
    )
    page.locator("#re-review-form button[type=submit]").click()
    page.wait_for_selector("#appeal-history")
    shot(page, "all-roles-08-citizen-re-review")
    citizen.close()
    appeal = Appeal.objects.get(tracking_number=tracking)
    assert appeal.status == Status.RE_REVIEW
    assert Rating.objects.get().score == 3

    # 6. The manager downloads this quarter's PDF: two written appeals (one through
    #    the portal, one from the Jogorku Kenesh) and one oral appeal.
    context, page = staff_page(browser, live_server, "manager", lang="ru")
    page.goto(f"{base}/ru/statistics/manager/")
    today = timezone.localdate()
    page.locator("#id_kind").select_option(quarter_of(today))
    page.locator("#id_year").fill(str(today.year))
    page.locator("#id_language").select_option("ru")
    shot(page, "all-roles-09-manager")
    with page.expect_download() as download_info:
        page.locator("#report-picker button[value=pdf]").click()
    pdf = SCREENSHOTS / "all-roles-10-manager-report.pdf"
    download_info.value.save_as(pdf)
    context.close()
    assert pdf.read_bytes().startswith(b"%PDF")
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
        ).stdout.split()
    )
    written = re.search(r"поступило письменных обращений: (\d+)", text)
    oral = re.search(r"принято устных обращений: (\d+)", text)
    assert written and written.group(1) == "2", text[:600]
    assert oral and oral.group(1) == "1", text[:600]
    assert re.search(r"Из Жогорку Кенеша — 1 \(50,0", text), text[:600]
    assert re.search(r"Через электронный портал — 1 \(50,0", text), text[:600]
