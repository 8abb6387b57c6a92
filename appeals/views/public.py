"""The citizen's pages: filing an appeal, the receipt, tracking it."""

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Agency
from appeals.casework import answering
from appeals.forms import (
    AdditionForm,
    AppealForm,
    RatingForm,
    ReReviewForm,
    TrackForm,
)
from appeals.intake import filing, queries, receipts, uploads
from appeals.models import Appeal, Status
from appeals.register import codes, lookups
from portal import filestore, pdf, ratelimit
from portal.signing import SigningError

RECEIPTS = "appeal_receipts"  # session: tracking number -> access code, for the receipt
TRACKED = "appeal_tracked"  # session: tracking numbers this visitor has opened
# The citizen's receipts (tracking number -> access code of the appeals this browser
# sent) ride in a signed cookie, not the session: sending an appeal writes no session
# row (four queries fewer for a new visitor). The cookie is as private as the session
# cookie was (HttpOnly, Secure in production, SameSite=Lax, signed against tampering,
# expiring like a session); only its holder, who sent the appeals, can read it.
RECEIPT_COOKIE = "appeal_receipts"
RECEIPT_SALT = "appeals.views.public.receipts"
RECEIPTS_KEPT = 5


def _limits(name: str) -> tuple[int, int]:
    limit, window = settings.PORTAL_RATE_LIMITS[name]
    return limit, window


@never_cache
@require_http_methods(["GET", "POST"])
def file_appeal(request: HttpRequest) -> HttpResponse:
    return filing_page(
        request,
        template="appeals/appeal_form.html",
        agency_slug=request.GET.get("agency", ""),
        on_sent=_receipt_redirect,
    )


def filing_page(
    request: HttpRequest,
    *,
    template: str,
    agency_slug: str,
    on_sent,
    context: dict | None = None,
) -> HttpResponse:
    """The filing form's protocol, shared by the portal's page and the embeddable
    form: staged uploads, the honeypot and consent (AppealForm), the rate limit,
    exactly once per submission key. `on_sent(request, submission)` answers."""
    status = 200
    if request.method == "POST":
        form = AppealForm(request.POST, request.FILES)
        key = form.get_submission_key()
        filing.discard_staged(submission_key=key, tokens=request.POST.getlist("remove"))
        upload_errors = _stage_files(request, key)
        if form.is_valid() and not upload_errors:
            already = lookups.appeal_by_submission_key(key)
            if already is not None:  # sent again: the first one's receipt, no count
                filing.attach_late_uploads(appeal=already, submission_key=key)
                return on_sent(
                    request,
                    filing.Submission(appeal=already, access_code=None, created=False),
                )
            limit, window = _limits("submit")
            if ratelimit.hit(
                "submit", ratelimit.client_id(request), limit=limit, window=window
            ):
                return on_sent(request, _submit(form, key))
            form.add_error(
                None,
                _(
                    "Too many appeals have been sent from your connection in a short "
                    "time. Your text and files are kept: please try again in an hour."
                ),
            )
            status = 429
        for error in upload_errors:
            form.add_error("attachments", error)
        if status == 200:
            status = 400
    else:
        key = uuid.uuid4()  # a new form: nothing staged under it yet
        addressee = Agency.objects.filter(slug=agency_slug, is_active=True).first()
        form = AppealForm(
            initial={
                "submission_key": key,
                "language": translation.get_language(),
                "addressee": addressee.slug if addressee else None,
                "is_collective": "0",
            }
        )
    return render(
        request,
        template,
        {
            "form": form,
            "staged": queries.staged_uploads(key) if form.is_bound else [],
            **(context or {}),
        },
        status=status,
    )


def _stage_files(request: HttpRequest, key: uuid.UUID) -> list[str]:
    errors = []
    for upload in request.FILES.getlist("attachments"):
        try:
            item = filing.stage_upload(submission_key=key, upload=upload)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if uploads.display_name(upload.name)[1]:
            messages.info(
                request,
                _("The file's name was too long; it is kept as %(name)s.")
                % {"name": item.original_name},
            )
    return errors


