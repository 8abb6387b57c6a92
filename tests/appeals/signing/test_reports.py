"""Archived quarterly reports: PDF/A, signed, verifiable by their code."""

import io

import pikepdf
import pytest

from appeals.models import IssuedDocument
from portal import signing
from portal.periods import parse_period
from reports import archive
from reports.models import ArchivedReport

pytestmark = pytest.mark.django_db


def test_archived_report_pdf_is_signed_pdf_a_and_verifiable(client):
    archive.archive_period(period=parse_period("2020-Q1"))
    record = ArchivedReport.objects.get(agency=None, language="ky", format="pdf")
    content = record.file.read()
    assert signing.validate_pdf(content).valid
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert pdf.open_metadata()["pdfaid:part"] == "3"
    document = IssuedDocument.objects.get(file_name=record.file.name)
    assert document.kind == IssuedDocument.Kind.REPORT
    assert document.registration_number == "2020-Q1"
    assert document.sha256 == signing.sha256(content)
    page = client.get(f"/en/verify/{document.code}/").content.decode()
    assert "2020-Q1" in page and "Period" in page
    # One record per archived PDF, none for the other formats.
    assert (
        IssuedDocument.objects.count()
        == ArchivedReport.objects.filter(format="pdf").count()
    )


def test_a_report_that_cannot_be_signed_is_not_archived_as_pdf(settings):
    settings.SIGNING_USE_DEMO = False
    archive.archive_period(period=parse_period("2020-Q1"))
    assert not ArchivedReport.objects.filter(format="pdf").exists()
    assert ArchivedReport.objects.filter(format="xlsx").exists()
    assert not IssuedDocument.objects.exists()
