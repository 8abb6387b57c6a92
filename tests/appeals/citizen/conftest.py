import pytest

from tests.factories import AgencyFactory, staff_member


@pytest.fixture
def health():
    return AgencyFactory(slug="min-health", code="MZ")


@pytest.fixture
def people(health):
    """The chancellery and the Ministry of Health's head and executor, who are told
    of what the citizen does (their e-mail addresses are asserted)."""
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health, email="head@mz.gov.kg"),
        "executor": staff_member("executor", health, email="exec@mz.gov.kg"),
    }
