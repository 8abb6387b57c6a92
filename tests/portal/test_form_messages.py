"""Every message a person sees on a form is one of the project's own catalogue entries,
never Django's or DRF's (issue 26: Django's Kyrgyz catalogue says "Туура эдарек тер.").

Each form is sent empty and with bad values in ky, ru and en; each message shown must
match an entry of locale/<lang>/LC_MESSAGES/django.po (placeholders match anything).
"""

import json
import re
import uuid
from functools import cache

import pytest

from agencies.models import Agency, ApiScope
from appeals.api.clients import create_api_client
from tests.factories import TopicFactory, staff_member
from tests.helpers import ROOT, login_staff

pytestmark = pytest.mark.django_db

LANGUAGES = ["ky", "ru", "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _po_entries(path) -> list[tuple[list[str], list[str]]]:
    """(msgids, msgstrs) of each entry of a .po file."""
    entries, ids, strs, current = [], [], [], None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith(("msgid ", "msgid_plural ")):
            if line.startswith("msgid ") and ids:
                entries.append((ids, strs))
                ids, strs = [], []
            ids.append(_unquote(line.split(" ", 1)[1]))
            current = ids
        elif line.startswith("msgstr"):
            strs.append(_unquote(line.split(" ", 1)[1]))
            current = strs
        elif line.startswith('"') and current is not None:
            current[-1] += _unquote(line)
        elif not line.strip():
            current = None
    if ids:
        entries.append((ids, strs))
    return entries


def _unquote(text: str) -> str:
    return json.loads(text)


@cache
def catalogue(lang: str) -> list[re.Pattern]:
    """The project's messages in `lang` as patterns; English is the msgids."""
    path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    texts = set()
    for ids, strs in _po_entries(path):
        texts.update(ids if lang == "en" else [text for text in strs if text])
    patterns = []
    for text in texts:
        parts = PLACEHOLDER.split(text)
        words = "".join(parts[::2])
        if sum(ch.isalpha() for ch in words) < 4:
            continue  # "%(name)s" alone would match any message
        regex = "".join(
            ".+?" if index % 2 else re.escape(part) for index, part in enumerate(parts)
        )
        patterns.append(re.compile(regex, re.DOTALL))
    return patterns


def foreign(messages: list[str], lang: str) -> list[str]:
    return [
        message
        for message in messages
        if not any(pattern.fullmatch(message) for pattern in catalogue(lang))
    ]


def form_messages(response) -> list[str]:
    form = response.context["form"]
    return [str(message) for errors in form.errors.values() for message in errors]


def api_messages(response) -> list[str]:
    body = response.json()
    messages = [body["detail"]]
    for values in body.get("errors", {}).values():
        messages.extend(values)
    return messages


@pytest.fixture
def topic():
    return TopicFactory(code="roads")


@pytest.fixture
def embeddable():
    agency = Agency.objects.get(slug="gov-apparatus")
    agency.embed_origins = "https://www.gov.kg"
    agency.save()
    return agency


CITIZEN_BAD = {
    "submission_key": "not-a-key",
    "addressee": "no-such-body",
    "kind": "praise",
    "topic": "no-such-topic",
    "text": "x" * 10_001,
    "applicant_name": "я" * 301,
    "applicant_address": "",
    "applicant_phone": "phone",
    "applicant_email": "not an address",
    "is_collective": "maybe",
    "signatories": "many",
    "language": "xx",
    "website": "",
}


def citizen_forms():
    yield {}
    yield CITIZEN_BAD
    yield {**CITIZEN_BAD, "is_collective": "1", "signatories": "1", "text": "коротко"}
    yield {**CITIZEN_BAD, "signatories": "1000000", "is_collective": "1"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ["/{lang}/appeal/", "/{lang}/embed/gov-apparatus/"])
def test_the_citizens_forms_speak_only_the_projects_words(
    client, topic, embeddable, lang, page
):
    for data in citizen_forms():
        if "embed" in page:  # the embedded form files to its own agency only
            data = {**data, "addressee": "gov-apparatus"}
        response = client.post(page.format(lang=lang), data)
        assert response.status_code == 400
        shown = form_messages(response)
        assert shown
        assert not foreign(shown, lang), foreign(shown, lang)


CLERK_BAD = {
    "submission_key": str(uuid.uuid4()),
    "agency": "999999",
    "channel": "telegraph",
    "delivery": "pigeon",
    "received_on": "32.13.2026",
    "received_at": "yesterday noon",
    "received_by": "999999",
    "cover_letter_number": "№" * 65,
    "cover_letter_date": "31 февраля",
    "applicant_name": "",
    "applicant_email": "@",
    "kind": "praise",
    "topic": "no-such-topic",
    "addressee": "no-such-body",
    "text": "",
    "signatories": "-5",
    "language": "xx",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("form", ["written", "oral"])
def test_the_clerks_forms_speak_only_the_projects_words(client, lang, form):
    login_staff(client, staff_member("clerk"))
    for data in ({}, CLERK_BAD, {**CLERK_BAD, "signatories": "abc"}):
        response = client.post(f"/{lang}/staff/register/{form}/", data)
        assert response.status_code in (200, 400)
        shown = form_messages(response)
        assert shown
        assert not foreign(shown, lang), foreign(shown, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_journal_filter_speaks_only_the_projects_words(client, lang):
    login_staff(client, staff_member("clerk"))
    response = client.get(
        f"/{lang}/staff/journal/",
        {"received_from": "yesterday", "received_to": "2026-02-30", "channel": "x"},
    )
    shown = form_messages(response)
    assert shown
    assert not foreign(shown, lang), foreign(shown, lang)


API_BAD = [
    {},
    {
        "applicant_name": "я" * 301,
        "applicant_email": "not an address",
        "kind": "praise",
        "topic": 5,
        "text": ["not", "text"],
        "language": "xx",
        "consent": "perhaps",
        "is_collective": "sometimes",
        "signatories": "many",
        "channel": "telegraph",
        "cover_letter_number": "",
        "cover_letter_date": "31.02.2026",
        "attachments": "not a list",
    },
    {"attachments": [{}], "signatories": 10**12, "applicant_name": None},
    {"attachments": [{"name": "a" * 300, "content": 5}]},
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("url", ["/api/v1/appeals/", "/api/v1/forwarded/"])
def test_the_api_speaks_only_the_projects_words(client, lang, url):
    issued = create_api_client(
        name="Test system",
        agency=Agency.objects.get(slug="gov-apparatus"),
        scopes=list(ApiScope.values),
    )
    for index, body in enumerate(API_BAD):
        response = client.post(
            url,
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"k-{index}",
            HTTP_AUTHORIZATION=f"Api-Key {issued.key}",
            HTTP_ACCEPT_LANGUAGE=lang,
        )
        assert response.status_code == 400, response.content
        shown = api_messages(response)
        assert len(shown) > 1
        assert not foreign(shown, lang), foreign(shown, lang)


def test_a_message_of_djangos_own_catalogue_is_caught():
    """The check itself: Django's Kyrgyz 'enter a valid e-mail' is not ours."""
    from django.utils import translation

    with translation.override("ky"):
        djangos = str(translation.gettext("Enter a valid email address."))
    assert foreign([djangos], "ky") == [djangos]
