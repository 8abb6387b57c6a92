"""The work lists: the agencies' inbox (tabs, filters, counts, pages), the controllers'
queue, the suggested agency, candidates for a mass appeal.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from appeals.casework import inbox_rollup
from appeals.deadlines import calendar as deadlines
from appeals.models import (
    Appeal,
    Assignment,
    InboxCount,
    Status,
)
from appeals.register import lookups, permissions
from portal.pagination import KeysetPage, cursor_of, keyset_keys

INBOX_TABS = ("new", "in_progress", "due_soon", "overdue")


DUE_SOON_WORKING_DAYS = 3


@dataclass(frozen=True)
class InboxFilters:
    kind: str = ""
    topic_id: int | None = None


# The columns of an inbox row (staff/inbox.html) and its cursor; the topic's name in
# every language, for modeltranslation's fallback.
INBOX_ROW = (
    "registered_at",
    "registration_number",
    "kind",
    "status",
    "due_on",
    *(f"topic__name_{code}" for code in settings.MODELTRANSLATION_LANGUAGES),
)


# The statuses in which an appeal sits in an agency's inbox.
INBOX_STATUSES = (Status.ROUTED, Status.IN_PROGRESS)


def _inbox_tab(appeals: QuerySet[Appeal], tab: str) -> QuerySet[Appeal]:
    today = timezone.localdate()
    if tab == "due_soon":
        soon = deadlines.add_working_days(today, DUE_SOON_WORKING_DAYS)
        return appeals.filter(due_on__gte=today, due_on__lte=soon)
    if tab == "overdue":
        return appeals.filter(due_on__lt=today)
    return appeals


def _inbox_filters(
    appeals: QuerySet[Appeal], filters: InboxFilters | None
) -> QuerySet[Appeal]:
    filters = filters or InboxFilters()
    if filters.kind:
        appeals = appeals.filter(kind=filters.kind)
    if filters.topic_id:
        appeals = appeals.filter(topic_id=filters.topic_id)
    return appeals.select_related("topic", "lead_agency").defer("text")


def _inbox_parts(
    *, user: AbstractBaseUser, agency, tab: str, filters: InboxFilters | None
) -> list[QuerySet[Appeal]]:
    """The inbox as disjoint querysets, each answered by an index of its own.

    A head sees every appeal the agency works on. As lead agency: the open appeals
    whose `lead_agency` it is (route_appeal sets it with the lead assignment,
    return_appeal clears both), read from appeal_inbox_lead_idx; "new" is the
    lead assignment without an executor, which is status `routed` (assign_executor
    moves a lead appeal to `in_progress`). As co-executor: its active co-executor
    assignments (assignment_co_executor_idx). The two never overlap (one active
    assignment per agency). Assignments stay active after an appeal closes, so the
    agency's assignments alone would make the inbox read its whole history.

    An executor sees the appeals assigned to them.
    """
    open_appeals = Appeal.objects.filter(status__in=INBOX_STATUSES)
    assignments = Assignment.objects.filter(agency=agency, is_active=True)
    if permissions.holds_role(user, agency.pk, permissions.Role.HEAD):
        lead = open_appeals.filter(lead_agency=agency)
        co = assignments.filter(role=Assignment.Role.CO_EXECUTOR)
        if tab == "new":
            lead = lead.filter(status=Status.ROUTED)
            co = co.filter(executor__isnull=True)
        elif tab == "in_progress":
            lead = lead.filter(status=Status.IN_PROGRESS)
            co = co.filter(executor__isnull=False)
        parts = [lead, open_appeals.filter(pk__in=co.values("appeal_id"))]
    else:
        mine = assignments.filter(executor=user, appeal=OuterRef("pk"))
        parts = [open_appeals.filter(Exists(mine))]
        if tab == "new":
            parts = [parts[0].none()]  # an executor's appeals have an executor
    return [_inbox_filters(_inbox_tab(part, tab), filters) for part in parts]


def inbox_queryset(
    *, user: AbstractBaseUser, agency, tab: str, filters: InboxFilters | None = None
) -> QuerySet[Appeal]:
    """The appeals an agency works on now: a head sees the agency's, an executor only
    the ones assigned to them. Tabs: new (no executor yet), in progress, due soon (the
    next three working days) and overdue, derived from the due date. One queryset
    for reading whole (tests, exports); the inbox page reads `inbox_page`."""
    parts = _inbox_parts(user=user, agency=agency, tab=tab, filters=filters)
    ids = [part.values("pk") for part in parts]
    if len(ids) == 1:
        return parts[0]
    return _inbox_filters(
        Appeal.objects.filter(Q(pk__in=ids[0]) | Q(pk__in=ids[1])), filters
    )


def inbox_page(
    *,
    user: AbstractBaseUser,
    agency,
    tab: str,
    filters: InboxFilters | None = None,
    after: str | None = None,
    size: int = 50,
) -> KeysetPage:
    """One page of the inbox, oldest registration first, from the cursor `after`.

    Each part's keys (registered_at, id) are read on its own index in key order
    (keyset: no OFFSET), `size + 1` at most, and merged here; then the page's rows
    are read by id: a deep page costs what the first does, however long the agency's
    history (see portal.pagination.keyset_keys for why keys first).
    """
    keys: list[tuple] = []
    for part in _inbox_parts(user=user, agency=agency, tab=tab, filters=filters):
        keys.extend(keyset_keys(part, key="registered_at", after=after, size=size))
    keys.sort()
    more = len(keys) > size
    ids = [pk for _registered, pk in keys[:size]]
    # The rows of the page in one read, with only what a row shows (staff/inbox.html)
    # and its cursor. The ids came from the parts' filters a moment before.
    found = {
        appeal.pk: appeal
        for appeal in Appeal.objects.filter(pk__in=ids)
        .select_related("topic")
        .only(*INBOX_ROW)
    }
    rows = [found[pk] for pk in ids if pk in found]
    return KeysetPage(
        rows=rows,
        next_cursor=cursor_of(rows[-1], "registered_at") if more and rows else None,
    )


def inbox_counts(
    *, user: AbstractBaseUser, agency, filters: InboxFilters | None = None
) -> dict:
    """The number of appeals in each tab. A head's whole inbox is summed from the
    inbox counts the database keeps (appeals.casework.inbox_rollup: a few hundred rows however
    large the agency); an executor's, or one filtered by kind or topic, is counted
    live, one aggregate query per part."""
    today = timezone.localdate()
    soon = deadlines.add_working_days(today, DUE_SOON_WORKING_DAYS)
    is_head = permissions.holds_role(user, agency.pk, permissions.Role.HEAD)
    if is_head and filters in (None, InboxFilters()) and inbox_rollup.is_available():
        return InboxCount.objects.filter(agency_id=agency.pk).aggregate(
            new=Sum("appeals", filter=Q(is_new=True), default=0),
            in_progress=Sum("appeals", filter=Q(is_new=False), default=0),
            due_soon=Sum(
                "appeals", filter=Q(due_on__gte=today, due_on__lte=soon), default=0
            ),
            overdue=Sum("appeals", filter=Q(due_on__lt=today), default=0),
        )
    counts = dict.fromkeys(INBOX_TABS, 0)
    for index, part in enumerate(
        _inbox_parts(user=user, agency=agency, tab="all", filters=filters)
    ):
        if is_head and index == 0:  # the lead part: "new" is status routed
            new = Q(status=Status.ROUTED)
        else:
            unassigned = Assignment.objects.filter(
                appeal=OuterRef("pk"), agency=agency, is_active=True
            )
            new = Q(Exists(unassigned.filter(executor__isnull=True)))
        figures = part.order_by().aggregate(
            new=Count("pk", filter=new),
            in_progress=Count("pk", filter=~new),
            due_soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=soon)),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
        )
        for tab in INBOX_TABS:
            counts[tab] += figures[tab]
    return counts


def controllers_queue() -> QuerySet[Appeal]:
    """Registered appeals waiting to be routed (returned ones and re-reviews too)."""
    return Appeal.objects.filter(
        status__in=[Status.REGISTERED, Status.RE_REVIEW]
    ).select_related("topic", "addressee", "registering_agency")


def suggested_agency(appeal: Appeal):
    """Where to route: the addressee the citizen named, else the topic's default body."""
    if appeal.addressee_id and appeal.addressee.kind != "apparatus":
        return appeal.addressee
    if appeal.topic_id and appeal.topic.default_agency_id:
        return appeal.topic.default_agency
    return None


