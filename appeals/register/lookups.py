"""Reading one appeal: by the citizen's tracking number and access code, by a form's
submission key; its history for the citizen and for staff, its answer, who opened its
personal data.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agencies.models import Agency
from appeals.models import (
    Addition,
    Answer,
    Appeal,
    Event,
)
from appeals.register import codes
from portal.prepared import PreparedQuery

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


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    text: str
    detail: str = ""
    type: str = ""  # the event's


def citizen_history(appeal: Appeal) -> list[HistoryLine]:
    """What happened to the appeal, in words a citizen understands, oldest first."""
    lines = []
    for event in _PUBLIC_EVENTS(appeal=appeal.pk):
        text = _citizen_sentence(event, appeal)
        if text:
            lines.append(
                HistoryLine(
                    at=event.at,
                    text=text,
                    detail=event.data.get("reason", ""),
                    type=event.type,
                )
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
            name = agency.name if agency else ""
            if data.get("by_suggestion") is not None:  # appeals.suggestions.routing
                return _(
                    "Sent to %(agency)s by the portal, as earlier appeals like "
                    "this one were (routed by suggestion)"
                ) % {"agency": name}
            return _("Sent to %(agency)s") % {"agency": name}
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
        case Event.Type.ADDED_BY_CITIZEN:
            files = data.get("files", 0)
            if files:
                return ngettext(
                    "You added information and %(count)s file",
                    "You added information and %(count)s files",
                    files,
                ) % {"count": files}
            return _("You added information")
        case Event.Type.WITHDRAWN:
            return _("Withdrawn by you")
    return ""


def citizen_answer(appeal: Appeal):
    """The approved answer the citizen reads (the latest, after a re-review), with
    its agency, rating and re-review joined: the status page asks for all three."""
    if not appeal.is_answered:
        return None
    found = _LATEST_APPROVED_ANSWER(appeal=appeal.pk)
    return found[0] if found else None


def citizen_additions(appeal: Appeal, history: list[HistoryLine]) -> list[Addition]:
    """What the citizen added after filing, oldest first, with their files, for the
    status page beside the original. Each addition has its event in `history` (the
    page's citizen_history): without one no query is made on this busy page."""
    if not any(line.type == Event.Type.ADDED_BY_CITIZEN for line in history):
        return []
    return list(appeal.additions.prefetch_related("attachments"))


def staff_history(appeal: Appeal) -> QuerySet[Event]:
    return appeal.events.select_related("actor").order_by("at", "id")


def data_accesses(appeal: Appeal, limit: int = 50):
    """The latest openings of the applicant's personal data (audit), newest first."""
    return appeal.data_accesses.select_related("user").order_by("-at")[:limit]


def can_ask_re_review(appeal: Appeal, answer) -> bool:
    """Within the set period after the latest answer, and once per answer."""

    if answer is None or hasattr(answer, "re_review"):
        return False
    period = dt.timedelta(days=settings.RE_REVIEW_PERIOD_DAYS)
    return timezone.now() <= answer.approved_at + period


SIMILAR_TEXT_BUDGET_MS = 1500


def within_budget(read, *, milliseconds: int):
    """`read()` with a PostgreSQL statement timeout; None when it ran out. Runs in a
    savepoint, so a cancelled statement leaves the caller's transaction usable, and
    restores the timeout in force before."""
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
