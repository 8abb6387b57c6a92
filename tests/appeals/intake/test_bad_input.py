"""Bad input never ends in a 500: the filing form and the import rows, fed arbitrary
Unicode (control characters, NUL, right-to-left text, emoji), huge and empty values,
end in a saved appeal or in a clear error in the page's language."""

import csv
import datetime as dt
import itertools
import uuid

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from agencies.models import Topic
from appeals.forms import TEXT_MAX, TEXT_MIN, AppealForm, normalise_text
from appeals.intake import importing
from appeals.models import Appeal, Channel, Delivery, Form, Kind

pytestmark = pytest.mark.django_db

property_settings = settings(
    max_examples=60,
    derandomize=True,  # the same examples on every run: CI stays stable
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # each example cleans up after itself
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Every code point an HTTP form or a file can carry: surrogates cannot be encoded.
ANY_CHAR = st.characters(exclude_categories=["Cs"])
ODD_VALUES = [
    "",
    " ",
    "\x00",
    "\t\r\n",
    "\u202eعريضة\u202c",  # right-to-left override around Arabic
    "שלום עולם",
    "😀👍🏽🇰🇬",
    "\u200b\u200d\ufeff",  # zero-width characters
    "null",
    "-1",
    "1e9",
    "9" * 5_000,  # an integer too long for int() to convert
]
HUGE = st.builds(lambda char: char * 100_000, ANY_CHAR)
ARBITRARY = st.one_of(st.text(ANY_CHAR, max_size=80), st.sampled_from(ODD_VALUES), HUGE)

FORM_FIELDS = (
    "submission_key",
    "addressee",
    "kind",
    "topic",
    "text",
    "applicant_name",
    "applicant_address",
    "applicant_phone",
    "applicant_email",
    "is_collective",
    "signatories",
    "language",
    "consent",
    "website",
)
TOPIC = "roads"


@pytest.fixture
def topic(db):
    return Topic.objects.create(
        code=TOPIC, name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )


@st.composite
def filing_forms(draw):
    """A form a citizen could send, then up to four of its fields replaced by anything
    (or left out), so that both saved appeals and every kind of error come up."""
    collective = draw(st.booleans())
    data = {
        "submission_key": str(uuid.uuid4()),
        "addressee": "",
        "kind": draw(st.sampled_from(Kind.values)),
        "topic": TOPIC,
        "text": draw(st.text(ANY_CHAR, min_size=TEXT_MIN, max_size=400)),
        "applicant_name": draw(st.text(ANY_CHAR, min_size=1, max_size=300)),
        "applicant_address": draw(st.text(ANY_CHAR, max_size=500)),
        "applicant_phone": draw(
            st.sampled_from(["", "+996 555 123 456", "0555123456"])
        ),
        "applicant_email": draw(
            st.one_of(st.just(""), st.just("bakyt@example.kg"), st.emails())
        ),
        "is_collective": "1" if collective else "0",
        "signatories": str(draw(st.integers(2, 100_000))) if collective else "",
        "language": draw(st.sampled_from(["ky", "ru", "en"])),
        "consent": "on",
        "website": "",
    }
    for field in draw(st.sets(st.sampled_from(FORM_FIELDS), max_size=4)):
        if draw(st.booleans()):
            data[field] = draw(ARBITRARY)
        else:
            del data[field]
    return data


_addresses = (
    f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1)
)


def _errors_of(data: dict, language: str) -> list[str]:
    with translation.override(language):
        form = AppealForm(data)
        form.is_valid()
        return [
            str(message) for messages in form.errors.values() for message in messages
        ]


@property_settings
@given(data=filing_forms(), page=st.sampled_from(["ky", "ru", "en"]))
@example(
    data={"text": "\x00" * 30, "applicant_name": "Асанов Бакыт", "consent": "on"},
    page="ky",
)
@example(data={"text": "😀" * 100_000, "applicant_name": "\u202eبكيت"}, page="ru")
@example(data={}, page="en")
def test_filing_form_ends_in_a_saved_appeal_or_a_translated_error_never_a_500(
    topic, data, page
):
    # A new visitor each time (no session cookie, an address of its own, so the rate
    # limit's 429 never stands in for the form's answer), and each example leaves
    # the database as it found it.
    with transaction.atomic():
        response = Client().post(f"/{page}/appeal/", data, REMOTE_ADDR=next(_addresses))
        assert response.status_code in (302, 400), response.status_code
        event(f"HTTP {response.status_code}")  # shown by --hypothesis-show-statistics
        if response.status_code == 302:
            appeal = Appeal.objects.get()
            assert (
                response["Location"] == f"/{page}/appeal/sent/{appeal.tracking_number}/"
            )
            assert appeal.text == normalise_text(data["text"])
            assert appeal.applicant_name == " ".join(data["applicant_name"].split())
        else:
            html = response.content.decode()
            assert 'id="form-errors"' in html and 'name="submission_key"' in html
            shown = _errors_of(data, page)
            assert shown
            if page != "en":
                english = _errors_of(data, "en")
                untranslated = [m for m in shown if m in english]
                assert not untranslated, untranslated
        transaction.set_rollback(True)


def _line_breaks_form(text: str) -> dict:
    return {
        "submission_key": str(uuid.uuid4()),
        "kind": "complaint",
        "topic": TOPIC,
        "text": text,
        "applicant_name": "Асанов Бакыт",
        "applicant_email": "bakyt@example.kg",
        "is_collective": "0",
        "language": "ky",
        "consent": "on",
    }


