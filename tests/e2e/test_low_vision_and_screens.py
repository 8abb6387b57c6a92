"""The low-vision panel on public and staff pages, with and without JavaScript; the
public pages on a 360 px phone and a 1280 px screen; the status and receipt pages
printed (print stylesheet) to PDF."""

import subprocess

import pytest

from tests.e2e.steps import file_appeal, shot, staff_page, track
from tests.e2e.world import build_world
from tests.factories import staff_member
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

ROOT_FONT = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
PUBLIC = ["/", "/appeal/", "/track/", "/agencies/", "/statistics/", "/staff/login/"]


def _classes(page) -> str:
    return page.locator("html").get_attribute("class") or ""


def _cookie(context) -> str:
    return next((c["value"] for c in context.cookies() if c["name"] == "a11y"), "")


def test_panel_works_on_staff_pages_and_100_percent_resets_the_text(
    live_server, browser
):
    staff_member("controller", username="controller")
    context, page = staff_page(browser, live_server, "controller", lang="ru")
    panel = page.locator("form.a11y-panel")
    assert panel.is_visible()
    page.get_by_role("button", name="A++").click()
    page.wait_for_function(
        "document.documentElement.classList.contains('a11y-font-200')"
    )
    assert page.evaluate(ROOT_FONT) == 32
    page.get_by_role("button", name="Увеличенный интервал").click()
    # Another staff page, a later visit: the choice is remembered (cookie).
    page.goto(f"{live_server.url}/ru/staff/routing/")
    assert {"a11y-font-200", "a11y-spacing"} <= set(_classes(page).split())
    assert page.evaluate(ROOT_FONT) == 32
    shot(page, "low-vision-staff-200")
    # "A" is the 100 % choice: the text goes back to normal, the spacing stays.
    hundred = page.locator("form.a11y-panel button[name=font][value='100']")
    assert "100" in hundred.inner_text()  # its name, read out: "A text size 100%"
    hundred.click()
    page.wait_for_function(
        "!document.documentElement.classList.contains('a11y-font-200')"
    )
    assert page.evaluate(ROOT_FONT) == 16
    assert hundred.get_attribute("aria-pressed") == "true"
    page.reload()
    assert "a11y-font" not in _classes(page) and "a11y-spacing" in _classes(page)
    assert _cookie(context) == "spacing"
    context.close()


def test_panel_works_without_javascript_and_is_remembered(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/ky/track/")
    page.locator("form.a11y-panel button[name=contrast]").click()  # posts the form
    page.wait_for_url("**/ky/track/")
    page.locator("form.a11y-panel button[name=font][value='150']").click()
    page.wait_for_url("**/ky/track/")
    assert {"a11y-contrast", "a11y-font-150"} <= set(_classes(page).split())
    # A later visit, another page.
    page.goto(f"{live_server.url}/ky/appeal/")
    assert {"a11y-contrast", "a11y-font-150"} <= set(_classes(page).split())
    assert (
        page.evaluate("getComputedStyle(document.body).backgroundColor")
        == "rgb(0, 0, 0)"
    )
    shot(page, "low-vision-no-js-contrast-150")
    page.locator("form.a11y-panel button[name=reset]").click()
    page.wait_for_url("**/ky/appeal/")
    assert "a11y-" not in _classes(page)
    context.close()


def test_public_pages_fit_a_360_px_phone(live_server, browser):
    world = build_world()
    for width in (360, 1280):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        for lang in ("ky", "ru"):
            for path in PUBLIC:
                page.goto(f"{live_server.url}/{lang}{path}")
                name = path.strip("/").replace("/", "-") or "home"
                shot(page, f"screen-{width}-{lang}-{name}")
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, (width, lang, path, scroll)
        track(
            page,
            live_server.url,
            lang="ru",
            tracking=world.answered.tracking_number,
            code=world.answered_code,
        )
        shot(page, f"screen-{width}-ru-status")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()


def _printed(page, name: str) -> str:
    page.emulate_media(media="print")
    path = SCREENSHOTS / f"print-{name}.pdf"
    page.pdf(path=str(path), format="A4", print_background=True)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(path)[:-4],
        ],
        check=True,
    )
    return " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout.split()
    )


def test_receipt_and_answer_pages_print_cleanly(live_server, browser):
    world = build_world()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    tracking, code = file_appeal(
        page,
        live_server.url,
        lang="ru",
        fields={
            "id_kind_0": True,
            "id_topic": "select:social",
            "id_text": "Прошу установить скамейки в парке.",
            "id_applicant_name": "Петрова Анна",
            "id_applicant_phone": "+996 555 111 222",
            "id_consent": True,
        },
    )
    receipt = _printed(page, "receipt-ru")
    assert tracking in receipt and code in receipt
    page.emulate_media(media="screen")
    track(
        page,
        live_server.url,
        lang="ru",
        tracking=world.answered.tracking_number,
        code=world.answered_code,
    )
    answer = _printed(page, "answer-ru")
    assert "пособие будет выплачено" in answer
    for text in (receipt, answer):
        for screen_only in (
            "Открытая статистика",  # the menu
            "Версия для слабовидящих",  # the low-vision panel
            "Отправить оценку",  # buttons
            "Как Вы оцениваете ответ",  # the rating form
            "Перейти к основному содержанию",  # the skip link
        ):
            assert screen_only not in text
    # Black text on white: the page's background when printed.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") in (
        "rgb(255, 255, 255)",
        "rgba(0, 0, 0, 0)",
    )
    page.close()
