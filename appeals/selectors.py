"""Every non-trivial read of appeals: the citizen's look-up and history, similar appeals,
the registration journal, the agency inbox and the controllers' queue."""

import datetime as dt
import heapq
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from portal.pagination import KeysetPage, cursor_of, keyset_keys
from portal.prepared import PreparedQuery

from . import codes, deadlines, inbox_rollup, matching, permissions
from .models import (
    Answer,
    Appeal,
    Assignment,
    Event,
    InboxCount,
    StagedUpload,
    Status,
)
from .permissions import journal_agencies

logger = logging.getLogger(__name__)


def appeal_for_citizen(*, tracking_number: str, access_code: str) -> Appeal | None:
    """The appeal whose number and code match, else None (never says which was wrong)."""
    number = codes.normalise_tracking_number(tracking_number)
    appeal = appeal_by_tracking_number(number)
    stored = appeal.access_code_hash if appeal else codes.hash_access_code("x")
    matches = codes.check_access_code(access_code, stored)  # same work either way
    return appeal if appeal and matches else None


# A citizen's pages and the filing form, the hottest reads of the portal, run prepared
# queries (compiled once per process, see portal/prepared.py). The stand-ins are
# values no real row takes: a tracking number is never empty, an id never negative,
# a submission key (uuid4) never the nil UUID.
_APPEAL_BY_NUMBER = PreparedQuery(
    lambda number: Appeal.objects.filter(tracking_number=number)[:1], number=""
)
_APPEAL_WITH_AGENCIES_BY_NUMBER = PreparedQuery(
    lambda number: Appeal.objects.select_related("addressee", "lead_agency").filter(
        tracking_number=number
    )[:1],
    number="",
)
_APPEAL_BY_SUBMISSION_KEY = PreparedQuery(
    lambda key: Appeal.objects.filter(submission_key=key)[:1], key=uuid.UUID(int=0)
)
_PUBLIC_EVENTS = PreparedQuery(
    lambda appeal: Event.objects.filter(appeal_id=appeal, is_public=True).order_by(
        "at", "id"
    ),
    appeal=-1,
)
_LATEST_APPROVED_ANSWER = PreparedQuery(
    lambda appeal: (
        Answer.objects.filter(appeal_id=appeal, state=Answer.State.APPROVED)
        .select_related("agency", "rating", "re_review")
        .order_by("-approved_at", "-id")[:1]
    ),
    appeal=-1,
)


def appeal_by_tracking_number(
    number: str, *, with_agencies: bool = False
) -> Appeal | None:
    """The appeal with this (unique) tracking number; `with_agencies` joins its
    addressee and lead agency (the status page names them)."""
    if not number:
        return None
    query = _APPEAL_WITH_AGENCIES_BY_NUMBER if with_agencies else _APPEAL_BY_NUMBER
    found = query(number=number)
    return found[0] if found else None


def appeal_by_submission_key(key: uuid.UUID) -> Appeal | None:
    """The appeal a filing form with this key made, if it was sent before."""
    found = _APPEAL_BY_SUBMISSION_KEY(key=key)
    return found[0] if found else None


def staged_uploads(submission_key) -> list[StagedUpload]:
    return list(
        StagedUpload.objects.filter(submission_key=submission_key).order_by(
            "created_at"
        )
    )


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    text: str
    detail: str = ""


def citizen_history(appeal: Appeal) -> list[HistoryLine]:
    """What happened to the appeal, in words a citizen understands, oldest first."""
    lines = []
    for event in _PUBLIC_EVENTS(appeal=appeal.pk):
        text = _citizen_sentence(event, appeal)
        if text:
            lines.append(
                HistoryLine(at=event.at, text=text, detail=event.data.get("reason", ""))
            )
    return lines