def test_text_within_the_counters_limit_is_accepted_whatever_its_line_breaks(
    client, topic
):
    paragraph = "Биздин көчөдө жарык жок." * 4  # 96 characters
    text = "\r\n".join([paragraph] * 103)  # 9,990 characters on the page counter
    assert len(normalise_text(text)) <= TEXT_MAX < len(text)
    response = client.post("/ky/appeal/", _line_breaks_form(text))
    assert response.status_code == 302


def test_line_breaks_do_not_count_twice_towards_the_minimum_length(client, topic):
    text = "Жарык" + "\r\n" * 8 + "жок"  # 24 characters as sent, 16 once normalised
    assert len(normalise_text(text)) < TEXT_MIN <= len(text)
    response = client.post("/ky/appeal/", _line_breaks_form(text))
    assert response.status_code == 400
    assert not Appeal.objects.exists()


@pytest.mark.postgres
def test_an_e_mail_address_longer_than_the_column_is_a_form_error(client, topic):
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".kg"  # valid, 259 characters
    data = {
        **_line_breaks_form("Биздин көчөдө үч айдан бери жарык жок."),
        "applicant_email": email,
    }
    response = client.post("/ky/appeal/", data)
    assert response.status_code == 400


# --- Import rows ------------------------------------------------------------------

TODAY = dt.date(2025, 6, 30)
CELL_CHAR = st.characters(exclude_categories=["Cs"])
CELL = st.one_of(
    st.text(CELL_CHAR, max_size=40),
    st.sampled_from(ODD_VALUES),
    st.builds(lambda char: char * 20_000, CELL_CHAR),
)
# A NUL in a registration number has its own test below (PostgreSQL refuses it in the
# register look-up); here the numbers are NUL-free, every other cell may hold one.
NO_NUL_CHAR = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
NUMBER_CELL = st.one_of(
    st.sampled_from(["", "GA-2019-000001", "GA-2019-000001"]), st.text(NO_NUL_CHAR)
)


def _valid_or(values, *, extra=()):
    return st.one_of(st.sampled_from([*values, *extra]), CELL)


@st.composite
def raw_rows(draw):
    count = draw(st.integers(1, 6))
    rows = []
    for line in range(2, count + 2):
        values = {
            "received_on": draw(
                st.one_of(
                    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
                    st.dates(dt.date(1900, 1, 1), TODAY).map(dt.date.isoformat),
                    CELL,
                )
            ),
            "channel": draw(_valid_or(Channel.values)),
            "delivery": draw(_valid_or(Delivery.values, extra=[""])),
            "form": draw(_valid_or(Form.values)),
            "agency": draw(_valid_or(["gov-apparatus"])),
            "kind": draw(_valid_or(Kind.values, extra=[""])),
            "applicant": draw(st.one_of(st.just("Асанов Бакыт"), CELL)),
            "text": draw(CELL),
            "registration_number": draw(NUMBER_CELL),
        }
        extra = draw(st.sampled_from([0, 0, 0, 1, 3]))
        rows.append(importing.RawRow(line=line, values=values, extra_values=extra))
    return rows


def _check_partition(rows, good, errors):
    lines = {row.line for row in rows}
    good_lines = {row.line for row in good}
    error_lines = {error.line for error in errors}
    assert good_lines | error_lines == lines  # every row is accounted for
    assert not good_lines & error_lines  # and only once
    for error in errors:
        assert str(error) == f"line {error.line}: {error.reason}"
        assert error.reason.strip()


@property_settings
@given(rows=raw_rows())
def test_every_import_row_is_good_or_an_error_naming_its_line(rows):
    good, errors = importing.validate(rows, today=TODAY)
    _check_partition(rows, good, errors)
    for row in good:
        assert len(row.applicant) <= importing.MAX_APPLICANT
        assert len(row.text) <= importing.MAX_TEXT
        assert "\x00" not in row.applicant + row.text  # PostgreSQL could not store it


@property_settings
@given(
    cells=st.lists(
        # NUL-free: any column may be the registration number's (see above).
        st.lists(st.text(NO_NUL_CHAR, max_size=30), min_size=0, max_size=11),
        min_size=1,
        max_size=5,
    ),
    delimiter=st.sampled_from([";", ","]),
)
def test_any_csv_file_is_read_or_refused_with_a_line_numbered_error(
    tmp_path_factory, cells, delimiter
):
    path = tmp_path_factory.mktemp("csv") / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(importing.COLUMNS)
        writer.writerows(cells)
    try:
        rows = list(importing.parse(path))
    except importing.ImportFileError as refused:
        assert refused.errors and all(error.line >= 1 for error in refused.errors)
        return
    good, errors = importing.validate(rows, today=TODAY)
    _check_partition(rows, good, errors)


def _row_with(column: str, value: str) -> importing.RawRow:
    values = {
        "received_on": "2019-03-01",
        "channel": "public_reception",
        "delivery": "",
        "form": "written",
        "agency": "gov-apparatus",
        "kind": "",
        "applicant": "Асанов Бакыт",
        "text": "Жарык жок.",
        "registration_number": "",
        column: value,
    }
    return importing.RawRow(line=7, values=values)


@pytest.mark.parametrize("column", ["applicant", "text"])
def test_a_nul_character_in_a_text_cell_is_an_error_naming_its_line(column):
    good, errors = importing.validate([_row_with(column, "Жарык\x00жок")], today=TODAY)
    assert not good
    assert [error.line for error in errors] == [7]


def test_a_nul_character_in_a_registration_number_is_an_error_naming_its_line():
    good, errors = importing.validate(
        [_row_with("registration_number", "GA-2019-\x00001")], today=TODAY
    )
    assert not good
    assert [error.line for error in errors] == [7]
