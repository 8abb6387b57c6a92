import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appeals.intake import filing, uploads
from appeals.models import StagedUpload
from tests.files import docx_bytes, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("scan.png", png_bytes(), "image/png"),
        ("letter.pdf", pdf_bytes(), "application/pdf"),
        ("letter.docx", docx_bytes(), uploads.ALLOWED_TYPES["docx"]),
        ("photo.pdf", png_bytes(), "image/png"),  # the content decides, not the name
    ],
)
def test_files_are_recognised_by_content(name, content, expected):
    assert uploads.sniff(upload(name, content)).content_type == expected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.pdf", b"just some text pretending to be a PDF"),
        ("run.png", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("empty.pdf", b""),
    ],
)
def test_a_file_that_lies_about_its_type_is_refused_with_its_name(name, content):
    with pytest.raises(ValidationError) as error:
        uploads.sniff(upload(name, content))
    assert name in error.value.messages[0]


def test_staging_refuses_past_the_total_size(settings, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_TOTAL_SIZE", len(png_bytes()) + 10)
    key = uuid.uuid4()
    filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes()))
    with pytest.raises(ValidationError):
        filing.stage_upload(submission_key=key, upload=upload("b.png", png_bytes(3, 3)))
    assert StagedUpload.objects.filter(submission_key=key).count() == 1


def test_same_file_chosen_twice_is_kept_once():
    key = uuid.uuid4()
    first = filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes()))
    again = filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes()))
    assert first.pk == again.pk


def test_staged_files_become_attachments_of_the_sent_appeal():
    key = uuid.uuid4()
    staged = filing.stage_upload(
        submission_key=key, upload=upload("a.png", png_bytes())
    )
    submission = filing.submit_appeal(
        submission_key=key,
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө жарык жок, үч айдан бери.",
        language="ky",
        kind="complaint",
    )
    attachment = submission.appeal.attachments.get()
    assert attachment.file.name == staged.file.name
    assert attachment.file.read() == png_bytes()
    assert not StagedUpload.objects.filter(submission_key=key).exists()


def test_unsent_uploads_are_purged_after_a_day():
    key = uuid.uuid4()
    staged = filing.stage_upload(
        submission_key=key, upload=upload("a.png", png_bytes())
    )
    StagedUpload.objects.filter(pk=staged.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    storage, name = staged.file.storage, staged.file.name
    assert filing.purge_stale_uploads() == 1
    assert not storage.exists(name)


# --- names (issue 25, item 4) and parallel posts (item 8) ----------------------------


@pytest.mark.parametrize(
    ("name", "stored_as"),
    [
        ("scan_2026.pdf.bat", "scan_2026.pdf"),
        ("letter.hta", "letter.pdf"),
        ("poly.html", "poly.pdf"),
        ("report.PDF", "report.PDF"),
        ("scan\u202efdp.exe", "scanfdp.pdf"),
    ],
)
def test_a_file_is_stored_and_served_under_its_detected_type(name, stored_as):
    key = uuid.uuid4()
    staged = filing.stage_upload(submission_key=key, upload=upload(name, pdf_bytes()))
    assert staged.file.name.endswith(".pdf")
    assert "\u202e" not in staged.original_name
    assert uploads.download_name(staged.original_name, "pdf") == stored_as


def test_bidi_controls_are_removed_from_the_shown_name():
    name, shortened = uploads.display_name("invoice\u202egpj.exe\u2066\u200f")
    assert name == "invoicegpj.exe" and not shortened


def test_a_long_name_is_cut_keeping_its_extension():
    name, shortened = uploads.display_name("а" * 300 + ".pdf")
    assert shortened
    assert len(name) == uploads.MAX_NAME_LENGTH and name.endswith("….pdf")


def test_a_double_clicks_parallel_posts_of_one_file_stage_it_once():
    """Both posts passed the look-up for the same content before either saved."""
    key = uuid.uuid4()
    first = filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes()))
    racing = StagedUpload(
        submission_key=key,
        original_name="a.png",
        content_type="image/png",
        size=first.size,
        sha256=first.sha256,
        file=first.file.name,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        racing.save()
    assert StagedUpload.objects.filter(submission_key=key).count() == 1


def test_files_staged_by_a_parallel_post_after_sending_join_the_appeal():
    key = uuid.uuid4()
    filing.stage_upload(submission_key=key, upload=upload("a.png", png_bytes()))
    fields = {
        "applicant_name": "Асанов Бакыт",
        "applicant_phone": "+996 555 123 456",
        "text": "Биздин көчөдө жарык жок, үч айдан бери.",
        "language": "ky",
        "kind": "complaint",
    }
    first = filing.submit_appeal(submission_key=key, **fields)
    # The other post of the same form, with another file, arrives a moment later.
    filing.stage_upload(submission_key=key, upload=upload("b.pdf", pdf_bytes()))
    again = filing.submit_appeal(submission_key=key, **fields)
    assert not again.created and again.appeal.pk == first.appeal.pk
    assert sorted(first.appeal.attachments.values_list("original_name", flat=True)) == [
        "a.png",
        "b.pdf",
    ]
    assert not StagedUpload.objects.filter(submission_key=key).exists()