MASS_SIMILARITY = 0.8


def mass_candidates(appeal: Appeal, limit: int = 200) -> list[Appeal]:
    """Open appeals of other applicants on the same topic with near-identical text:
    candidates for one mass-appeal group with `appeal` as its lead. Trigram similarity
    on PostgreSQL; the SQLite demo matches identical texts only."""
    if not appeal.topic_id or not appeal.text.strip():
        return []
    candidates = (
        Appeal.objects.filter(
            topic_id=appeal.topic_id,
            status__in=[Status.REGISTERED, Status.ROUTED, Status.IN_PROGRESS],
            mass_lead__isnull=True,
        )
        .exclude(pk=appeal.pk)
        .exclude(applicant_name_key=appeal.applicant_name_key)
    )
    if connection.vendor == "postgresql":
        probe = appeal.text[:2000]
        # Compared row by row among the topic's open appeals (a few percent of the
        # register), not through the trigram index: at 0.8 the index would still
        # read the posting lists of every common trigram of the whole register.
        candidates = (
            candidates.annotate(similarity=TrigramSimilarity("text", probe))
            .filter(similarity__gte=MASS_SIMILARITY)
            .order_by("-similarity", "pk")
        )
        found = lookups.within_budget(
            lambda: list(candidates[:limit]),
            milliseconds=lookups.SIMILAR_TEXT_BUDGET_MS,
        )
        return found or []
    return list(candidates.filter(text=appeal.text).order_by("pk")[:limit])