def _citizen_sentence(event: Event, appeal: Appeal) -> str:
    data = event.data
    match event.type:
        case Event.Type.SUBMITTED:
            return _("Received through the portal")
        case Event.Type.REGISTERED:
            return _("Registered under number %(number)s") % {
                "number": data.get("registration_number", "")
            }
        case Event.Type.LEFT_WITHOUT_CONSIDERATION:
            return _("Left without consideration")
        case Event.Type.ROUTED:
            agency_id = data.get("agency_id")
            if agency_id is not None and agency_id == appeal.lead_agency_id:
                agency = appeal.lead_agency  # mostly, and the status page joined it
            else:
                agency = Agency.objects.filter(pk=agency_id).first()
            return _("Sent to %(agency)s") % {"agency": agency.name if agency else ""}
        case Event.Type.FORWARDED:
            return _("Forwarded to %(body)s") % {"body": data.get("body", "")}
        case Event.Type.EXTENDED:
            return _("The review was extended to %(date)s") % {
                "date": formats.date_format(
                    dt.date.fromisoformat(data["to"]), "SHORT_DATE_FORMAT"
                )
            }
        case Event.Type.ANSWERED:
            return _("Answered")
        case Event.Type.RE_REVIEW_REQUESTED:
            return _("Re-review requested")
    return ""


@dataclass(frozen=True)
class SimilarAppeals:
    same_applicant: list[Appeal]
    similar_text: list[Appeal]
    # The text search ran out of its time budget (the page says so).
    text_search_skipped: bool = False

    def __bool__(self) -> bool:
        return bool(self.same_applicant or self.similar_text)


def similar_appeals(
    *,
    name: str,
    phone: str = "",
    email: str = "",
    text: str = "",
    exclude_id: int | None = None,
    limit: int = 5,
) -> SimilarAppeals:
    """Earlier appeals a clerk should see before registering a new one.

    The same applicant: the same normalised name with the same phone or e-mail. Similar
    text: trigram similarity on PostgreSQL (pg_trgm, GIN index); on SQLite, the demo
    falls back to the same opening words.
    """
    registered = Appeal.objects.exclude(
        registration_number__isnull=True
    ).select_related("registering_agency", "lead_agency")
    if exclude_id:
        registered = registered.exclude(pk=exclude_id)
    same = []
    contact = Q()
    if matching.phone_key(phone):
        contact |= Q(applicant_phone_key=matching.phone_key(phone))
    if email.strip():
        contact |= Q(applicant_email__iexact=email.strip())
    if name.strip() and contact:
        same = list(
            registered.filter(
                Q(applicant_name_key=matching.name_key(name)) & contact
            ).order_by("-received_at")[:limit]
        )
    similar: list[Appeal] | None = []
    probe = " ".join(text.split())[:1000]
    if len(probe) >= 20:
        if connection.vendor == "postgresql":
            similar = within_budget(
                lambda: list(
                    registered.filter(text__trigram_similar=probe)
                    .annotate(similarity=TrigramSimilarity("text", probe))
                    .order_by("-similarity")[:limit]
                ),
                milliseconds=SIMILAR_TEXT_BUDGET_MS,
            )
        else:
            similar = list(
                registered.filter(text__startswith=probe[:40]).order_by("-received_at")[
                    :limit
                ]
            )
    same_ids = {appeal.pk for appeal in same}
    return SimilarAppeals(
        same_applicant=same,
        similar_text=[appeal for appeal in similar or [] if appeal.pk not in same_ids],
        text_search_skipped=similar is None,
    )


# A clerk registering and a controller routing wait for these searches: a text that
# shares common words with a large part of the register makes the trigram index
# read long posting lists, so each search has a time budget and is skipped, and the
# page says so, when it runs out (the registration itself never waits longer).
SIMILAR_TEXT_BUDGET_MS = 1500


