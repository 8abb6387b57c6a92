"""Reads of appeals: the citizen's look-up and the history told in a citizen's words."""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import codes
from .models import Appeal, Event, StagedUpload


def appeal_for_citizen(*, tracking_number: str, access_code: str) -> Appeal | None:
    """The appeal whose number and code match, else None (never says which was wrong)."""
    number = codes.normalise_tracking_number(tracking_number)
    appeal = (
        Appeal.objects.select_related("addressee", "topic", "lead_agency")
        .filter(tracking_number=number)
        .first()
    )
    stored = appeal.access_code_hash if appeal else codes.hash_access_code("x")
    matches = codes.check_access_code(access_code, stored)  # same work either way
    return appeal if appeal and matches else None


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
    for event in appeal.events.filter(is_public=True).order_by("at", "id"):
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
            return _("Sent to %(agency)s") % {"agency": data.get("agency_name", "")}
        case Event.Type.FORWARDED:
            return _("Forwarded to %(body)s") % {"body": data.get("body", "")}
        case Event.Type.ANSWERED:
            return _("Answered")
        case Event.Type.RE_REVIEW_REQUESTED:
            return _("Re-review requested")
    return ""
