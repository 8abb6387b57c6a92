"""A letter that cannot be signed: the head is told, the metric alerts, the task fails
with the reason until the certificate is usable."""

import pytest

from appeals.models import IssuedDocument
from appeals.tasks import sign_waiting_letters
from portal import signing, signing_demo
from portal.metrics import PortalCollector
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_password(settings, monkeypatch, demo_ca_dir):
    signing_demo.ensure(demo_ca_dir, agency_codes=("MZ",))
    settings.SIGNING_CERTIFICATES = {
        "MZ": str(signing_demo.agency_path(demo_ca_dir, "MZ"))
    }
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", "wrong")


def _waiting_metric() -> float:
    for family in PortalCollector().collect():
        if family.name == "portal_documents_waiting_for_signing":
            return family.samples[0].value
    raise AssertionError("metric missing")


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_head_is_told_the_letter_waits_for_signing(
    client, submitted, people, broken_password, language
):
    login_staff(client, people["head"])
    response = client.post(
        f"/{language}/staff/inbox/{submitted.pk}/", {"action": "approve"}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(
        "waiting for signing" in m or "подпис" in m or "кол" in m for m in messages
    )
    assert IssuedDocument.objects.get().state == IssuedDocument.State.WAITING


def test_waiting_letters_raise_the_metric_and_fail_the_task(
    approve, broken_password, monkeypatch
):
    assert _waiting_metric() == 0
    approve()
    assert _waiting_metric() == 1
    with pytest.raises(signing.SigningError, match="password"):
        sign_waiting_letters()
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", signing_demo.DEMO_PASSWORD)
    assert sign_waiting_letters() == 1
    assert _waiting_metric() == 0


def test_work_page_keeps_saying_the_letter_waits_until_it_is_signed(
    client, submitted, people, broken_password, monkeypatch
):
    login_staff(client, people["head"])
    client.post(f"/en/staff/inbox/{submitted.pk}/", {"action": "approve"})
    page = client.get(f"/en/staff/inbox/{submitted.pk}/").content.decode()
    assert "data-letter-waiting" in page
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", signing_demo.DEMO_PASSWORD)
    sign_waiting_letters()
    page = client.get(f"/en/staff/inbox/{submitted.pk}/").content.decode()
    assert "data-letter-waiting" not in page
    assert "the answer letter (PDF)" in page
