"""Re-issue after a certificate is rotated: the earlier record and signature stay, the
earlier code accepts both files, a command signs in bulk with a progress bar."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.reader import PdfFileReader

from appeals.models import IssuedDocument
from appeals.register import issuing
from portal import signing, signing_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotated(approve, settings, monkeypatch, tmp_path):
    """A letter signed, then the agency's certificate is replaced by one from another
    authority (its root trusted too)."""
    answer = approve()
    signing_demo.ensure(tmp_path, agency_codes=("MZ",))
    settings.SIGNING_CERTIFICATES = {
        "MZ": str(signing_demo.agency_path(tmp_path, "MZ"))
    }
    settings.SIGNING_TRUST_ROOTS = [str(tmp_path / "root.pem")]
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", signing_demo.DEMO_PASSWORD)
    return answer


def test_command_signs_again_and_keeps_the_earlier_record(rotated, client, capsys):
    first = IssuedDocument.objects.get(answer=rotated)
    before = (first.sha256, first.signer_subject, first.certificate_fingerprint)
    call_command("reissue_documents", "--kind", "answer_letter")
    first.refresh_from_db()
    assert (first.sha256, first.signer_subject, first.certificate_fingerprint) == before
    second = first.reissued_as
    assert second.previous == first and second.code != first.code
    assert "Agency MZ" in second.signer_subject
    from django.core.files.storage import default_storage

    with default_storage.open(second.file_name, "rb") as handle:
        resigned = handle.read()
    assert signing.validate_pdf(resigned).valid
    reader = PdfFileReader(io.BytesIO(resigned))
    assert len(reader.embedded_signatures) == 2  # the earlier one is still there
    assert "100%" in capsys.readouterr().err  # the progress bar
    # The code printed on the letter accepts the original and the re-signed file.
    for content in (rotated.letter.read(), resigned):
        response = client.post(
            f"/ky/verify/{first.code}/",
            {"file": io.BytesIO(content)},
        )
        assert 'data-result="genuine"' in response.content.decode()
    # Run again: nothing left to sign.
    call_command("reissue_documents")
    assert IssuedDocument.objects.count() == 2


def test_receipts_are_not_reissued_and_a_broken_password_stops_clearly(
    rotated, monkeypatch
):
    assert list(issuing.reissuable()) == [IssuedDocument.objects.get()]
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", "wrong")
    with pytest.raises(CommandError, match="password"):
        call_command("reissue_documents")
    assert IssuedDocument.objects.count() == 1
