"""The answer letter: a PDF/A on the lead agency's letterhead, in the appeal's language,
with its verification code and QR code in the first page's footer."""

from django.utils import timezone, translation

from appeals.models import Answer, Appeal, IssuedDocument
from appeals.register import issuing


def render_answer_letter(
    *, appeal: Appeal, answer: Answer, document: IssuedDocument | None = None
) -> bytes:
    # Imported here: every process that loads the services (import_appeals and other
    # commands) would otherwise load WeasyPrint at start, 0.65 s and 39 MiB.
    from portal import pdf

    with translation.override(appeal.language):
        context = {
            "appeal": appeal,
            "answer": answer,
            "agency": answer.agency,
            "signed_by": answer.approved_by,
            "date": timezone.localdate(answer.approved_at),
        }
        if document is not None:
            context.update(issuing.footer_context(document))
        return pdf.render(
            "appeals/answer_letter_pdf.html", context, variant=pdf.ARCHIVAL
        )
