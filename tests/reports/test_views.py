import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from agencies.models import Agency
from appeals.intake import filing, registration
from appeals.models import Channel, Form, Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def apparatus() -> Agency:
    return Agency.objects.get(slug="gov-apparatus")


def receive(agency, day, channel, *, form=Form.WRITTEN, count=1, name="Applicant"):
    for _number in range(count):
        registration.import_archival_appeal(
            agency=agency,
            received_on=day,
            channel=channel,
            form=form,
            applicant_name=name,
            delivery="post" if channel == Channel.OTHER else "",
        )


def statistics(client, lang: str, **params):
    with translation.override(lang):
        url = reverse("reports:open_statistics")
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def cells(html: str, marker: str) -> list[str]:
    """The data cells of the row that carries `marker` (a data- attribute)."""
    row = html[html.index(marker) :]
    row = row[: row.index("</tr>")]
    return [part.split("</td>")[0] for part in row.split('<td class="text-end">')[1:]]


@pytest.fixture
def year_2025(apparatus):
    """2025: 1 of 8 written from the President's Office; 2024 for comparison."""
    receive(apparatus, dt.date(2025, 2, 3), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2025, 2, 3), Channel.OTHER, count=7)
    receive(apparatus, dt.date(2025, 2, 3), Channel.PUBLIC_RECEPTION, form=Form.ORAL)
    receive(apparatus, dt.date(2024, 6, 1), Channel.PRESIDENT_OFFICE)
    receive(apparatus, dt.date(2024, 6, 1), Channel.JOGORKU_KENESH, count=2)
    filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Жаныл Секретова",
        text="Not registered yet.",
        language="ru",
        kind=Kind.COMPLAINT,
        received_at=dt.datetime(2025, 2, 3, 8, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_statistics_page_renders_in_each_language(client, year_2025, lang):
    html = statistics(client, lang, year=2025)
    assert f'<html lang="{lang}"' in html
    assert html.count("<h1") == 1
    assert "<caption" in html
    assert '<th scope="row"' in html
    assert '<th scope="colgroup" colspan="2" class="text-center">2025</th>' in html
    assert '<th scope="colgroup" colspan="2" class="text-center">2024</th>' in html


def test_counts_and_shares_of_the_year_and_the_year_before(client, year_2025):
    html = statistics(client, "en", year=2025)
    assert cells(html, 'data-channel="president_office"') == ["1", "12.5", "1", "33.3"]
    assert cells(html, 'data-channel="jogorku_kenesh"') == ["0", "0.0", "2", "66.7"]
    assert cells(html, 'data-channel="other"') == ["7", "87.5", "0", "0.0"]
    assert cells(html, 'data-total="written"') == ["8", "100.0", "3", "100.0"]
    assert cells(html, 'data-total="oral"') == ["1", "—", "0", "—"]


def test_submitted_appeals_are_not_counted_and_no_name_is_shown(client, year_2025):
    html = statistics(client, "en", year=2025)
    assert cells(html, 'data-channel="portal"') == ["0", "0.0", "0", "0.0"]
    assert "Секретова" not in html
    assert "Applicant" not in html


def test_russian_page_uses_a_decimal_comma(client, year_2025):
    html = statistics(client, "ru", year=2025)
    assert cells(html, 'data-channel="president_office"') == ["1", "12,5", "1", "33,3"]


def test_kyrgyz_page_uses_a_decimal_comma(client, year_2025):
    html = statistics(client, "ky", year=2025)
    assert cells(html, 'data-channel="president_office"')[1] == "12,5"


def test_year_select_offers_years_with_appeals(client, year_2025):
    html = statistics(client, "en", year=2025)
    this_year = timezone.localdate().year
    assert f'<option value="{this_year}">' in html
    assert '<option value="2025" selected>' in html
    assert '<option value="2024">' in html
    assert '<label class="form-label" for="statistics-year">' in html


def test_default_is_the_current_year_in_bishkek(client, apparatus):
    today = timezone.localdate()
    receive(apparatus, today, Channel.PRESIDENT_OFFICE, count=3)
    html = statistics(client, "en")
    assert f'<option value="{today.year}" selected>' in html
    assert cells(html, 'data-channel="president_office"')[:2] == ["3", "100.0"]


@pytest.mark.parametrize("year", ["abc", "1999", "3000", ""])
def test_a_year_without_figures_falls_back_to_the_current_one(client, year):
    html = statistics(client, "en", year=year)
    assert f'<option value="{timezone.localdate().year}" selected>' in html