def within_budget(read, *, milliseconds: int):
    """`read()` with a PostgreSQL statement timeout; None when it ran out. Runs in a
    savepoint, so a cancelled statement leaves the caller's transaction usable, and
    restores the timeout in force before."""
    from django.db import OperationalError, transaction

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                before = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [str(milliseconds)],
                )
            result = read()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [before]
                )
            return result
    except OperationalError as exc:
        if getattr(getattr(exc, "__cause__", None), "sqlstate", None) != "57014":
            raise  # not a timeout (query_canceled)
        logger.warning("similar-appeal search skipped after %s ms", milliseconds)
        return None


# --- The registration journal ---------------------------------------------------------


JOURNAL_PAGE_SIZE = 50
JOURNAL_PAGE_MAX = 200
# A number of our own registers ("GA-2026-000123") is looked up exactly; anything
# shorter ("000123", "2026-000123", an imported register's own style) by its ending.
_FULL_REGISTRATION_NUMBER = re.compile(r"^[A-Z][A-Z0-9]*-\d{4}-\d+$")
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{1,19})$")


@dataclass(frozen=True)
class JournalFilters:
    """What the journal is narrowed to; field names match JournalFilterForm's."""

    received_from: dt.date | None = None
    received_to: dt.date | None = None
    channel: str = ""
    form: str = ""
    agency: Agency | None = None
    status: str = ""
    number: str = ""
    applicant: str = ""


@dataclass(frozen=True)
class JournalCursor:
    """The last row of a page: the next page starts strictly after it."""

    received_on: dt.date
    id: int

    def __str__(self) -> str:
        return f"{self.received_on.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, value: str | None) -> "JournalCursor | None":
        """`2026-03-05_1234` as written by str(); None for anything else."""
        match = _CURSOR.match((value or "").strip())
        if not match:
            return None
        try:
            return cls(dt.date.fromisoformat(match[1]), int(match[2]))
        except ValueError:
            return None

    @classmethod
    def of(cls, appeal: Appeal) -> "JournalCursor":
        return cls(appeal.received_on, appeal.pk)


@dataclass(frozen=True)
class JournalPage:
    rows: list[Appeal]
    next_cursor: JournalCursor | None


def _journal_key(appeal: Appeal) -> tuple[dt.date, int]:
    return (appeal.received_on, appeal.pk)


def journal_agency_ids(*, user: AbstractBaseUser, filters: JournalFilters) -> list[int]:
    """The agencies whose journal is read: the user's own, narrowed by the filter.

    Every journal read goes through here, so nobody sees another agency's register,
    whatever the query string says.
    """
    allowed = journal_agencies(user)
    if filters.agency is not None:
        allowed = allowed.filter(pk=filters.agency.pk)
    return sorted(allowed.values_list("pk", flat=True))


def _journal_queryset(filters: JournalFilters) -> QuerySet[Appeal]:
    # Portal submissions not yet registered have no number and are not on the register.
    appeals = Appeal.objects.filter(registration_number__isnull=False)
    if filters.received_from:
        appeals = appeals.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        appeals = appeals.filter(received_on__lte=filters.received_to)
    if filters.channel:
        appeals = appeals.filter(channel=filters.channel)
    if filters.form:
        appeals = appeals.filter(form=filters.form)
    if filters.status:
        # appeal_journal_status_idx: (agency, status, received_on DESC, id DESC).
        appeals = appeals.filter(status=filters.status)
    number = filters.number.strip().upper()
    if number:
        if _FULL_REGISTRATION_NUMBER.match(number):
            appeals = appeals.filter(registration_number=number)  # the unique index
        else:
            # The number's end is the reversed number's beginning (LIKE '321000%'):
            # on PostgreSQL the b-tree appeal_number_suffix_idx (migration 0017)
            # answers it, whatever the length of the ending.
            appeals = appeals.alias(number_reversed=Reverse("registration_number"))
            appeals = appeals.filter(number_reversed__startswith=number[::-1])
    applicant = matching.name_key(filters.applicant)
    if applicant:
        # A prefix of the normalised name (LIKE 'key%'). At scale it is served by
        # appeal_journal_applicant_idx, (agency, applicant_name_key) with the
        # varchar_pattern_ops operator class: a plain b-tree under a non-C collation
        # cannot answer LIKE. A pg_trgm GIN index would also serve infix search.
        appeals = appeals.filter(applicant_name_key__startswith=applicant)
    return (
        appeals.select_related("registering_agency", "topic")
        # The journal never shows the long texts; an export reads millions of rows.
        .defer("text", "outcome_reason", "backdate_reason")
        .order_by("-received_on", "-id")
    )


