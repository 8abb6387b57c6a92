"""Numbers inside sentences come from where the rule lives (issue 26, item 4): the time
limits a page promises from the DeadlineRule in force, the form's upload limits from
appeals.intake.uploads, each with the language's plural; shares as the reports write them."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from appeals.intake import uploads
from appeals.models import DeadlineRule
from portal.numbers import percent
from tests.factories import TopicFactory, filing_form

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _rule(code: str, value: int, unit: str = "working_days", *, start=None) -> None:
    DeadlineRule.objects.create(
        code=code,
        value=value,
        unit=unit,
        applies_from=start or timezone.localdate(),
        source="test",
    )


def _text(html: str) -> str:
    """The page's text with its lines joined, as a reader sees it."""
    return " ".join(html.split())


# --- The home page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "review", "registration"),
    [
        ("en", "must answer within 10 working days", "within 2 working days"),
        ("ru", "в течение 10 рабочих дней", "в течение 2 рабочих дней"),
        ("ky", "10 жумуш күнүнүн ичинде жооп", "2 жумуш күнүнүн ичинде катталат"),
    ],
)
def test_home_page_promises_the_time_limits_of_the_rules_in_force(
    client, lang, review, registration
):
    _rule("review", 10)
    _rule("registration", 2)
    html = _text(client.get(f"/{lang}/").content.decode())
    assert review in html and registration in html
    assert review.replace("10", "14") not in html


def test_home_page_writes_the_russian_plural_of_the_period(client):
    _rule("review", 21)
    html = _text(client.get("/ru/").content.decode())
    assert "в течение 21 рабочего дня" in html
    assert "в течение 1 рабочего дня" in html  # registration: the migration's rule


def test_a_period_in_calendar_days_is_said_in_calendar_days(client):
    _rule("review", 30, "calendar_days")
    assert "within 30 calendar days" in _text(client.get("/en/").content.decode())
    assert "в течение 30 календарных дней" in _text(client.get("/ru/").content.decode())


def test_a_rule_that_applies_from_tomorrow_is_not_promised_yet(client):
    _rule("review", 10, start=timezone.localdate() + dt.timedelta(days=1))
    html = _text(client.get("/en/").content.decode())
    assert "within 14 working days" in html


def test_home_page_without_a_rule_leaves_the_promise_out(client):
    DeadlineRule.objects.all().delete()
    response = client.get("/en/")
    assert response.status_code == 200
    assert "working day" not in response.content.decode()


# --- The receipt page and its PDF ---------------------------------------------------


def _file(client, lang: str) -> str:
    topic = TopicFactory(code="roads")
    response = client.post(
        f"/{lang}/appeal/", filing_form(topic.code, applicant_email="")
    )
    assert response.status_code == 302
    return response["Location"]


def test_the_receipt_page_says_the_registration_period_of_the_rule(client):
    _rule("registration", 2)
    receipt = _text(client.get(_file(client, "en")).content.decode())
    assert "will register it within 2 working days" in receipt
    assert "Keep the tracking number and the access code" in receipt


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "must answer within 10 working days after registration"),
        ("ru", "в течение 10 рабочих дней со дня регистрации"),
        ("ky", "10 жумуш күнүнүн ичинде жооп бериши керек"),
    ],
)
def test_the_receipt_pdf_promises_the_review_period_of_the_rule(client, lang, expected):
    _rule("review", 10)
    receipt_url = _file(client, lang)
    pdf = client.get(receipt_url.rstrip("/") + "/receipt.pdf").content
    text = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert expected in " ".join(text.split()), text


# --- The form's upload limits -------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "up to 5 files, 30 MB in all"),
        ("ru", "не более 5 файлов общим объёмом до 30 МБ"),
        ("ky", "5 файлга чейин, жалпы көлөмү 30 МБга чейин"),
    ],
)
def test_the_form_states_the_upload_limits_of_the_code(
    client, monkeypatch, lang, expected
):
    monkeypatch.setattr(uploads, "MAX_FILES", 5)
    monkeypatch.setattr(uploads, "MAX_TOTAL_SIZE", 30 * MB)
    html = _text(client.get(f"/{lang}/appeal/").content.decode())
    assert expected in html


def test_the_russian_form_writes_the_plural_of_the_file_limit(client, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILES", 21)
    html = _text(client.get("/ru/appeal/").content.decode())
    assert "не более 21 файла" in html


def test_too_many_files_is_refused_with_the_plural_of_the_limit(monkeypatch):
    from django.core.exceptions import ValidationError

    monkeypatch.setattr(uploads, "MAX_FILES", 21)
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        uploads.check_totals(count=22, total_size=0)
    assert refused.value.messages == ["Приложите не более 21 файла."]


# --- Shares -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("ky", "12,5\u00a0%"), ("ru", "12,5\u00a0%"), ("en", "12.5%")],
)
def test_a_share_has_a_no_break_space_in_ky_and_ru_and_none_in_en(lang, expected):
    assert percent(Decimal("12.5"), lang) == expected
