"""The filing receipt as a signed PDF/A with its verification code: rendered for the
citizen who filed (it shows the access code, so the signed file is never stored; the
record keeps its hash and signer for the verification page)."""

from django.http import HttpRequest
from django.utils import translation

from appeals.models import Appeal, IssuedDocument
from appeals.register import issuing


def issue_receipt(
    *, appeal: Appeal, access_code: str, request: HttpRequest | None = None
) -> bytes:
    """The signed receipt; SigningError when no certificate can sign it now (the
    citizen then gets no unsigned copy)."""
    # Imported here: WeasyPrint loads only where a PDF is made (0.65 s, 39 MiB).
    from portal import pdf

    document = issuing.reserve(
        kind=IssuedDocument.Kind.RECEIPT,
        agency=appeal.addressee,
        appeal=appeal,
        registration_number=appeal.registration_number or "",
        language=translation.get_language(),  # the page's, as the receipt's text
    )
    content = pdf.render(
        "appeals/receipt_pdf.html",
        {
            "appeal": appeal,
            "access_code": access_code,
            "attachments": appeal.attachments.all(),
            **issuing.footer_context(document),
        },
        request=request,
        variant=pdf.ARCHIVAL,
    )
    try:
        return issuing.sign(document, content, store=lambda _signed: "")
    except Exception:
        # A receipt is made again on the next download: no waiting row is left.
        document.delete()
        raise
