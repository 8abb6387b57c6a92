"""An agency head's first login: password, then the authenticator app is set up from the
QR page's key, the backup codes are shown once; the next login asks for a code and a
backup code works. No Content-Security-Policy violation on the way."""

import base64

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AgencyFactory, staff_member
from tests.helpers import SCREENSHOTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

PASSWORD = "a-long-test-password"


def _password_step(page, base_url: str, lang: str) -> None:
    page.goto(f"{base_url}/{lang}/staff/login/")
    page.locator("#id_username").fill("dinara")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()


def test_a_head_sets_up_the_app_on_first_login_and_confirms_later_logins(
    live_server, browser
):
    head = staff_member("head", AgencyFactory(), username="dinara")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    violations = []
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    base = live_server.url

    _password_step(page, base, "ky")
    page.wait_for_url(f"{base}/ky/staff/login/authenticator/**")
    qr = page.locator("img.two-factor-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "staff-two-factor-setup-ky.png"))
    # The person types the key shown in text into their app; the app computes codes.
    secret = page.locator("main code").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.locator("#id_code").fill(f"{totp(key):06d}")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_selector(".backup-codes")
    codes = page.locator(".backup-codes li").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(SCREENSHOTS / "staff-two-factor-backup-codes-ky.png"))
    page.locator("main a.btn-primary").click()
    page.wait_for_url(f"{base}/ky/staff/")
    assert TOTPDevice.objects.get(user=head).confirmed

    page.locator("form[action$='/staff/logout/'] button").click()
    _password_step(page, base, "ru")
    page.wait_for_url(f"{base}/ru/staff/login/code/**")
    page.locator("#id_code").fill(f"{(totp(key) + 1) % 1_000_000:06d}")  # mistyped
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_selector("#id_code_errors")
    page.screenshot(path=str(SCREENSHOTS / "staff-two-factor-code-ru.png"))
    page.locator("#id_code").fill(codes[0])
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{base}/ru/staff/")
    assert violations == []


def test_five_wrong_passwords_show_the_calm_lockout_page(live_server, browser):
    staff_member("clerk", username="aigul")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    for _attempt in range(5):
        page.goto(f"{live_server.url}/ky/staff/login/")
        page.locator("#id_username").fill("aigul")
        page.locator("#id_password").fill("not-the-password")
        page.locator("#id_password").press("Enter")
        page.wait_for_load_state()
    response = page.goto(f"{live_server.url}/ky/staff/login/")
    page.locator("#id_username").fill("aigul")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#id_password").press("Enter")
    assert response.ok and posted.value.status == 429
    # The locked page loaded before the shot (taken mid-navigation, Chromium refused).
    page.wait_for_load_state()
    assert page.locator("main .alert-warning").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "staff-login-locked-ky.png"))
