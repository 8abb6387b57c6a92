"""The agencies' side: the inbox, and the appeal's work page (assign, answer, approve,
send back, return, co-executors' input)."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Membership
from agencies.selectors import topic_choices
from appeals.casework import answering, routing, worklists
from appeals.deadlines import calendar as deadlines
from appeals.forms import (
    AnswerForm,
    AssignForm,
    CommentForm,
    ContributionForm,
    ReturnForm,
)
from appeals.models import Answer, Appeal, Assignment, Kind, Status
from appeals.register import lookups, permissions, state
from appeals.templatetags.deadlines import working_days_left
from portal.ratelimit import client_id

Role = Membership.Role
WORK_ROLES = (Role.HEAD, Role.EXECUTOR)


@never_cache
@permissions.role_required(*WORK_ROLES)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    agencies = permissions.agencies_holding(request.user, *WORK_ROLES)
    agency = next(
        (a for a in agencies if a.slug == request.GET.get("agency")), agencies[0]
    )
    # A head distributes the new ones; an executor starts with their own work.
    is_head = permissions.holds_role(request.user, agency.pk, Role.HEAD)
    tab = request.GET.get("tab", "new" if is_head else "in_progress")
    if tab not in worklists.INBOX_TABS:
        tab = "new"
    try:
        topic_id = int(request.GET.get("topic") or 0) or None
    except ValueError:
        topic_id = None
    kind = request.GET.get("kind", "")
    filters = worklists.InboxFilters(
        kind=kind if kind in Kind.values else "", topic_id=topic_id
    )
    page = worklists.inbox_page(
        user=request.user,
        agency=agency,
        tab=tab,
        filters=filters,
        after=request.GET.get("after"),
        size=50,
    )
    # Every row shows its working days left: one calendar for the page.
    with deadlines.one_calendar():
        return render(
            request,
            "staff/inbox.html",
            {
                "agency": agency,
                "agencies": agencies,
                "tab": tab,
                "tabs": _tabs(
                    worklists.inbox_counts(
                        user=request.user, agency=agency, filters=filters
                    )
                ),
                "page": page,
                "rows": _rows(page.rows),
                "filters": filters,
                # The filter, as the tabs' and the next page's links carry it.
                "filter_query": urlencode(
                    {
                        "agency": agency.slug,
                        "kind": filters.kind,
                        "topic": filters.topic_id or "",
                    }
                ),
                "kinds": Kind.choices,
                "topics": topic_choices(),
            },
        )


TAB_LABELS = {
    "new": gettext_lazy("New"),
    "in_progress": gettext_lazy("In progress"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
}


def _tabs(counts: dict) -> list[dict]:
    return [
        {"name": name, "label": TAB_LABELS[name], "count": counts[name]}
        for name in worklists.INBOX_TABS
    ]


@dataclass(frozen=True)
class InboxRow:
    """One row of the inbox table, as it shows."""

    url: str
    number: str
    kind: str
    topic: str
    status: str
    due_on: str
    left: str


def _rows(appeals: list[Appeal]) -> list[InboxRow]:
    """The page's rows formatted here, each label translated, the work page's URL
    reversed and each due date formatted once per page: the template's look-ups,
    filters and display methods for 50 rows were a third of the page's CPU
    (bench/profile_requests.py, issue 11)."""
    kinds = {value: str(label) for value, label in Kind.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    url = reverse("staff:work", args=[_URL_PK])
    dates: dict = {}  # due_on -> (the date as shown, working days left)
    rows = []
    for appeal in appeals:
        if appeal.due_on not in dates:
            dates[appeal.due_on] = (
                date_format(appeal.due_on, "SHORT_DATE_FORMAT")
                if appeal.due_on
                else "",
                working_days_left(appeal.due_on),
            )
        due_on, left = dates[appeal.due_on]
        rows.append(
            InboxRow(
                url=url.replace(str(_URL_PK), str(appeal.pk)),
                number=appeal.registration_number,
                kind=kinds.get(appeal.kind, appeal.kind),
                topic=appeal.topic.name if appeal.topic_id else "",
                status=statuses.get(appeal.status, appeal.status),
                due_on=due_on,
                left=left,
            )
        )
    return rows


# A number that appears nowhere else in the work page's URL: replaced by each id.
_URL_PK = 987_654_321


DONE_MESSAGES = {
    "assign": gettext_lazy("The executor was assigned."),
    "draft": gettext_lazy("The draft was saved."),
    "submit": gettext_lazy("The answer was submitted to the head for approval."),
    "send_back": gettext_lazy("The answer was sent back to the executor."),
    "approve": gettext_lazy(
        "The answer was approved: the appeal is closed and the letter went to the "
        "citizen."
    ),
    "return": gettext_lazy("The appeal was returned to the chancellery."),
    "contribute": gettext_lazy("Your input was sent to the lead agency."),
}

ACTIONS = {
    "assign": (AssignForm, routing.assign_executor),
    "draft": (AnswerForm, answering.save_answer_draft),
    "submit": (AnswerForm, answering.save_answer_draft),
    "send_back": (CommentForm, answering.send_back_answer),
    "approve": (None, answering.approve_answer),
    "return": (ReturnForm, routing.return_appeal),
    "contribute": (ContributionForm, answering.add_contribution),
}


@never_cache
@permissions.role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def work(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("topic", "lead_agency", "registering_agency"),
        pk=pk,
    )
    if not permissions.can_view_appeal(request.user, appeal):
        raise Http404
    mine = [
        a
        for a in appeal.assignments.filter(is_active=True).select_related(
            "agency", "executor"
        )
        if a.executor_id == request.user.pk
        or permissions.is_member(request.user, a.agency_id, Role.HEAD)
    ]
    assignment = next(
        (a for a in mine if a.role == Assignment.Role.LEAD), mine[0] if mine else None
    )
    is_head = assignment is not None and permissions.is_member(
        request.user, assignment.agency_id, Role.HEAD
    )
    answer = appeal.answers.exclude(state=Answer.State.APPROVED).first()
    forms = {
        "assign": AssignForm(agency=assignment.agency if assignment else None),
        "answer": AnswerForm(
            initial={"text": answer.text, "outcome": answer.outcome} if answer else None
        ),
        "send_back": CommentForm(),
        "return": ReturnForm(),
        "contribute": ContributionForm(),
    }
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            raise Http404
        form_class, service = ACTIONS[action]
        kwargs = {}
        form = None
        if form_class is AssignForm:
            form = AssignForm(
                request.POST, agency=assignment.agency if assignment else None
            )
        elif form_class is not None:
            form = form_class(request.POST)
        if form is None or form.is_valid():
            if form is not None:
                kwargs = dict(form.cleaned_data)
                if action == "submit":
                    kwargs["submit"] = True
            try:
                result = service(appeal_id=appeal.pk, actor=request.user, **kwargs)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect("staff:work", pk=appeal.pk)
            messages.success(request, DONE_MESSAGES[action])
            if action == "approve" and answering.letter_waits_for_signing(result):
                messages.warning(
                    request,
                    gettext_lazy(
                        "The letter is waiting for signing: it will be sent to the "
                        "citizen once the agency's signing certificate can be used."
                    ),
                )
            if action in ("return", "approve"):
                return redirect("staff:inbox")
            return redirect("staff:work", pk=appeal.pk)
        forms["answer" if action in ("draft", "submit") else action] = form
        status = 400
    state.record_personal_data_access(
        appeal=appeal, user=request.user, what="work", ip=client_id(request)
    )
    contributions = [
        c
        for a in appeal.assignments.filter(is_active=True)
        for c in a.contributions.select_related("author", "assignment__agency")
    ]
    return render(
        request,
        "staff/work.html",
        {
            "appeal": appeal,
            "assignment": assignment,
            "is_head": is_head,
            "is_lead": assignment is not None
            and assignment.role == Assignment.Role.LEAD,
            "answer": answer,
            "approved": appeal.answers.filter(state=Answer.State.APPROVED).order_by(
                "-approved_at"
            ),
            "forms": forms,
            "history": lookups.staff_history(appeal),
            "data_accesses": lookups.data_accesses(appeal),
            "attachments": appeal.attachments.all(),
            "contributions": contributions,
            "co_executors": appeal.assignments.filter(
                is_active=True, role=Assignment.Role.CO_EXECUTOR
            ).select_related("agency"),
        },
        status=status,
    )
