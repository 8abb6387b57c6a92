"""The processing-policy page (/<lang>/privacy/, issue 29 part 4): public, in ky, ru and
en, the holder's facts from the settings, the policy in effect from the admin's text,
the retention period from its setting, the rights with the tracking page, and linked
from every footer and the consent checkbox."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from appeals.models import ConsentVersion, ProcessingPolicy
from appeals.views.privacy_policy import Section, policy_sections
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADINGS = {
    "ky": "Өлкөдөн тышкары берилбейт",
    "ru": "Данные не покидают страну",
    "en": "Nothing leaves the country",
}


@pytest.fixture
def holder(settings):
    settings.PERSONAL_DATA_HOLDER_NAME = "Мамлекеттик портал ишканасы"
    settings.PERSONAL_DATA_HOLDER_ADDRESS = "Бишкек ш., Тестовая к., 1"
    settings.PERSONAL_DATA_REGISTRY_NUMBER = "РП-2026-0042"
    settings.PERSONAL_DATA_OFFICER_CONTACT = "dpo@example.kg"
    settings.PERSONAL_DATA_RETENTION_DAYS = 1000
    return settings


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_the_page_opens_to_anyone_in_each_language(client, holder, lang):
    response = client.get(f"/{lang}/privacy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    assert f">{HEADINGS[lang]}</h2>" in html  # the admin's policy, in this language
    assert "Мамлекеттик портал ишканасы" in html
    assert "Бишкек ш., Тестовая к., 1" in html
    assert '<dd class="col-sm-8" id="registry-number">РП-2026-0042</dd>' in html
    assert 'href="mailto:dpo@example.kg"' in html
    assert f'href="/{lang}/track/"' in html  # how to use the rights
    consent = ConsentVersion.objects.get()
    assert getattr(consent, f"text_{lang}")[:60] in html
    assert 'id="consent"' in html


def test_the_english_page_names_what_the_issue_asks(client, holder):
    html = client.get("/en/privacy/").content.decode()
    for words in (
        "Who holds the data",
        "Purposes",
        "What is held",
        "Who receives it",
        "Nothing leaves the country",
        "How long it is kept",
        "removed 1000 days after the appeal is closed",
        "see what is held about you",
        "add to your appeal",
        "withdraw your appeal",
    ):
        assert words in html, words


def test_the_retention_period_follows_its_setting(client, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 3 * 365
    html = client.get("/en/privacy/").content.decode()
    assert "removed 1095 days after the appeal is closed" in html
    assert "about 3 years" in html


def test_the_holder_defaults_are_translated_names(client):
    html = client.get("/en/privacy/").content.decode()
    assert "Apparatus of the Cabinet of Ministers of the Kyrgyz Republic" in html
    assert "DEMO-0000" in html


def test_the_page_shows_the_latest_policy_in_effect(client):
    now = timezone.now()
    ProcessingPolicy.objects.create(
        effective_from=now - dt.timedelta(hours=1),
        body="x",
        body_ky="# Жаңы\nЖаңы текст.",
        body_ru="# Новая\nНовый текст.",
        body_en="# Newer\nNewer text.",
    )
    ProcessingPolicy.objects.create(
        effective_from=now + dt.timedelta(days=5),
        body="y",
        body_en="# Not yet\nFuture text.",
    )
    html = client.get("/en/privacy/").content.decode()
    assert ">Newer</h2>" in html and "Newer text." in html
    assert "Future text." not in html and "Nothing leaves the country" not in html


def test_without_a_policy_the_settings_facts_still_show(client):
    ProcessingPolicy.objects.all().delete()
    ConsentVersion.objects.all().delete()
    response = client.get("/en/privacy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The text of the policy is being prepared" in html
    assert "DEMO-0000" in html and "How long it is kept" in html


def test_the_admins_text_is_escaped(client):
    ProcessingPolicy.objects.all().delete()
    ProcessingPolicy.objects.create(
        effective_from=timezone.now(),
        body="x",
        body_en="# <script>alert(1)</script>\n<b>bold</b>",
    )
    html = client.get("/en/privacy/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_every_footer_links_the_page(client, lang):
    for path in ("/", "/track/", "/appeal/", "/agencies/"):
        html = client.get(f"/{lang}{path}").content.decode()
        assert f'<p class="mb-0 small"><a href="/{lang}/privacy/">' in html, path
    embed = client.get(f"/{lang}/embed/gov-apparatus/").content.decode()
    assert f'href="/{lang}/privacy/" target="_blank"' in embed


def test_a_half_logged_in_member_of_staff_reads_it_too():
    """Public: no second-factor step in front of it."""
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin.save()
    client = Client()
    client.force_login(admin)
    assert client.get("/ru/privacy/").status_code == 200


def test_the_policy_text_becomes_sections():
    body = "Intro line\n\n# Purposes\nOne\ntwo\n\nThree\n\n#Not a heading\n# Second\n"
    assert policy_sections(body) == [
        Section("", ["Intro line"]),
        Section("Purposes", ["One\ntwo", "Three", "#Not a heading"]),
        Section("Second", []),
    ]
    assert policy_sections("") == []
    assert policy_sections("a\r\n\r\nb") == [Section("", ["a", "b"])]
