"""The staff workspace: the clerks' queue of portal submissions, registration of paper
and oral appeals, the registration card, and permission-checked downloads."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Membership
from appeals.forms import (
    LeaveWithoutConsiderationForm,
    OralRegistrationForm,
    QueueRegisterForm,
    WrittenRegistrationForm,
)
from appeals.intake import filing, flags, queries, registration, uploads
from appeals.models import Answer, Appeal, Attachment, Channel, Status
from appeals.register import lookups, permissions, state
from appeals.views.public import RECEIPTS, letter_response
from portal import filestore
from portal.ratelimit import client_id

Role = Membership.Role
role_required = permissions.role_required


def leave_without_consideration(request: HttpRequest, appeal: Appeal):
    """The posted "leave without consideration" form of the clerk's queue page and
    the controllers' routing page: (the form, whether the appeal was left)."""
    form = LeaveWithoutConsiderationForm(request.POST)
    if not form.is_valid():
        return form, False
    registration.leave_without_consideration(
        appeal_id=appeal.pk,
        actor=request.user,
        ground=form.cleaned_data["ground"],
        reason=form.citizen_reason(),
    )
    messages.success(request, _("The appeal was left without consideration."))
    return form, True


@never_cache
@role_required()
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    roles = permissions.roles_of(request.user)
    cards = []
    if Role.CLERK in roles:
        cards.append(
            {
                "key": "queue",
                "label": _("portal submissions waiting for registration"),
                "count": Appeal.objects.filter(status=Status.SUBMITTED).count(),
                "url": "queue/",
            }
        )
        mine = permissions.agencies_with_role(request.user, Role.CLERK)
        cards.append(
            {
                "key": "registered_today",
                "label": _("registered today by your agency"),
                "count": Appeal.objects.filter(
                    registering_agency__in=mine,
                    registered_at__date=timezone.localdate(),
                ).count(),
                "url": "journal/",
            }
        )
    if Role.CONTROLLER in roles:
        cards.append(
            {
                "key": "to_route",
                "label": _("registered appeals waiting to be routed"),
                "count": Appeal.objects.filter(
                    status__in=[Status.REGISTERED, Status.RE_REVIEW]
                ).count(),
                "url": "routing/",
            }
        )
    return render(request, "staff/dashboard.html", {"cards": cards})


@never_cache
@role_required(Role.CLERK)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    submissions = (
        Appeal.objects.filter(status=Status.SUBMITTED)
        .select_related("addressee", "topic")
        .order_by("received_at", "id")
    )
    page = Paginator(submissions, 50).get_page(request.GET.get("page"))
    return render(request, "staff/queue.html", {"page": page})


def _clerk_agencies(request: HttpRequest):
    return permissions.agencies_with_role(request.user, Role.CLERK).order_by("code")


def _repeat_choice(form, candidates) -> tuple[bool, Appeal | None]:
    """(ready, earlier appeal): not ready while found candidates await the clerk."""
    if candidates and not form.cleaned_data.get("repeats_checked"):
        return False, None
    earlier_id = form.cleaned_data.get("repeat_of")
    allowed = {a.pk for a in [*candidates.same_applicant, *candidates.similar_text]}
    if earlier_id and earlier_id in allowed:
        return True, Appeal.objects.get(pk=earlier_id)
    return True, None


@never_cache
@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def queue_item(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("addressee", "topic"), pk=pk
    )
    if appeal.status != Status.SUBMITTED:
        # Handled already (perhaps by another clerk a moment ago): its card, if the
        # clerk may see it; the queue page never shows registered appeals.
        if request.method == "POST":
            messages.error(
                request,
                _("This appeal is %(status)s now; the action is no longer possible.")
                % {"status": appeal.get_status_display()},
            )
            return redirect("staff:queue")
        if permissions.can_view_appeal(request.user, appeal):
            return redirect("staff:card", pk=appeal.pk)
        raise Http404
    agencies = _clerk_agencies(request)
    candidates = queries.similar_appeals(
        name=appeal.applicant_name,
        phone=appeal.applicant_phone,
        email=appeal.applicant_email,
        text=appeal.text,
        exclude_id=appeal.pk,
    )
    register_form = QueueRegisterForm(
        agencies=agencies, initial={"submission_key": uuid.uuid4()}
    )
    leave_form = LeaveWithoutConsiderationForm()
    status = 200
    if request.method == "GET":
        state.record_personal_data_access(
            appeal=appeal, user=request.user, what="queue", ip=client_id(request)
        )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "leave":
                leave_form, left = leave_without_consideration(request, appeal)
                if left:
                    return redirect("staff:queue")
            else:
                register_form = QueueRegisterForm(request.POST, agencies=agencies)
                if register_form.is_valid():
                    ready, earlier = _repeat_choice(register_form, candidates)
                    if ready:
                        registration.register_appeal(
                            appeal_id=appeal.pk,
                            actor=request.user,
                            agency=register_form.cleaned_data["agency"],
                            repeat_of=earlier,
                        )
                        return redirect("staff:card", pk=appeal.pk)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("staff:queue")
        status = 400
    return render(
        request,
        "staff/queue_item.html",
        {
            "appeal": appeal,
            "candidates": candidates,
            # The filing left the repeat check to registration: until then, the same
            # applicant's earlier appeals found above tell (no query).
            "flags_shown": flags.with_repeat(
                appeal.flags, flags.repeat_among(candidates.same_applicant, appeal.text)
            ),
            "register_form": register_form,
            "leave_form": leave_form,
            "attachments": appeal.attachments.all(),
        },
        status=status,
    )