def journal_page(
    *,
    user: AbstractBaseUser,
    filters: JournalFilters,
    after: JournalCursor | None = None,
    size: int = JOURNAL_PAGE_SIZE,
) -> JournalPage:
    """One page of the registration journal, newest first, and the cursor of the next.

    Keyset pagination: no OFFSET and no COUNT(*), so page 10,000 costs what page 1
    does. Each agency is read on its own, walking appeal_journal_idx (registering
    agency, received_on DESC, id DESC) from the cursor; the pages are merged here. One
    query per agency in scope, usually one, never one per row.
    """
    size = max(1, min(size, JOURNAL_PAGE_MAX))
    appeals = _journal_queryset(filters)
    if after is not None:
        # The first condition is implied by the second; it is there because it gives
        # the index scan a start key instead of a filter on every earlier row.
        appeals = appeals.filter(received_on__lte=after.received_on).filter(
            Q(received_on__lt=after.received_on)
            | Q(received_on=after.received_on, id__lt=after.id)
        )
    candidates: list[Appeal] = []
    for agency_id in journal_agency_ids(user=user, filters=filters):
        candidates.extend(appeals.filter(registering_agency_id=agency_id)[: size + 1])
    candidates.sort(key=_journal_key, reverse=True)
    rows = candidates[:size]
    more = len(candidates) > size
    return JournalPage(
        rows=rows, next_cursor=JournalCursor.of(rows[-1]) if more else None
    )


def journal_rows(
    *, user: AbstractBaseUser, filters: JournalFilters
) -> Iterator[Appeal]:
    """Every row of the filtered journal, newest first, for the exports.

    Streams: each agency's rows come in index order in chunks, and the streams are
    merged, so the database never sorts the whole register.
    """
    appeals = _journal_queryset(filters)
    streams = [
        appeals.filter(registering_agency_id=agency_id).iterator(chunk_size=2000)
        for agency_id in journal_agency_ids(user=user, filters=filters)
    ]
    return heapq.merge(*streams, key=_journal_key, reverse=True)


# --- The agency inbox and the controllers' queue --------------------------------------

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
    inbox counts the database keeps (appeals.inbox_rollup: a few hundred rows however
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


def citizen_answer(appeal: Appeal):
    """The approved answer the citizen reads (the latest, after a re-review), with
    its agency, rating and re-review joined: the status page asks for all three."""
    if not appeal.is_answered:
        return None
    found = _LATEST_APPROVED_ANSWER(appeal=appeal.pk)
    return found[0] if found else None


def staff_history(appeal: Appeal) -> QuerySet[Event]:
    return appeal.events.select_related("actor").order_by("at", "id")


def data_accesses(appeal: Appeal, limit: int = 50):
    """The latest openings of the applicant's personal data (audit), newest first."""
    return appeal.data_accesses.select_related("user").order_by("-at")[:limit]


def can_ask_re_review(appeal: Appeal, answer) -> bool:
    """Within the set period after the latest answer, and once per answer."""
    from django.conf import settings

    if answer is None or hasattr(answer, "re_review"):
        return False
    period = dt.timedelta(days=settings.RE_REVIEW_PERIOD_DAYS)
    return timezone.now() <= answer.approved_at + period


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
        found = within_budget(
            lambda: list(candidates[:limit]), milliseconds=SIMILAR_TEXT_BUDGET_MS
        )
        return found or []
    return list(candidates.filter(text=appeal.text).order_by("pk")[:limit])
