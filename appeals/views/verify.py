"""The public verification page of an issued document (issue 31): what the document is,
without personal data, and a check that an uploaded PDF is exactly the one issued. An
uploaded file is read in memory and never stored."""

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from appeals.models import IssuedDocument
from appeals.register import issuing
from portal import ratelimit, signing


class VerifyForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("The PDF file you received"))


GENUINE = "genuine"
CHANGED = "changed"
NOT_ISSUED = "not_issued"
TOO_LARGE = "too_large"


def _check(
    document: IssuedDocument, data: bytes, reissues: list[IssuedDocument]
) -> tuple[str, str]:
    """(verdict, message) for the uploaded bytes against the issued document and its
    later signatures (re-issues keep the content and add a signature)."""
    try:
        verdict = signing.validate_pdf(data)
    except signing.NotAPdf:
        return NOT_ISSUED, _(
            "This file is not a PDF document: it was not issued by the portal."
        )
    issued = [document, *reissues]
    if signing.sha256(data) in {each.sha256 for each in issued}:
        # The issued file itself: its hash was recorded when it was signed, so it stays
        # verifiable after the signing certificate is rotated or revoked.
        return GENUINE, _(
            "This file is exactly the document the portal issued under this code; "
            "its electronic signature is intact."
        )
    if not verdict.signed:
        return NOT_ISSUED, _(
            "This file carries no electronic signature: it was not issued by the portal."
        )
    same_signer = verdict.fingerprint in {
        each.certificate_fingerprint for each in issued
    }
    if same_signer or verdict.trusted:
        return CHANGED, _(
            "This file was changed after it was issued: it is not the document the "
            "portal issued under this code."
        )
    return NOT_ISSUED, _("This file was not issued by the portal.")


def _page(request, document, *, form=None, result=None, message=None, status=200):
    return render(
        request,
        "appeals/verify.html",
        {
            "document": document,
            "form": form or VerifyForm(),
            "result": result,
            "message": message,
            "reissues": issuing.reissues_of(document),
        },
        status=status,
    )


def _too_large(request, document) -> HttpResponse:
    message = _(
        "The file is larger than %(size)s MB: it was not issued by the portal."
    ) % {"size": settings.VERIFY_MAX_UPLOAD // (1024 * 1024)}
    return _page(request, document, result=TOO_LARGE, message=message, status=413)


@csrf_exempt  # checked by _verify, once the upload is known to be small enough
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, code: str) -> HttpResponse:
    limit, window = settings.PORTAL_RATE_LIMITS["track_client"]
    if not ratelimit.hit(
        "verify-client", ratelimit.client_id(request), limit=limit, window=window
    ):
        return render(request, "appeals/verify.html", {"too_many": True}, status=429)
    document = issuing.find(code)
    if document is None:
        raise Http404  # the same page as any unknown address: a wrong code tells nothing
    if request.method == "POST":
        # Refused before the body is read: a too large upload is never held.
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.VERIFY_MAX_UPLOAD + 64 * 1024:
            return _too_large(request, document)
        # In memory only: an uploaded file never reaches the disk or the storage.
        request.upload_handlers = [MemoryFileUploadHandler(request)]
    return _verify(request, document)


@csrf_protect
def _verify(request: HttpRequest, document: IssuedDocument) -> HttpResponse:
    if request.method != "POST":
        return _page(request, document)
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, document, form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > settings.VERIFY_MAX_UPLOAD:
        return _too_large(request, document)
    result, message = _check(document, upload.read(), issuing.reissues_of(document))
    return _page(request, document, result=result, message=message)
