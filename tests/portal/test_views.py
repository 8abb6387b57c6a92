import pytest
from django.urls import reverse
from django.utils import translation

from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

HEADINGS = {
    "ky": "Мамлекеттик органга кайрылуу жөнөтүү",
    "ru": "Направить обращение в государственный орган",
    "en": "Send an appeal to a state body",
}


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_home_page_speaks_each_language(client, lang):
    response = client.get(f"/{lang}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    assert HEADINGS[lang] in html


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        ("ru-RU,ru;q=0.9", "/ru/"),
        ("en-GB,en;q=0.8", "/en/"),
        ("ky", "/ky/"),
        ("de", "/ky/"),
    ],
)
def test_root_redirects_to_preferred_language_or_kyrgyz(client, accept, target):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response["Location"] == target


def test_language_switcher_links_keep_the_current_page(client):
    html = client.get("/ru/?q=1").content.decode()
    assert 'href="/ky/?q=1"' in html
    assert 'href="/en/?q=1"' in html


def test_pages_load_bootstrap_from_the_project_not_a_cdn(client):
    html = client.get("/en/").content.decode()
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "cdn" not in html.lower()


def test_accessibility_choice_is_remembered_between_visits(client):
    with translation.override("en"):
        url = reverse("accessibility")
    response = client.post(url, {"font": "200", "next": "/en/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    client.post(url, {"contrast": "on", "next": "/en/"})
    html = client.get("/en/").content.decode()
    assert 'class="a11y-contrast a11y-font-200"' in html
    client.post(url, {"reset": "1", "next": "/en/"})
    assert 'class=""' in client.get("/en/").content.decode()


def test_the_panel_shows_each_visitors_own_modes_in_their_language(client):
    """The header, menu, panel and footer are rendered once per language (and set of
    modes) and kept: each visitor still sees their own language and choices."""
    from django.test import Client

    plain = client.get("/en/").content.decode()
    assert 'name="contrast" value="on" aria-pressed="false"' in plain
    other = Client()
    other.post("/en/accessibility/", {"contrast": "on", "next": "/en/"})
    html = other.get("/en/").content.decode()
    assert 'name="contrast" value="off" aria-pressed="true"' in html
    assert (
        'name="contrast" value="on" aria-pressed="false"'
        in client.get("/en/").content.decode()
    )
    footers = {
        "ky": "Кыргыз Республикасынын",
        "ru": "Кыргызской Республики",
        "en": "of the Kyrgyz Republic",
    }
    for lang in ("ky", "ru", "en", "ky"):
        html = client.get(f"/{lang}/").content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert footers[lang] in footer
        assert f'href="/{lang}/track/"' in html


def test_accessibility_switch_refuses_to_redirect_elsewhere(client):
    response = client.post("/en/accessibility/", {"next": "https://evil.example/"})
    assert response["Location"] == "/en/"


def test_liveness_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_pages_forbid_framing(client):
    assert client.get("/en/")["X-Frame-Options"] == "DENY"


def test_admin_is_for_superusers(client, django_user_model):
    response = client.get("/en/admin/")
    assert response.status_code == 302
    admin = django_user_model.objects.create_superuser("root", password="x" * 16)
    login_staff(client, admin)
    assert client.get("/en/admin/").status_code == 200


def test_pages_send_a_content_security_policy_without_inline_code(client):
    policy = client.get("/en/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_staff_login_lasts_a_working_day(client, django_user_model):
    from tests.factories import staff_member

    staff_member("clerk", username="aigul2")
    client.post(
        "/en/staff/login/", {"username": "aigul2", "password": "a-long-test-password"}
    )
    assert client.session.get_expiry_age() == 8 * 3600
