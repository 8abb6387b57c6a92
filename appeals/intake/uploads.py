"""Files citizens, clerks and API clients attach: one path (`check`) for every entry
point, which recognises a file by its content, holds it to the limits and passes it to
the virus scanner. A file is stored and served under a name whose extension is the
detected type; the sender's name is kept only as display text."""

import logging
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appeals.intake import scanning

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
# A file's display name is cut to this many characters (its extension kept).
MAX_NAME_LENGTH = 100

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedFile:
    name: str  # display text only: cleaned, perhaps shortened
    content_type: str
    extension: str  # of the detected type: what the file is stored and served as
    size: int


def storage_name(extension: str) -> str:
    """The name a file is handed to storage under: never the sender's, always the
    detected type's extension (storage makes it unique)."""
    return f"upload.{extension}"


def display_name(raw: str | None) -> tuple[str, bool]:
    """The sender's file name as text to show: its last path part, without control
    and format characters (U+202E and the other bidi controls would make
    'scan\u202efdp.exe' read as 'scanexe.pdf'), cut to MAX_NAME_LENGTH with its
    extension kept. Returns the name and whether it was shortened."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
        or ch.isspace()
    )
    name = " ".join(name.split()) or "file"
    if len(name) <= MAX_NAME_LENGTH:
        return name, False
    suffix = PurePath(name).suffix
    if len(suffix) > 10:
        suffix = ""
    return name[: MAX_NAME_LENGTH - len(suffix) - 1] + "…" + suffix, True


def download_name(name: str, extension: str) -> str:
    """The name a stored file is downloaded under: the display name with the detected
    type's extension ('scan.pdf.bat' holding a PDF is served as 'scan.pdf')."""
    cleaned, _shortened = display_name(name)
    stem = cleaned
    suffix = PurePath(cleaned).suffix
    if suffix and suffix.lower() != f".{extension}":
        stem = cleaned[: -len(suffix)]
    if stem.lower().endswith(f".{extension}"):
        return stem
    return f"{stem or 'file'}.{extension}"


def extension_of(content_type: str) -> str:
    """The extension of one of the allowed types (for files stored before this)."""
    for extension, allowed in ALLOWED_TYPES.items():
        if allowed == content_type:
            return extension
    return "bin"


def check(
    upload: UploadedFile, *, count_before: int = 0, size_before: int = 0
) -> CheckedFile:
    """The one way in for a file, from the web form, the clerk's form or the API:
    recognised by its content, held to the per-file and total limits (with the
    `count_before` files of `size_before` bytes already taken), then scanned."""
    checked = sniff(upload)
    check_totals(count=count_before + 1, total_size=size_before + checked.size)
    scan(upload, name=checked.name)
    return checked


def sniff(upload: UploadedFile) -> CheckedFile:
    """Recognise a file by its content; raise a translated ValidationError otherwise."""
    name, _shortened = display_name(upload.name)
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
            ngettext(
                "Attach at most %(limit)s file.",
                "Attach at most %(limit)s files.",
                MAX_FILES,
            )
            % {"limit": MAX_FILES}
        )
    if total_size > MAX_TOTAL_SIZE:
        raise ValidationError(
            _("All files together may not exceed %(limit)s MB.")
            % {"limit": MAX_TOTAL_SIZE // (1024 * 1024)}
        )


def scan(upload: UploadedFile, *, name: str) -> None:
    """Pass the file to the virus scanner (settings.UPLOAD_SCANNER); an infected file is
    quarantined and refused with a message the uploader understands."""

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
        try:
            scanning.quarantine(
                upload,
                original_name=name,
                signature=verdict.signature,
                scanner=scanner.name,
            )
        except Exception:
            # Refused all the same; only the security officer's copy is missing.
            logger.exception("quarantine failed (signature %s)", verdict.signature)
        raise ValidationError(
            _("The file %(name)s was refused: our virus check found a threat in it.")
            % {"name": name}
        )
