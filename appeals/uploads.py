"""Files citizens and clerks attach: recognised by their content, limited in size and
count, and staged so a form that fails validation keeps them."""

import logging
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# What a citizen may attach, recognised by content: extension -> MIME type.
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_FILES = 10
MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_TOTAL_SIZE = 20 * 1024 * 1024
HEAD_BYTES = 8192

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    extension: str
    size: int


def sniff(upload: UploadedFile) -> CheckedFile:
    """Recognise a file by its content; raise a translated ValidationError otherwise."""
    name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]
    if upload.size == 0:
        raise ValidationError(_("The file %(name)s is empty.") % {"name": name})
    if upload.size > MAX_FILE_SIZE:
        raise ValidationError(
            _("The file %(name)s is larger than %(limit)s MB.")
            % {"name": name, "limit": MAX_FILE_SIZE // (1024 * 1024)}
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.extension == "zip":
        kind = _docx_or_none(upload)
    if kind is None or kind.extension not in ALLOWED_TYPES:
        raise ValidationError(
            _(
                "The file %(name)s is not a PDF, JPEG, PNG or DOCX document "
                "(we check the content, not the name)."
            )
            % {"name": name}
        )
    extension = kind.extension
    return CheckedFile(
        name=name,
        content_type=ALLOWED_TYPES[extension],
        extension=extension,
        size=upload.size,
    )


def _docx_or_none(upload: UploadedFile):
    """filetype reads only the head; a DOCX whose head looks like a plain zip is checked
    by its members."""
    import zipfile

    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None
    finally:
        upload.seek(0)
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return filetype.get_type(ext="docx")
    return None


def check_totals(*, count: int, total_size: int) -> None:
    if count > MAX_FILES:
        raise ValidationError(
            _("Attach at most %(limit)s files.") % {"limit": MAX_FILES}
        )
    if total_size > MAX_TOTAL_SIZE:
        raise ValidationError(
            _("All files together may not exceed %(limit)s MB.")
            % {"limit": MAX_TOTAL_SIZE // (1024 * 1024)}
        )


def scan(upload: UploadedFile, *, name: str) -> None:
    """Pass the file to the virus scanner (settings.UPLOAD_SCANNER); an infected file is
    quarantined and refused with a message the uploader understands."""
    from . import scanning

    scanner = scanning.get_scanner()
    upload.seek(0)
    try:
        verdict = scanner.scan(upload)
    except scanning.ScanError as exc:
        # Refuse rather than let an unchecked file in: staff open these files.
        logger.error("upload scan failed: %s", exc)
        raise ValidationError(
            _(
                "We could not check the file %(name)s for viruses just now. "
                "Please try again in a few minutes."
            )
            % {"name": name}
        ) from exc
    finally:
        upload.seek(0)
    if verdict.infected:
        scanning.quarantine(
            upload,
            original_name=name,
            signature=verdict.signature,
            scanner=scanner.name,
        )
        raise ValidationError(
            _("The file %(name)s was refused: our virus check found a threat in it.")
            % {"name": name}
        )
