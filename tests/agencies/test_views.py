import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from agencies.models import Agency

pytestmark = pytest.mark.django_db

HEALTH_NAMES = {
    "ky": "Кыргыз Республикасынын Саламаттык сактоо министрлиги",
    "ru": "Министерство здравоохранения Кыргызской Республики",
    "en": "Ministry of Health of the Kyrgyz Republic",
}


@pytest.fixture
def health() -> Agency:
    return Agency.objects.create(
        slug="min-health",
        code="MZ",
        kind=Agency.Kind.MINISTRY,
        name_ky=HEALTH_NAMES["ky"],
        name_ru=HEALTH_NAMES["ru"],
        name_en=HEALTH_NAMES["en"],
        address_ky="Бишкек ш., Москва к., 148",
        address_ru="г. Бишкек, ул. Московская, 148",
        address_en="148 Moskovskaya Street, Bishkek",
        phone="+996 312 62-26-80",
        email="mz@med.kg",
        website="https://med.kg/",
    )


@pytest.fixture
def interior() -> Agency:
    return Agency.objects.create(
        slug="min-interior",
        code="MVD",
        kind=Agency.Kind.MINISTRY,
        name_ky="Кыргыз Республикасынын Ички иштер министрлиги",
        name_ru="Министерство внутренних дел Кыргызской Республики",
        name_en="Ministry of Internal Affairs of the Kyrgyz Republic",
    )


def directory(client, lang: str, **params):
    with translation.override(lang):
        url = reverse("agencies:directory")
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_directory_shows_names_in_the_page_language(client, health, lang):
    html = directory(client, lang)
    assert f'<html lang="{lang}"' in html
    assert HEALTH_NAMES[lang] in html
    for other, name in HEALTH_NAMES.items():
        if other != lang:
            assert name not in html


def test_directory_lists_the_apparatus_first(client, health):
    html = directory(client, "en")
    apparatus = "Apparatus of the Cabinet of Ministers of the Kyrgyz Republic"
    assert html.index(apparatus) < html.index(HEALTH_NAMES["en"])


def test_search_on_the_kyrgyz_page_finds_a_russian_name(client, health, interior):
    html = directory(client, "ky", q="ЗДРАВООХРАНЕНИЯ")
    assert HEALTH_NAMES["ky"] in html
    assert "Ички иштер" not in html
    assert 'value="ЗДРАВООХРАНЕНИЯ"' in html


def test_search_counts_what_it_found(client, health, interior):
    assert "1 state body found" in directory(client, "en", q="health")
    assert "3 state bodies found" in directory(client, "en")


def test_inactive_agencies_are_hidden(client, health, interior):
    interior.is_active = False
    interior.save()
    html = directory(client, "en")
    assert HEALTH_NAMES["en"] in html
    assert "Internal Affairs" not in html
    assert "Internal Affairs" not in directory(client, "en", q="interior")


def test_no_match_says_so_and_escapes_the_query(client, health):
    html = directory(client, "en", q="<b>prosecutor</b>")
    assert "0 state bodies found" in html
    assert "&lt;b&gt;prosecutor&lt;/b&gt;" in html
    assert "<b>prosecutor</b>" not in html
    assert HEALTH_NAMES["en"] not in html


def test_contacts_are_links(client, health):
    html = directory(client, "en", q="MZ")
    assert 'href="tel:+996312622680"' in html
    assert 'href="mailto:mz@med.kg"' in html
    assert 'href="https://med.kg/"' in html
    assert "148 Moskovskaya Street, Bishkek" in html


def test_each_agency_links_to_the_form_with_it_preselected(client, health):
    try:
        with translation.override("ru"):
            file_url = reverse("appeals:file")
    except NoReverseMatch:
        pytest.skip("the filing form is not there yet")
    html = directory(client, "ru", q="MZ")
    assert f'href="{file_url}?agency=min-health"' in html


def test_search_box_has_a_visible_label_and_works_without_javascript(client):
    html = directory(client, "ky")
    form = re.search(r"<form[^>]*role=\"search\"[^>]*>", html).group(0)
    assert 'method="get"' in form
    assert '<label class="form-label" for="directory-q">' in html
    assert 'id="directory-q" name="q"' in html
    assert html.count("<h1") == 1


def test_an_overlong_query_is_cut_not_refused(client, health):
    html = directory(client, "en", q="health" + "x" * 500)
    assert "0 state bodies found" in html
