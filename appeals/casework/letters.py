"""The answer letter: a PDF on the lead agency's letterhead, in the appeal's language."""

from django.utils import timezone, translation

from appeals.models import Answer, Appeal


def render_answer_letter(*, appeal: Appeal, answer: Answer) -> bytes:
    # Imported here: every process that loads the services (import_appeals and other
    # commands) would otherwise load WeasyPrint at start, 0.65 s and 39 MiB.
    from portal import pdf

    with translation.override(appeal.language):
        return pdf.render(
            "appeals/answer_letter_pdf.html",
            {
                "appeal": appeal,
                "answer": answer,
                "agency": answer.agency,
                "signed_by": answer.approved_by,
                "date": timezone.localdate(answer.approved_at),
            },
        )
