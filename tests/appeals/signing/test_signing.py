import io
import subprocess

import pikepdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from appeals.casework import answering
from appeals.models import IssuedDocument, Notification, Status
from appeals.register import issuing
from portal import signing, signing_demo

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-password-7f3a"


def _one_changed_byte(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[len(data) // 3] ^= 0x01
    return bytes(changed)


def test_approved_letter_is_signed_and_validates_against_the_demo_ca(approve):
    answer = approve()
    letter = answer.letter.read()
    verdict = signing.validate_pdf(letter)
    assert verdict.valid
    assert signing_demo.DEMO_MARK in verdict.subject
    document = IssuedDocument.objects.get(answer=answer)
    assert document.state == IssuedDocument.State.ISSUED
    assert document.sha256 == signing.sha256(letter)
    assert document.pages == 1
    assert document.certificate_fingerprint == verdict.fingerprint
    assert document.registration_number == answer.appeal.registration_number


def test_one_changed_byte_breaks_the_signature(approve):
    letter = approve().letter.read()
    assert not signing.validate_pdf(_one_changed_byte(letter)).valid


def test_signature_is_time_stamped_with_validation_data_embedded(approve):
    """PAdES B-LT: a signature time-stamp and the CRLs in the document's DSS."""
    letter = approve().letter.read()
    reader = PdfFileReader(io.BytesIO(letter))
    assert "/DSS" in reader.root
    status = validate_pdf_signature(
        reader.embedded_signatures[0],
        signer_validation_context=signing._validation_context(),
    )
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid


def test_a_pdf_signed_by_another_ca_is_not_trusted(approve, settings, tmp_path):
    letter = approve().letter.read()
    settings.SIGNING_DEMO_DIR = tmp_path  # a fresh demo CA: another root
    signing_demo.ensure(tmp_path)
    verdict = signing.validate_pdf(letter)
    assert verdict.signed and verdict.intact and not verdict.trusted
    assert not verdict.valid


def test_agency_certificate_signs_its_letters(approve, settings, monkeypatch):
    settings.SIGNING_CERTIFICATES = {
        "MZ": str(signing_demo.agency_path(signing_demo_dir(settings, "MZ"), "MZ"))
    }
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", signing_demo.DEMO_PASSWORD)
    answer = approve()
    verdict = signing.validate_pdf(answer.letter.read())
    assert verdict.valid and "Agency MZ" in verdict.subject


def signing_demo_dir(settings, code):
    signing_demo.ensure(settings.SIGNING_DEMO_DIR, agency_codes=(code,))
    return settings.SIGNING_DEMO_DIR


def test_wrong_password_leaves_the_letter_waiting_unsent_then_signs_it(
    approve, settings, monkeypatch
):
    path = signing_demo.agency_path(signing_demo_dir(settings, "MZ"), "MZ")
    settings.SIGNING_CERTIFICATES = {"MZ": str(path)}
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", WRONG_PASSWORD)
    answer = approve()
    answer.refresh_from_db()
    assert answer.appeal.status == Status.CLOSED
    assert not answer.letter  # never an unsigned letter
    assert answering.letter_waits_for_signing(answer)
    document = IssuedDocument.objects.get(answer=answer)
    assert document.state == IssuedDocument.State.WAITING
    assert "password" in document.signing_error
    assert not Notification.objects.filter(template="answered").exists()
    assert issuing.find(document.code) is None  # nothing to verify yet

    with pytest.raises(signing.SigningError):
        answering.sign_waiting_letters()

    monkeypatch.setenv("SIGNING_PASSWORD_MZ", signing_demo.DEMO_PASSWORD)
    assert answering.sign_waiting_letters() == 1
    answer.refresh_from_db()
    assert signing.validate_pdf(answer.letter.read()).valid
    notification = Notification.objects.get(template="answered")
    assert notification.attachment == answer.letter.name
    assert answering.sign_waiting_letters() == 0  # safe to run twice


def test_no_certificate_password_is_kept_in_the_database(
    approve, settings, monkeypatch
):
    path = signing_demo.agency_path(signing_demo_dir(settings, "MZ"), "MZ")
    settings.SIGNING_CERTIFICATES = {"MZ": str(path)}
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", WRONG_PASSWORD)
    approve()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('character varying', 'text', 'jsonb')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',  # noqa: S608
                [f"%{WRONG_PASSWORD}%"],
            )
            assert cursor.fetchone()[0] == 0, (table, column)


def test_letter_footer_carries_the_verification_url(approve):
    answer = approve()
    document = IssuedDocument.objects.get(answer=answer)
    url = issuing.verification_url(document)
    assert url.endswith(f"/ru/verify/{document.code}/")  # the appeal's language
    text = subprocess.run(
        ["pdftotext", "-l", "1", "-", "-"],
        input=answer.letter.read(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert document.code in text
    assert f"/ru/verify/{document.code}/" in text


def test_verification_codes_are_unguessable_and_distinct():
    codes = {issuing.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 10 for code in codes)
    assert all(set(code) <= set(issuing.CODE_ALPHABET) for code in codes)


def test_letter_is_pdf_a_with_embedded_fonts(approve):
    letter = approve().letter.read()
    with pikepdf.open(io.BytesIO(letter)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        fonts = []
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                fonts.append(font)
        assert fonts
        for font in fonts:
            descendants = font.get("/DescendantFonts")
            descriptor = (
                descendants[0].FontDescriptor if descendants else font.FontDescriptor
            )
            assert any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
