"""The controllers' side: the queue of registered appeals, routing and forwarding."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Membership
from appeals.casework import answering, routing, worklists
from appeals.forms import ForwardForm, LeaveWithoutConsiderationForm, RouteForm
from appeals.models import Appeal, Status
from appeals.register import lookups, permissions, state
from appeals.suggestions import routing as suggested_routing
from appeals.suggestions import suggest
from appeals.views import staff
from portal.pagination import keyset_page
from portal.ratelimit import client_id

Role = Membership.Role


@never_cache
@permissions.role_required(Role.CONTROLLER)
@require_GET
def controllers_queue(request: HttpRequest) -> HttpResponse:
    page = keyset_page(
        worklists.controllers_queue(),
        key="registered_at",
        after=request.GET.get("after"),
        size=50,
    )
    learned = suggest.for_appeals(page.rows)
    for appeal in page.rows:
        appeal.learned = learned.get(appeal.pk)  # the model's three, if there is one
    return render(request, "staff/controllers_queue.html", {"page": page})


@never_cache
@permissions.role_required(Role.CONTROLLER)
@require_http_methods(["GET", "POST"])
def route(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("topic__default_agency", "addressee"), pk=pk
    )
    if not permissions.can_view_appeal(request.user, appeal):
        raise Http404
    suggestion = worklists.suggested_agency(appeal)
    # The model's suggestions beside the rule's; its first is preselected only when
    # the rule has none.
    learned = suggest.for_appeal(appeal)
    preselected = suggestion or (learned.first.agency if learned.first else None)
    route_form = RouteForm(initial={"lead": preselected.slug if preselected else None})
    forward_form = ForwardForm()
    # Only a registered appeal may still be left without consideration.
    leave_form = (
        LeaveWithoutConsiderationForm() if appeal.status == Status.REGISTERED else None
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "group":
                members = answering.group_mass_appeals(
                    lead_id=appeal.pk,
                    member_ids=request.POST.getlist("members"),
                    actor=request.user,
                )
                messages.success(
                    request,
                    _("%(count)s appeals were grouped with this one.")
                    % {"count": len(members)},
                )
                return redirect("staff:route", pk=appeal.pk)
            if action == "leave":
                leave_form, left = staff.leave_without_consideration(request, appeal)
                if left:
                    return redirect("staff:controllers_queue")
            elif action == "forward":
                forward_form = ForwardForm(request.POST)
                if forward_form.is_valid():
                    routing.forward_appeal(
                        appeal_id=appeal.pk,
                        actor=request.user,
                        body=forward_form.cleaned_data["body"],
                        letter_number=forward_form.cleaned_data["letter_number"],
                    )
                    messages.success(request, _("The appeal was forwarded and closed."))
                    return redirect("staff:controllers_queue")
            else:
                route_form = RouteForm(request.POST)
                if route_form.is_valid():
                    data = route_form.cleaned_data
                    suggested_routing.route_appeal(
                        appeal_id=appeal.pk,
                        actor=request.user,
                        lead=data["lead"],
                        co_executors=data["co_executors"],
                        cover_note=data["cover_note"],
                    )
                    messages.success(
                        request,
                        _("The appeal was sent to %(agency)s.")
                        % {"agency": data["lead"].name},
                    )
                    return redirect("staff:controllers_queue")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("staff:controllers_queue")
        status = 400
    state.record_personal_data_access(
        appeal=appeal, user=request.user, what="route", ip=client_id(request)
    )
    return render(
        request,
        "staff/route.html",
        {
            "appeal": appeal,
            "suggestion": suggestion,
            "learned": learned,
            "route_form": route_form,
            "forward_form": forward_form,
            "leave_form": leave_form,
            "history": lookups.staff_history(appeal),
            "data_accesses": lookups.data_accesses(appeal),
            "mass_candidates": worklists.mass_candidates(appeal),
            "mass_members": appeal.mass_members.all(),
            "attachments": appeal.attachments.all(),
        },
        status=status,
    )
