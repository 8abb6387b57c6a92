import pytest
from django.utils import timezone

from appeals.casework import answering
from tests.factories import (
    AgencyFactory,
    paper_appeal,
    route_and_assign,
    staff_member,
    submit_answer,
)


@pytest.fixture(scope="session")
def demo_ca_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("signing-demo")


@pytest.fixture(autouse=True)
def _demo_ca(settings, demo_ca_dir):
    settings.SIGNING_DEMO_DIR = demo_ca_dir
    settings.SIGNING_USE_DEMO = True
    settings.PORTAL_SIGNING_P12 = ""
    settings.SIGNING_CERTIFICATES = {}
    settings.SIGNING_TSA_URL = ""


@pytest.fixture
def health():
    return AgencyFactory(
        slug="min-health",
        code="MZ",
        name_ru="Минздрав",
        name_ky="Саламаттык",
        name_en="Health",
    )


@pytest.fixture
def people(health):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
    }


@pytest.fixture
def appeal(people):
    return paper_appeal(
        people["clerk"],
        channel="president_office",
        delivery="",
        kind="complaint",
        cover_letter_number="01-123",
        cover_letter_date=timezone.localdate(),
    )


@pytest.fixture
def submitted(appeal, people, health):
    """Routed, assigned and answered, waiting for the head's approval."""
    route_and_assign(appeal, people, health)
    submit_answer(appeal, people)
    return appeal


@pytest.fixture
def approve(submitted, people):
    def run():
        return answering.approve_answer(appeal_id=submitted.pk, actor=people["head"])

    return run
