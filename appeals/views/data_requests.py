"""Requests on paper to learn what personal data is held (Law No. 58): the clerk
records one, sees the agency's register of them (overdue ones marked) and answers
with the same document the citizen downloads from the tracking page.

Clerks only: requests on paper arrive at the chancellery, which registers incoming
mail; a clerk sees the requests of the agencies they are a clerk of, and names the
appeals concerned among those they may open."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Agency, Membership
from appeals.models import DataSubjectRequest
from appeals.privacy import subject_access
from appeals.register import permissions, state
from portal import pdf
from portal.form_messages import Form as PortalForm
from portal.ratelimit import client_id

Role = Membership.Role
MAX_APPEALS = 20  # appeals named in one request (each is one section of the PDF)


class DataRequestForm(PortalForm):
    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Agency.objects.none()
    )
    requester_name = forms.CharField(
        label=gettext_lazy("Requester's full name"), max_length=300
    )
    requester_contact = forms.CharField(
        label=gettext_lazy("Address, phone or e-mail for the answer"),
        max_length=500,
        required=False,
    )
    numbers = forms.CharField(
        label=gettext_lazy("Appeals concerned"),
        help_text=gettext_lazy(
            "Registration or tracking numbers, separated by commas or new lines."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    received_on = forms.DateField(
        label=gettext_lazy("Received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        agencies = permissions.agencies_with_role(user, Role.CLERK).order_by("code")
        self.fields["agency"].queryset = agencies
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0]
            self.fields["agency"].widget = forms.HiddenInput()
        self.fields["received_on"].initial = timezone.localdate()

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return received_on

    def clean_numbers(self):
        numbers = [
            part.strip()
            for part in re.split(r"[,;\s]+", self.cleaned_data["numbers"])
            if part.strip()
        ]
        if not numbers:
            raise ValidationError(_("Name at least one appeal."))
        if len(numbers) > MAX_APPEALS:
            raise ValidationError(
                _("At most %(count)s appeals in one request.") % {"count": MAX_APPEALS}
            )
        appeals, missing = subject_access.find_appeals(
            numbers=numbers, visible=permissions.visible_appeals_q(self.user)
        )
        if missing:
            raise ValidationError(
                _("No appeal with these numbers in your agency's register: %(numbers)s")
                % {"numbers": ", ".join(missing)}
            )
        self.appeals = appeals
        return numbers


def _own_request(request: HttpRequest, pk: int) -> DataSubjectRequest:
    """A request of one of the clerk's agencies; anyone else's is not found."""
    agencies = permissions.agencies_with_role(request.user, Role.CLERK)
    return get_object_or_404(
        DataSubjectRequest.objects.select_related("agency").filter(agency__in=agencies),
        pk=pk,
    )


@never_cache
@permissions.role_required(Role.CLERK)
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    agencies = permissions.agencies_with_role(request.user, Role.CLERK)
    today = timezone.localdate()
    rows = [
        {"request": item, "overdue": subject_access.is_overdue(item, today)}
        for item in subject_access.requests_of(agencies)[:500]
    ]
    return render(
        request,
        "staff/data_requests.html",
        {
            "rows": rows,
            "overdue": sum(row["overdue"] for row in rows),
            "today": today,
        },
    )


@never_cache
@permissions.role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest) -> HttpResponse:
    form = DataRequestForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            item = subject_access.record_request(
                actor=request.user,
                agency=form.cleaned_data["agency"],
                requester_name=form.cleaned_data["requester_name"],
                requester_contact=form.cleaned_data["requester_contact"],
                appeals=form.appeals,
                received_on=form.cleaned_data["received_on"],
                note=form.cleaned_data["note"],
            )
            return redirect("staff:data_request", pk=item.pk)
        status = 400
    return render(
        request, "staff/data_request_form.html", {"form": form}, status=status
    )


@never_cache
@permissions.role_required(Role.CLERK)
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_request(request, pk)
    return render(
        request,
        "staff/data_request.html",
        {
            "item": item,
            "appeals": item.appeals.order_by("received_at", "pk"),
            "overdue": subject_access.is_overdue(item),
        },
    )


@never_cache
@permissions.role_required(Role.CLERK)
@require_GET
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """The answer: the document of every appeal of the request in one PDF, or of one
    (`?appeal=<id>`). Opening it is logged as an opening of personal data."""
    item = _own_request(request, pk)
    appeals = list(item.appeals.order_by("received_at", "pk"))
    wanted = request.GET.get("appeal")
    if wanted:
        appeals = [appeal for appeal in appeals if str(appeal.pk) == wanted]
        if not appeals:
            raise Http404
    if not appeals:
        raise Http404
    content = subject_access.issue(
        appeal_ids=[appeal.pk for appeal in appeals],
        fmt="pdf",
        actor=request.user,
        data_request=item,
    )
    for appeal in appeals:
        state.record_personal_data_access(
            appeal=appeal, user=request.user, what="data_request", ip=client_id(request)
        )
    suffix = f"-{appeals[0].tracking_number}" if wanted else ""
    return pdf.response(
        content, filename=f"personal-data-request-{item.pk}{suffix}.pdf"
    )


@never_cache
@permissions.role_required(Role.CLERK)
@require_POST
def answered(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_request(request, pk)
    subject_access.mark_answered(request_id=item.pk, actor=request.user)
    return redirect("staff:data_request", pk=item.pk)
