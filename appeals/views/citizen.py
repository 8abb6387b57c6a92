"""The citizen's actions on an appeal after filing, from the tracking page: add to it,
withdraw it. Only for a browser that opened the appeal with its access code."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from appeals.citizen import additions, withdrawal
from appeals.forms import AdditionForm, WithdrawForm
from appeals.intake import filing
from appeals.register import lookups
from appeals.views import public


def _opened_appeal(request: HttpRequest, tracking_number: str):
    """The appeal, or None when this browser has not opened it with its code (the
    caller sends it to the tracking page, which reveals nothing)."""
    if not public._is_tracked(request, tracking_number):
        return None
    return lookups.appeal_by_tracking_number(tracking_number, with_agencies=True)


@never_cache
@require_POST
def add(request: HttpRequest, tracking_number: str) -> HttpResponse:
    appeal = _opened_appeal(request, tracking_number)
    if appeal is None:
        return public.to_tracking_page(request, tracking_number)
    form = AdditionForm(request.POST, request.FILES)
    key = form.get_submission_key()
    filing.discard_staged(submission_key=key, tokens=request.POST.getlist("remove"))
    upload_errors = public._stage_files(request, key)
    for error in upload_errors:
        form.add_error("attachments", error)
    if form.is_valid():
        try:
            additions.add_to_appeal(
                appeal_id=appeal.pk, text=form.cleaned_data["text"], submission_key=key
            )
        except ValidationError as error:
            # Closed meanwhile, or nothing to add: the text and the files stay.
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Your addition was sent. It is with your appeal; the deadline stays."
                ),
            )
            return redirect("appeals:status", tracking_number=tracking_number)
    return public._status_page(request, appeal, addition_form=form, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, tracking_number: str) -> HttpResponse:
    """A confirmation step that says what happens, then the withdrawal."""
    appeal = _opened_appeal(request, tracking_number)
    if appeal is None:
        return public.to_tracking_page(request, tracking_number)
    if not withdrawal.can_withdraw(appeal):
        messages.error(
            request, _("This appeal is closed already and cannot be withdrawn.")
        )
        return redirect("appeals:status", tracking_number=tracking_number)
    form = WithdrawForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                withdrawal.withdraw_appeal(
                    appeal_id=appeal.pk, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _(
                        "Your appeal was withdrawn. A confirmation is on its way to you."
                    ),
                )
            return redirect("appeals:status", tracking_number=tracking_number)
        status = 400
    return render(
        request,
        "appeals/withdraw.html",
        {"appeal": appeal, "form": form},
        status=status,
    )
