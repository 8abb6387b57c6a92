"""Staff login: lockout after repeated failures (django-axes, in the database), the
failed-attempt limit per address, two-factor login required for controllers, heads and
admins (django-otp), its enrolment and backup codes, and the password rules."""

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from appeals.accounts import two_factor
from tests.factories import AgencyFactory, UserFactory, staff_member
from tests.helpers import current_code, login_staff, second_factor_device

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
LOGIN = "/en/staff/login/"
CODE = "/en/staff/login/code/"
SETUP = "/en/staff/login/authenticator/"
DASHBOARD = "/en/staff/"


def _client(address: str = "10.1.1.1") -> Client:
    return Client(REMOTE_ADDR=address)


def _password_step(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def _superuser():
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.save()  # the factory's password
    return user


# --- Lockout --------------------------------------------------------------------


def test_five_wrong_passwords_lock_out_that_username_from_that_address():
    staff_member("clerk", username="aigul")
    client = _client("10.1.1.1")
    for _attempt in range(5):
        response = _password_step(client, "aigul", "not-the-password-1")
        assert response.status_code in (200, 429)
    assert AccessAttempt.objects.filter(
        username="aigul", ip_address="10.1.1.1"
    ).exists()
    response = _password_step(client, "aigul")  # the right password, too late
    assert response.status_code == 429
    page = response.content.decode()
    assert "Logging in is paused" in page
    assert "You can try again in 30 minutes." in page
    assert "_auth_user_id" not in client.session
    # Another computer (another address) still logs the same person in.
    other = _password_step(_client("10.2.2.2"), "aigul")
    assert other.status_code == 302 and other["Location"] == DASHBOARD


def test_four_wrong_passwords_then_the_right_one_log_in_and_start_counting_again():
    staff_member("clerk", username="aigul")
    client = _client()
    for _attempt in range(4):
        assert _password_step(client, "aigul", "wrong-password-12").status_code == 200
    assert _password_step(client, "aigul").status_code == 302
    assert not AccessAttempt.objects.filter(username="aigul").exists()


def test_the_django_admin_login_is_locked_out_too():
    _superuser()
    client = _client("10.3.3.3")
    for _attempt in range(5):
        client.post(
            "/en/admin/login/", {"username": "root", "password": "wrong-password-1"}
        )
    response = client.post(
        "/en/admin/login/", {"username": "root", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Logging in is paused" in response.content.decode()
    # The lockout holds on the staff login page as well: same username, same address.
    assert _password_step(client, "root").status_code == 429


def test_failures_from_one_address_are_limited_whatever_the_username(settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "login": (3, 900)}
    staff_member("clerk", username="aigul")
    client = _client("10.4.4.4")
    for name in ("a1", "a2", "a3"):
        assert _password_step(client, name, "wrong-password-12").status_code == 200
    response = _password_step(client, "aigul")
    assert response.status_code == 429
    assert "Logging in is paused" in response.content.decode()
    assert _password_step(_client("10.5.5.5"), "aigul").status_code == 302


# --- Second factor: who needs it ------------------------------------------------


@pytest.mark.parametrize("role", ["controller", "head"])
def test_controllers_and_heads_without_an_app_are_sent_to_set_one_up(role):
    staff_member(role, AgencyFactory(), username="worker")
    client = _client()
    response = _password_step(client, "worker")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fen%2Fstaff%2F"
    # The workspace refuses until the login is confirmed.
    for url in (DASHBOARD, "/en/staff/journal/", "/en/staff/figures/"):
        refused = client.get(url)
        assert refused.status_code == 302
        assert refused["Location"].startswith(SETUP)


def test_a_superuser_must_confirm_before_the_django_admin_opens():
    _superuser()
    client = _client()
    response = client.post(
        "/en/admin/login/?next=/en/admin/",
        {"username": "root", "password": PASSWORD, "next": "/en/admin/"},
    )
    assert response.status_code == 302
    refused = client.get("/en/admin/")
    assert refused.status_code == 302
    assert refused["Location"] == f"{SETUP}?next=%2Fen%2Fadmin%2F"
    assert client.get("/en/admin/auth/user/").status_code == 302


def test_a_superuser_with_an_app_reaches_the_admin_after_the_code():
    root = _superuser()
    device = second_factor_device(root)
    client = _client()
    client.post("/en/admin/login/", {"username": "root", "password": PASSWORD})
    refused = client.get("/en/admin/")
    assert refused["Location"] == f"{CODE}?next=%2Fen%2Fadmin%2F"
    response = client.post(CODE, {"code": current_code(device), "next": "/en/admin/"})
    assert response.status_code == 302 and response["Location"] == "/en/admin/"
    assert client.get("/en/admin/").status_code == 200


@pytest.mark.parametrize("role", ["clerk", "executor", "manager"])
def test_other_roles_work_with_the_password_alone(role):
    staff_member(role, AgencyFactory(), username="worker")
    client = _client()
    response = _password_step(client, "worker")
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200


def test_a_clerk_who_chose_an_app_is_asked_for_its_code():
    clerk = staff_member("clerk", username="aigul")
    second_factor_device(clerk)
    client = _client()
    response = _password_step(client, "aigul")
    assert response["Location"] == f"{CODE}?next=%2Fen%2Fstaff%2F"
    assert client.get(DASHBOARD)["Location"].startswith(CODE)


def test_citizens_pages_never_ask_for_a_code():
    staff_member("controller", username="bakyt")
    client = _client()
    _password_step(client, "bakyt")
    assert client.get("/en/").status_code == 200
    assert client.get("/en/track/").status_code == 200


# --- Second factor: the code step ------------------------------------------------


def test_the_right_code_confirms_the_login_and_keeps_where_the_user_was_going():
    head = staff_member("head", AgencyFactory(), username="dinara")
    device = second_factor_device(head)
    client = _client()
    response = _password_step(client, "dinara", next="/en/staff/inbox/")
    assert response["Location"] == f"{CODE}?next=%2Fen%2Fstaff%2Finbox%2F"
    session_key = client.session.session_key
    response = client.post(
        CODE, {"code": current_code(device), "next": "/en/staff/inbox/"}
    )
    assert response.status_code == 302 and response["Location"] == "/en/staff/inbox/"
    assert client.session.session_key != session_key  # a new key once confirmed
    assert client.get("/en/staff/inbox/").status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message():
    controller = staff_member("controller", username="bakyt")
    device = second_factor_device(controller)
    client = _client()
    _password_step(client, "bakyt")
    right = current_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This code is not right or has expired." in page
    assert 'aria-invalid="true"' in page
    assert client.get(DASHBOARD)["Location"].startswith(CODE)


def _after_wrong_codes(device, count: int) -> None:
    """The device as django-otp leaves it after `count` wrong codes in a row (each
    one doubles the wait before the next try: 1, 2, 4, 8 seconds...)."""
    for _attempt in range(count):
        device.throttle_increment()


def test_a_code_sent_too_soon_after_wrong_ones_is_told_to_wait():
    controller = staff_member("controller", username="bakyt")
    device = second_factor_device(controller)
    right = current_code(device)
    _after_wrong_codes(device, 4)
    client = _client()
    _password_step(client, "bakyt")
    response = client.post(CODE, {"code": right})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r"Too many wrong codes: wait [78] seconds and try again.", page)
    assert "not right" not in page
    assert client.get(DASHBOARD)["Location"].startswith(CODE)


def test_a_backup_code_sent_too_soon_is_told_to_wait_in_the_users_language():
    controller = staff_member("controller", username="bakyt")
    second_factor_device(controller)
    codes = two_factor.issue_backup_codes(user=controller)
    _after_wrong_codes(StaticDevice.objects.get(user=controller), 1)
    client = _client()
    client.post("/ru/staff/login/", {"username": "bakyt", "password": PASSWORD})
    response = client.post("/ru/staff/login/code/", {"code": codes[0]})
    page = response.content.decode()
    assert "Слишком много неверных кодов: подождите 1 секунду" in page
    assert StaticToken.objects.filter(token=codes[0]).exists()  # not spent


def test_enrolment_tells_to_wait_after_wrong_codes():
    head = staff_member("head", AgencyFactory(), username="dinara")
    client = _client()
    _password_step(client, "dinara")
    client.get(SETUP)
    pending = TOTPDevice.objects.get(user=head)
    right = current_code(pending)
    _after_wrong_codes(pending, 3)
    response = client.post("/ky/staff/login/authenticator/", {"code": right})
    page = response.content.decode()
    assert re.search(r"Туура эмес коддор өтө көп: [34] секунд күтүп", page)
    pending.refresh_from_db()
    assert not pending.confirmed


def test_the_code_step_speaks_the_users_language():
    controller = staff_member("controller", username="bakyt")
    second_factor_device(controller)
    client = _client()
    client.post("/ru/staff/login/", {"username": "bakyt", "password": PASSWORD})
    page = client.get("/ru/staff/login/code/").content.decode()
    assert '<html lang="ru"' in page
    assert 'name="code"' in page


def test_an_off_site_next_is_ignored():
    controller = staff_member("controller", username="bakyt")
    device = second_factor_device(controller)
    client = _client()
    _password_step(client, "bakyt")
    response = client.post(
        CODE, {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == DASHBOARD


def test_a_backup_code_works_once():
    controller = staff_member("controller", username="bakyt")
    second_factor_device(controller)
    codes = two_factor.issue_backup_codes(user=controller)
    client = _client()
    _password_step(client, "bakyt")
    response = client.post(CODE, {"code": codes[0].upper()})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    again = _client()
    _password_step(again, "bakyt")
    assert again.post(CODE, {"code": codes[0]}).status_code == 200
    assert StaticToken.objects.filter(device__user=controller).count() == 9


def test_the_password_alone_cannot_replace_the_app():
    controller = staff_member("controller", username="bakyt")
    device = second_factor_device(controller)
    client = _client()
    _password_step(client, "bakyt")
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(CODE)
    assert list(TOTPDevice.objects.filter(user=controller)) == [device]


# --- Enrolment ---------------------------------------------------------------------


def test_enrolment_confirms_the_app_only_with_its_right_code():
    head = staff_member("head", AgencyFactory(), username="dinara")
    client = _client()
    _password_step(client, "dinara")
    page = client.get(SETUP).content.decode()
    pending = TOTPDevice.objects.get(user=head)
    assert not pending.confirmed
    assert 'src="data:image/svg+xml;base64,' in page
    assert two_factor.secret_text(pending) in page
    assert "<script" not in page.split("<main", 1)[1].split("</main>")[0]

    right = current_code(pending)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 200
    assert "This code is not right or has expired." in response.content.decode()
    pending.refresh_from_db()
    assert not pending.confirmed
    assert client.get(DASHBOARD)["Location"].startswith(SETUP)

    response = client.post(SETUP, {"code": right, "next": "/en/staff/inbox/"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your backup codes" in page
    pending.refresh_from_db()
    assert pending.confirmed
    tokens = set(
        StaticToken.objects.filter(device__user=head).values_list("token", flat=True)
    )
    assert len(tokens) == 10
    assert tokens == set(re.findall(r'<li class="col">(\w+)</li>', page))
    assert 'href="/en/staff/inbox/"' in page
    assert client.get(DASHBOARD).status_code == 200


def test_the_qr_code_carries_the_secret_for_the_app():
    head = staff_member("head", AgencyFactory(), username="dinara")
    device = two_factor.pending_app_device(user=head)
    assert device.config_url.startswith("otpauth://totp/appeals.gov.kg%3Adinara?")
    assert "secret=" + two_factor.secret_text(device).replace(" ", "") in (
        device.config_url
    )
    # Reloading the page shows the same code until it is confirmed.
    assert two_factor.pending_app_device(user=head) == device


def test_a_confirmed_user_may_replace_the_app_and_old_codes_stop_working():
    clerk = staff_member("clerk", username="aigul")
    old = second_factor_device(clerk)
    old_codes = two_factor.issue_backup_codes(user=clerk)
    client = _client()
    login_staff(client, clerk)
    page = client.get(SETUP).content.decode()
    assert "the old app and your old backup codes stop working" in page
    new = TOTPDevice.objects.get(user=clerk, confirmed=False)
    response = client.post(SETUP, {"code": current_code(new)})
    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=clerk)) == [new]
    assert not StaticToken.objects.filter(token__in=old_codes).exists()
    assert StaticDevice.objects.filter(user=clerk).count() == 1
    assert old.pk != new.pk


def test_the_login_helper_confirms_with_a_real_device():
    controller = staff_member("controller")
    client = Client()
    login_staff(client, controller)
    assert client.get(DASHBOARD).status_code == 200
    assert TOTPDevice.objects.filter(user=controller, confirmed=True).count() == 1


# --- Passwords ---------------------------------------------------------------------


def _aigul():
    return UserFactory.build(
        username="aigul.toktosunova", first_name="Aigul", last_name="Toktosunova"
    )


@pytest.mark.parametrize(
    "password",
    ["short-pw1", "password1234", "149372861054", "aigul.toktosunova1"],
    ids=["shorter-than-12", "common", "all-digits", "like-the-username"],
)
def test_weak_staff_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, _aigul())


def test_a_long_uncommon_password_is_accepted():
    validate_password("Kb7#qz-river-lamp", _aigul())


def test_behind_the_proxy_the_client_address_counts_not_the_proxys(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    staff_member("clerk", username="aigul")
    proxy = _client("172.18.0.1")
    for _attempt in range(5):
        proxy.post(
            LOGIN,
            {"username": "aigul", "password": "wrong-password-12"},
            HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5",  # forged, then real
        )
    assert AccessAttempt.objects.get(username="aigul").ip_address == "203.0.113.5"
    right = {"username": "aigul", "password": PASSWORD}
    locked = proxy.post(LOGIN, right, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    # Someone else behind the same proxy is not locked out with them.
    other = proxy.post(LOGIN, right, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert other.status_code == 302
