import base64

import pytest

from agencies.models import Agency, ApiScope
from appeals.api.clients import create_api_client
from tests.factories import AgencyFactory, TopicFactory

ALL_SCOPES = list(ApiScope.values)


@pytest.fixture
def apparatus(db):
    from agencies.defaults import ensure_government_apparatus

    # A transactional test before this one may have flushed the data migration's row.
    ensure_government_apparatus(Agency)
    return Agency.objects.get(slug="gov-apparatus")


@pytest.fixture
def topic():
    return TopicFactory(code="roads")


@pytest.fixture
def make_client(apparatus):
    def make(scopes=ALL_SCOPES, agency=None, callback_url=""):
        return create_api_client(
            name="Test system",
            agency=agency or apparatus,
            scopes=scopes,
            callback_url=callback_url,
        )

    return make


@pytest.fixture
def other_agency():
    return AgencyFactory(slug="health", code="MH")


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def filing(topic, **changes) -> dict:
    data = {
        "applicant_name": "Бакыт Асанов",
        "applicant_email": "bakyt@example.kg",
        "kind": "complaint",
        "topic": topic.code,
        "text": "Биздин көчөдө жарык жок, үч айдан бери эч ким оңдобойт.",
        "language": "ky",
        "consent": True,
    }
    data.update(changes)
    return data


def forwarding(**changes) -> dict:
    data = {
        "channel": "president_office",
        "cover_letter_number": "АП-17/123",
        "cover_letter_date": "2026-11-20",
        "applicant_name": "Гүлнара Токтосунова",
        "applicant_address": "Бишкек ш., Чүй пр., 1",
        "kind": "statement",
        "text": "Президенттин Аппаратынан жөнөтүлгөн арыз.",
        "language": "ru",
    }
    data.update(changes)
    return data


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()