def _register(request: HttpRequest, form_class, template: str, initial: dict):
    agencies = _clerk_agencies(request)
    candidates = None
    staged = []
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, agencies=agencies)
        key = form.get_submission_key()
        filing.discard_staged(submission_key=key, tokens=request.POST.getlist("remove"))
        upload_errors = []
        for upload in request.FILES.getlist("scan"):
            try:
                filing.stage_upload(submission_key=key, upload=upload)
            except ValidationError as error:
                upload_errors.extend(error.messages)
        valid = form.is_valid()
        for error in upload_errors:
            form.add_error("scan" if "scan" in form.fields else None, error)
        if valid and not upload_errors:
            data = form.cleaned_data
            candidates = queries.similar_appeals(
                name=data["applicant_name"],
                phone=data["applicant_phone"],
                email=data["applicant_email"],
                text=data["text"],
            )
            ready, earlier = _repeat_choice(form, candidates)
            if ready:
                appeal, code = registration.register_paper_appeal(
                    actor=request.user, repeat_of=earlier, submission_key=key,
                    **form.registration_fields(),
                )  # fmt: skip
                if code:
                    receipts = request.session.get(RECEIPTS, {})
                    receipts[appeal.tracking_number] = code
                    request.session[RECEIPTS] = receipts
                return redirect("staff:card", pk=appeal.pk)
        else:
            status = 400
        staged = queries.staged_uploads(key)
    else:
        form = form_class(
            agencies=agencies, initial={"submission_key": uuid.uuid4(), **initial}
        )
    return render(
        request,
        template,
        {"form": form, "candidates": candidates, "staged": staged},
        status=status,
    )


@never_cache
@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def register_written(request: HttpRequest) -> HttpResponse:
    initial = {
        "received_on": timezone.localdate(),
        "language": "ky",
        "signatories": 1,
        "channel": request.GET.get("channel", Channel.OTHER),
    }
    return _register(
        request, WrittenRegistrationForm, "staff/register_written.html", initial
    )


@never_cache
@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def register_oral(request: HttpRequest) -> HttpResponse:
    initial = {
        "received_at": timezone.localtime().replace(second=0, microsecond=0),
        "received_by": request.user.pk,
        "language": "ky",
        "signatories": 1,
    }
    return _register(request, OralRegistrationForm, "staff/register_oral.html", initial)


@never_cache
@role_required()
@require_GET
def registration_card(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("registering_agency", "topic", "repeat_of"), pk=pk
    )
    if not permissions.can_view_appeal(request.user, appeal):
        raise Http404
    code = request.session.get(RECEIPTS, {}).get(appeal.tracking_number)
    state.record_personal_data_access(
        appeal=appeal, user=request.user, what="card", ip=client_id(request)
    )
    return render(
        request,
        "staff/registration_card.html",
        {
            "appeal": appeal,
            "access_code": code,
            "attachments": appeal.attachments.all(),
            "history": lookups.staff_history(appeal),
            "data_accesses": lookups.data_accesses(appeal),
        },
    )


@never_cache
@role_required()
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Files are never served from a public URL: only here, after the permission check."""
    item = get_object_or_404(Attachment.objects.select_related("appeal"), pk=pk)
    if not permissions.can_view_appeal(request.user, item.appeal):
        raise Http404
    # Opened first: a file gone from the storage is a 404 (and a log line), no access.
    stored = filestore.open_or_404(item.file, what=f"attachment {item.pk}")
    state.record_personal_data_access(
        appeal=item.appeal, user=request.user, what="attachment", ip=client_id(request)
    )
    response = FileResponse(
        stored,
        as_attachment=True,
        # Under the detected type's extension, whatever the sender called it.
        filename=uploads.download_name(
            item.original_name, uploads.extension_of(item.content_type)
        ),
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@role_required()
@require_GET
def answer_letter(request: HttpRequest, pk: int) -> FileResponse:
    """The approved answer letter, for the staff who may see the appeal."""
    answer = get_object_or_404(
        Answer.objects.select_related("appeal"), pk=pk, state=Answer.State.APPROVED
    )
    if not answer.letter or not permissions.can_view_appeal(
        request.user, answer.appeal
    ):
        raise Http404
    return letter_response(answer)
