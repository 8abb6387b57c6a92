"""Issued documents (issue 31): a verification code reserved before the PDF is rendered
(its QR code is printed in the first page's footer), the signature, the stored file and
the record the public verification page reads."""

import base64
import io
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from agencies.models import Agency
from appeals.models import Answer, Appeal, IssuedDocument
from portal import signing

logger = logging.getLogger(__name__)

# Crockford-like: no 0/O, 1/I/L to misread from paper. 10 characters = 50 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def reserve(
    *,
    kind: str,
    agency: Agency | None,
    appeal: Appeal | None = None,
    answer: Answer | None = None,
    registration_number: str = "",
    language: str = "",
    previous: IssuedDocument | None = None,
) -> IssuedDocument:
    """The record and its code, before the document is rendered."""
    return IssuedDocument.objects.create(
        kind=kind,
        code=new_code(),
        agency=agency,
        appeal=appeal,
        answer=answer,
        registration_number=registration_number,
        language=language or settings.LANGUAGE_CODE,
        previous=previous,
    )


def verification_url(document: IssuedDocument) -> str:
    with translation.override(document.language or settings.LANGUAGE_CODE):
        path = reverse("appeals:verify", kwargs={"code": document.code})
    return settings.PORTAL_BASE_URL + path


def _qr_data_uri(text: str) -> str:
    # qrcode's SVG path image: vector, sharp at any zoom, no raster library needed.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1
    )
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def footer_context(document: IssuedDocument) -> dict:
    """What templates/appeals/_verification_footer_pdf.html prints."""
    url = verification_url(document)
    return {
        "verification": {
            "code": document.code,
            "url": url,
            "qr": _qr_data_uri(url),
        }
    }


def sign(
    document: IssuedDocument,
    content: bytes,
    *,
    store: Callable[[bytes], str] | None = None,
) -> bytes:
    """Signs the rendered PDF, stores it (with `store`, which returns the stored name,
    else under issued/) and records the hash, the pages and the signer. SigningError
    leaves the document waiting, with the reason kept for staff and the logs."""
    agency_code = document.agency.code if document.agency_id else None
    try:
        signer = signing.signer_for(agency_code)
        signed = signing.sign_pdf(
            content, signer=signer, location=settings.PORTAL_BASE_URL
        )
    except signing.SigningError as exc:
        logger.error(
            "document %s (%s %s) cannot be signed: %s",
            document.code,
            document.kind,
            document.registration_number,
            exc,
        )
        IssuedDocument.objects.filter(pk=document.pk).update(
            signing_error=str(exc)[:500]
        )
        document.signing_error = str(exc)[:500]
        raise
    if store is None:
        stamp = timezone.localdate()
        file_name = default_storage.save(
            f"issued/{stamp:%Y/%m}/{document.kind}-{document.code}.pdf",
            ContentFile(signed),
        )
    else:
        file_name = store(signed)
    document.state = IssuedDocument.State.ISSUED
    document.issued_at = timezone.now()
    document.pages = signing.page_count(signed)
    document.sha256 = signing.sha256(signed)
    document.signer_subject = signer.subject[:500]
    document.certificate_fingerprint = signer.fingerprint
    document.file_name = file_name
    document.signing_error = ""
    document.save()
    return signed


def find(code: str) -> IssuedDocument | None:
    """The issued document of a code; None for an unknown code and one still waiting
    (the public page treats both alike)."""
    return (
        IssuedDocument.objects.select_related("agency")
        .filter(code=normalise(code), state=IssuedDocument.State.ISSUED)
        .first()
    )


def reissuable() -> "models.QuerySet[IssuedDocument]":
    """Issued documents whose file the portal keeps (receipts are never stored) and
    that were not re-issued yet: what an archive may ask to have signed again."""
    return (
        IssuedDocument.objects.filter(state=IssuedDocument.State.ISSUED)
        .exclude(file_name="")
        .filter(reissued_as__isnull=True)
        .select_related("agency")
        .order_by("issued_at", "pk")
    )


def signed_by_current_certificate(document: IssuedDocument) -> bool:
    agency_code = document.agency.code if document.agency_id else None
    current = signing.signer_for(agency_code)
    return current.fingerprint == document.certificate_fingerprint


def reissue(document: IssuedDocument) -> IssuedDocument:
    """Signs the issued file again with today's certificate (the agency's or the
    portal's) and a fresh time-stamp, as an added signature: the content and the
    earlier signature stay in the file, the earlier record stays as it was, and the
    new record (its own code, the new file's hash and signer) points back to it. The
    earlier code's page accepts both files."""
    with default_storage.open(document.file_name, "rb") as handle:
        content = handle.read()
    generation = 1
    earlier = document
    while earlier.previous_id is not None:
        generation += 1
        earlier = earlier.previous
    agency_code = document.agency.code if document.agency_id else None
    signer = signing.signer_for(agency_code)
    signed = signing.sign_pdf(
        content,
        signer=signer,
        location=settings.PORTAL_BASE_URL,
        field_name=f"Reissue{generation}",
    )
    stamp = timezone.localdate()
    file_name = default_storage.save(
        f"issued/{stamp:%Y/%m}/{document.kind}-{document.code}-r{generation}.pdf",
        ContentFile(signed),
    )
    return IssuedDocument.objects.create(
        kind=document.kind,
        code=new_code(),
        state=IssuedDocument.State.ISSUED,
        appeal=document.appeal,
        answer=document.answer,
        agency=document.agency,
        registration_number=document.registration_number,
        language=document.language,
        issued_at=timezone.now(),
        pages=signing.page_count(signed),
        sha256=signing.sha256(signed),
        signer_subject=signer.subject[:500],
        certificate_fingerprint=signer.fingerprint,
        file_name=file_name,
        previous=document,
    )


def reissues_of(document: IssuedDocument) -> list[IssuedDocument]:
    """The later signatures of the same document, oldest first."""
    chain = []
    current = document
    while True:
        following = IssuedDocument.objects.filter(previous=current).first()
        if following is None:
            return chain
        chain.append(following)
        current = following