def _submit(form: AppealForm, key: uuid.UUID) -> filing.Submission:
    return filing.submit_appeal(submission_key=key, **form.submission_fields())


def _receipt_redirect(
    request: HttpRequest, submission: filing.Submission
) -> HttpResponse:
    tracking = submission.appeal.tracking_number
    response = redirect("appeals:sent", tracking_number=tracking)
    if submission.access_code:
        receipts = _receipts(request)
        receipts.pop(tracking, None)
        receipts[tracking] = submission.access_code
        kept = dict(list(receipts.items())[-RECEIPTS_KEPT:])
        response.set_signed_cookie(
            RECEIPT_COOKIE,
            json.dumps(kept, separators=(",", ":")),
            salt=RECEIPT_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


def _receipts(request: HttpRequest) -> dict[str, str]:
    """The receipts this browser holds: tracking number -> access code."""
    raw = request.get_signed_cookie(
        RECEIPT_COOKIE,
        default=None,
        salt=RECEIPT_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
    )
    try:
        receipts = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(receipts, dict):
        return {}
    return {str(k): str(v) for k, v in receipts.items()}


def _is_tracked(request: HttpRequest, tracking_number: str) -> bool:
    """This visitor entered the access code, or sent the appeal from this browser."""
    return tracking_number in _receipts(request) or tracking_number in (
        request.session.get(TRACKED, [])
    )


def _remember_tracked(request: HttpRequest, tracking: str) -> None:
    tracked = request.session.get(TRACKED, [])
    if tracking not in tracked:
        request.session[TRACKED] = [*tracked[-19:], tracking]


@never_cache
@require_GET
def appeal_sent(request: HttpRequest, tracking_number: str) -> HttpResponse:
    # Only for the browser that sent it or opened it with the code: to anyone else a
    # number would tell whether such an appeal exists and when it came in.
    if not _is_tracked(request, tracking_number):
        return to_tracking_page(request, tracking_number)
    appeal = lookups.appeal_by_tracking_number(tracking_number)
    if appeal is None:
        raise Http404
    code = _receipts(request).get(tracking_number)
    return render(
        request,
        "appeals/appeal_sent.html",
        {"appeal": appeal, "access_code": code},
    )


@never_cache
@require_GET
def receipt_pdf(request: HttpRequest, tracking_number: str) -> HttpResponse:
    code = _receipts(request).get(tracking_number)
    appeal = (
        Appeal.objects.select_related("addressee", "topic")
        .filter(tracking_number=tracking_number)
        .first()
    )
    if appeal is None or code is None:
        raise Http404
    try:
        content = receipts.issue_receipt(
            appeal=appeal, access_code=code, request=request
        )
    except SigningError:
        # Never an unsigned receipt; the reason is logged by the signing service.
        return render(request, "appeals/receipt_unavailable.html", status=503)
    return pdf.response(content, filename=f"receipt-{tracking_number}.pdf")


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            number = form.cleaned_data["tracking_number"]
            client_limit, client_window = _limits("track_client")
            number_limit, number_window = _limits("track_number")
            allowed = ratelimit.hit(
                "track-client",
                ratelimit.client_id(request),
                limit=client_limit,
                window=client_window,
            ) & ratelimit.hit(
                # Per number and client: wrong codes typed elsewhere never lock the
                # rightful owner out (the code's 75 bits are the guard against
                # guessing, the per-client limit against trying many numbers).
                "track-number",
                f"{codes.normalise(number)}:{ratelimit.client_id(request)}",
                limit=number_limit,
                window=number_window,
            )
            if not allowed:
                form.add_error(
                    None,
                    _("Too many attempts. For your safety, please try again later."),
                )
                status = 429
            else:
                appeal = lookups.appeal_for_citizen(
                    tracking_number=number, access_code=form.cleaned_data["access_code"]
                )
                if appeal is not None:
                    _remember_tracked(request, appeal.tracking_number)
                    return redirect(
                        "appeals:status", tracking_number=appeal.tracking_number
                    )
                form.add_error(
                    None,
                    _(
                        "We could not find an appeal with this tracking number and "
                        "access code. Check both and try again."
                    ),
                )
                status = 400
        else:
            status = 400
    else:
        form = TrackForm(initial={"tracking_number": request.GET.get("number", "")})
    return render(request, "appeals/appeal_track.html", {"form": form}, status=status)


@never_cache
@require_GET
def appeal_status(request: HttpRequest, tracking_number: str) -> HttpResponse:
    if not _is_tracked(request, tracking_number):
        return to_tracking_page(request, tracking_number)
    appeal = lookups.appeal_by_tracking_number(tracking_number, with_agencies=True)
    if appeal is None:
        raise Http404
    return _status_page(request, appeal)


def _status_page(
    request,
    appeal,
    *,
    rating_form=None,
    re_review_form=None,
    addition_form=None,
    status=200,
):
    answer = lookups.citizen_answer(appeal)
    history = lookups.citizen_history(appeal)
    if addition_form is None:
        addition_form = AdditionForm(initial={"submission_key": uuid.uuid4()})
    return render(
        request,
        "appeals/appeal_status.html",
        {
            "appeal": appeal,
            "history": history,
            "answer": answer,
            "can_rate": answer is not None and not hasattr(answer, "rating"),
            "can_ask_re_review": lookups.can_ask_re_review(appeal, answer),
            "rating_form": rating_form or RatingForm(),
            "re_review_form": re_review_form or ReReviewForm(),
            "is_open": appeal.status != Status.CLOSED,
            "additions": lookups.citizen_additions(appeal, history),
            "addition_form": addition_form,
            "staged": (
                queries.staged_uploads(addition_form.get_submission_key())
                if addition_form.is_bound
                else []
            ),
        },
        status=status,
    )


def _tracked_appeal(request: HttpRequest, tracking_number: str) -> Appeal:
    if not _is_tracked(request, tracking_number):
        raise Http404
    appeal = lookups.appeal_by_tracking_number(tracking_number)
    if appeal is None:
        raise Http404
    return appeal


@never_cache
@require_POST
def rate_answer(request: HttpRequest, tracking_number: str) -> HttpResponse:
    appeal = _tracked_appeal(request, tracking_number)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            answering.rate_answer(appeal_id=appeal.pk, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you: your rating was recorded."))
        return redirect("appeals:status", tracking_number=tracking_number)
    return _status_page(request, appeal, rating_form=form, status=400)


@never_cache
@require_POST
def ask_re_review(request: HttpRequest, tracking_number: str) -> HttpResponse:
    appeal = _tracked_appeal(request, tracking_number)
    form = ReReviewForm(request.POST)
    if form.is_valid():
        try:
            answering.request_re_review(
                appeal_id=appeal.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Your appeal will be reviewed again; you will be told the result."),
            )
        return redirect("appeals:status", tracking_number=tracking_number)
    return _status_page(request, appeal, re_review_form=form, status=400)


@never_cache
@require_GET
def answer_letter(request: HttpRequest, tracking_number: str) -> HttpResponse:
    """The answer letter, only to a visitor who entered the access code."""
    appeal = _tracked_appeal(request, tracking_number)
    answer = lookups.citizen_answer(appeal)
    if answer is None or not answer.letter:
        raise Http404
    return letter_response(answer)


def letter_response(answer) -> FileResponse:
    """An approved answer's letter as a download (citizens' and staff's views)."""
    return FileResponse(
        filestore.open_or_404(answer.letter, what=f"answer letter {answer.pk}"),
        as_attachment=True,
        filename=f"answer-{answer.appeal.registration_number}.pdf",
        content_type="application/pdf",
    )


def _track_url() -> str:
    return reverse("appeals:track")


def to_tracking_page(request: HttpRequest, tracking_number: str) -> HttpResponse:
    """A visitor who has not opened the appeal with its code: to the tracking page,
    which asks for it and reveals nothing about the number."""
    messages.info(request, _("Enter the access code to open this appeal."))
    return redirect(f"{_track_url()}?number={tracking_number}")
