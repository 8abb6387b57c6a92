"""Kyrgyz dates as Kyrgyz writes them (issue 26, item 2): "2026-жылдын 6-декабры" for a
long date, "06.12.2026" for a short one; never Django's "6 Декабрь 2026 ж."."""

import datetime as dt
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation

from agencies.models import Agency
from appeals.intake import registration
from tests.factories import TopicFactory, filing_form, staff_member

pytestmark = pytest.mark.django_db

KY_LONG_DATE = re.compile(r"\d{4}-жылдын \d{1,2}-[а-яөүң]+")
DJANGOS_KY = re.compile(r"\d{1,2} [А-ЯӨҮ][а-яөүң]+ \d{4} ж\.")
GENITIVE = {
    1: "январы",
    2: "февралы",
    3: "марты",
    4: "апрели",
    5: "майы",
    6: "июну",
    7: "июлу",
    8: "августу",
    9: "сентябры",
    10: "октябры",
    11: "ноябры",
    12: "декабры",
}


@pytest.mark.parametrize("month", range(1, 13))
def test_a_kyrgyz_long_date_has_the_year_then_the_day_and_the_month(month):
    day = dt.date(2026, month, 6)
    with translation.override("ky"):
        assert formats.date_format(day, "DATE_FORMAT") == (
            f"2026-жылдын 6-{GENITIVE[month]}"
        )
        assert formats.date_format(day, "MONTH_DAY_FORMAT") == f"6-{GENITIVE[month]}"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == f"06.{month:02d}.2026"


def test_a_kyrgyz_date_and_time():
    moment = dt.datetime(2026, 12, 6, 18, 13, tzinfo=ZoneInfo("Asia/Bishkek"))
    with translation.override("ky"):
        assert formats.date_format(moment, "DATETIME_FORMAT") == (
            "2026-жылдын 6-декабры, 18:13"
        )
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == (
            "06.12.2026 18:13"
        )


def test_russian_day_and_month_are_in_the_genitive():
    with translation.override("ru"):
        assert formats.date_format(dt.date(2026, 12, 6), "MONTH_DAY_FORMAT") == (
            "6 декабря"
        )


def _file(client) -> tuple[str, str]:
    topic = TopicFactory(code="roads")
    response = client.post("/ky/appeal/", filing_form(topic.code, applicant_email=""))
    assert response.status_code == 302
    return response["Location"], response["Location"].rstrip("/").rsplit("/", 1)[1]


def test_the_kyrgyz_receipt_and_status_pages_write_kyrgyz_dates(client):
    receipt_url, number = _file(client)
    receipt = client.get(receipt_url).content.decode()
    status = client.get(f"/ky/track/{number}/").content.decode()
    for html in (receipt, status):
        assert KY_LONG_DATE.search(html)
        assert not DJANGOS_KY.search(html)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_kyrgyz_receipt_pdf_writes_a_kyrgyz_date(client):
    _url, number = _file(client)
    pdf = client.get(f"/ky/appeal/sent/{number}/receipt.pdf").content
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert KY_LONG_DATE.search(text), text
    assert not DJANGOS_KY.search(text)


def test_open_statistics_name_the_days_in_kyrgyz(client):
    today = timezone.localdate()
    apparatus = Agency.objects.get(slug="gov-apparatus")
    clerk = staff_member("clerk", apparatus)
    registration.register_paper_appeal(
        actor=clerk,
        agency=apparatus,
        channel="president_office",
        form="written",
        kind="statement",
        applicant_name="Асанов Бакыт",
        applicant_address="Бишкек",
        text="Кат",
        language="ky",
        received_at=timezone.now(),
    )
    html = client.get(f"/ky/statistics/?year={today.year}").content.decode()
    if today != dt.date(today.year, 12, 31):
        assert "1-январы" in html
        assert f"{today.day}-{GENITIVE[today.month]}" in html
    assert "Январь" not in html and "Декабрь" not in html
