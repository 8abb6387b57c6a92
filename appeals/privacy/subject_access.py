"""What is held about me (Law No. 58): every personal datum one appeal holds, who
opened it (by agency and role, not by name) and where it went, as a plain structure,
its JSON and its PDF; issuing it is recorded in the appeal's history.

One structure feeds both renderings, so the PDF and the JSON never disagree. Labels
are in the appeal's language; codes (role, purpose, how a client got the data) are
stable English slugs for machines.
"""

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from agencies.models import Agency, ApiClient, ApiScope, Membership
from appeals.models import (
    Addition,
    ApiRequest,
    Appeal,
    Assignment,
    Attachment,
    DataSubjectRequest,
    Event,
    Notification,
    PersonalDataAccess,
    Rating,
    ReReview,
)
from appeals.notifications.callbacks import client_appeals_q
from appeals.register import permissions, state
from portal import pdf

FORMAT = "kg.portal.personal-data/1"
Role = Membership.Role

# Which roles open an appeal's personal data through which page (PersonalDataAccess.
# what): the log keeps the person, not the membership they acted in, so the role is
# read from their memberships, preferring these roles in an agency of the appeal.
ROLES_BY_PAGE = {
    "queue": (Role.CLERK,),
    "card": (Role.CLERK, Role.CONTROLLER, Role.HEAD, Role.EXECUTOR),
    "attachment": (Role.CLERK, Role.CONTROLLER, Role.HEAD, Role.EXECUTOR),
    "route": (Role.CONTROLLER,),
    "work": (Role.EXECUTOR, Role.HEAD),
    "data_request": (Role.CLERK,),
}
API_CLIENT_ROLE = "api_client"
ADMINISTRATOR_ROLE = "administrator"


def _page_labels() -> dict[str, str]:
    return {
        "queue": _("the queue of portal submissions"),
        "card": _("the registration card"),
        "attachment": _("an attached file"),
        "route": _("routing to an agency"),
        "work": _("work on the answer"),
        "data_request": _("the answer to a request for personal data"),
    }


def _role_labels() -> dict[str, str]:
    return {
        **{code: str(label) for code, label in Role.choices},
        API_CLIENT_ROLE: _("information system (API client)"),
        ADMINISTRATOR_ROLE: _("system administrator"),
    }


def _purpose_labels() -> dict[str, str]:
    return {
        Attachment.Purpose.CITIZEN: _("attached by you"),
        Attachment.Purpose.SCAN: _("scan of the paper original"),
        Attachment.Purpose.ANSWER: _("answer"),
        "addition": _("added by you later"),
    }


def _how_labels() -> dict[str, str]:
    return {
        "filed": _("filed the appeal on your behalf"),
        "forwarded": _("forwarded the appeal to the portal"),
        "added": _("added information on your behalf"),
        "notified": _("received notices of its progress"),
        "may_read": _("may read its status"),
    }


def _agency(agency: Agency | None) -> dict | None:
    if agency is None:
        return None
    return {"code": agency.code, "name": agency.name}


def _file(item: Attachment, labels: dict[str, str]) -> dict:
    purpose = "addition" if item.addition_id else item.purpose
    return {
        "name": item.original_name,
        "size": item.size,
        "content_type": item.content_type,
        "purpose": purpose,
        "purpose_label": labels.get(purpose, purpose),
        "added_at": item.created_at,
    }


def collect(*, appeal_id: int) -> dict:
    """Everything personal the appeal holds, in the active language (callers set the
    appeal's): a dict of plain values and aware datetimes (see `as_json`)."""
    appeal = Appeal.objects.select_related(
        "registering_agency", "lead_agency", "addressee", "consent_version"
    ).get(pk=appeal_id)
    purposes = _purpose_labels()
    files = [
        _file(item, purposes)
        for item in Attachment.objects.filter(appeal=appeal).order_by(
            "created_at", "pk"
        )
    ]
    additions = [
        {
            "added_at": addition.added_at,
            "text": addition.text,
            "through": addition.api_client.name if addition.api_client else None,
            "files": [_file(item, purposes) for item in addition.attachments.all()],
        }
        for addition in Addition.objects.filter(appeal=appeal)
        .select_related("api_client")
        .prefetch_related("attachments")
    ]
    consent = None
    if appeal.consent_at or appeal.consent_version_id:
        version = appeal.consent_version
        consent = {
            "given_at": appeal.consent_at,
            "version": (
                {"effective_from": version.effective_from, "text": version.text}
                if version
                else None
            ),
        }
    return {
        "format": FORMAT,
        "generated_at": timezone.now(),
        "language": appeal.language,
        "appeal": {
            "tracking_number": appeal.tracking_number,
            "registration_number": appeal.registration_number,
            "received_at": appeal.received_at,
            "status": appeal.status,
            "status_label": str(appeal.get_status_display()),
            "outcome": appeal.outcome or None,
            "outcome_label": (
                str(appeal.get_outcome_display()) if appeal.outcome else None
            ),
            "registering_agency": _agency(appeal.registering_agency),
            "lead_agency": _agency(appeal.lead_agency),
        },
        "personal_data_removed_at": appeal.personal_data_removed_at,
        "applicant": {
            "name": appeal.applicant_name,
            "address": appeal.applicant_address,
            "phone": appeal.applicant_phone,
            "email": appeal.applicant_email,
            "is_collective": appeal.is_collective,
            "signatories": appeal.signatories,
        },
        "consent": consent,
        "text": appeal.text,
        "files": [item for item in files if item["purpose"] != "addition"],
        "additions": additions,
        "your_words": _your_words(appeal),
        "openings": openings(appeal=appeal),
        "recipients": {
            "agencies": _agencies(appeal),
            "forwarded_to": _forwarded(appeal),
            "api_clients": _api_clients(appeal),
        },
    }


def _your_words(appeal: Appeal) -> dict:
    return {
        "ratings": [
            {"at": rating.created_at, "score": rating.score, "comment": rating.comment}
            for rating in Rating.objects.filter(appeal=appeal).order_by("created_at")
        ],
        "re_reviews": [
            {"at": item.requested_at, "reason": item.reason}
            for item in ReReview.objects.filter(appeal=appeal).order_by("requested_at")
        ],
    }


def _appeal_agency_ids(appeal: Appeal) -> set[int]:
    ids = set(
        Assignment.objects.filter(appeal=appeal).values_list("agency_id", flat=True)
    )
    for agency_id in (
        appeal.registering_agency_id,
        appeal.lead_agency_id,
        appeal.addressee_id,
    ):
        if agency_id:
            ids.add(agency_id)
    return ids


def openings(*, appeal: Appeal) -> list[dict]:
    """The access log of the appeal, oldest first, each opening by the agency and role
    it was made in: never the person's name (staff's own personal data)."""
    rows = list(
        PersonalDataAccess.objects.filter(appeal=appeal)
        .order_by("at", "pk")
        .values_list("user_id", "at", "what")
    )
    if not rows:
        return []
    user_ids = {user_id for user_id, _at, _what in rows}
    memberships: dict[int, list[Membership]] = {}
    for membership in (
        Membership.objects.filter(user_id__in=user_ids)
        .select_related("agency")
        .order_by("agency__code", "pk")
    ):
        memberships.setdefault(membership.user_id, []).append(membership)
    clients = {
        client.user_id: client
        for client in ApiClient.objects.filter(user_id__in=user_ids).select_related(
            "agency"
        )
    }
    agency_ids = _appeal_agency_ids(appeal)
    pages, roles = _page_labels(), _role_labels()
    acting = {}
    result = []
    for user_id, at, what in rows:
        key = (user_id, what)
        if key not in acting:
            acting[key] = _acting_as(
                memberships.get(user_id, []),
                clients.get(user_id),
                ROLES_BY_PAGE.get(what, ()),
                agency_ids,
            )
        agency, role = acting[key]
        result.append(
            {
                "at": at,
                "agency": _agency(agency),
                "role": role,
                "role_label": roles.get(role, role),
                "page": what,
                "page_label": pages.get(what, what),
            }
        )
    return result


def _acting_as(
    memberships: Sequence[Membership],
    client: ApiClient | None,
    preferred: Sequence[str],
    agency_ids: set[int],
) -> tuple[Agency | None, str]:
    if client is not None:
        return client.agency, API_CLIENT_ROLE

    def first(test) -> Membership | None:
        return next((m for m in memberships if test(m)), None)

    for role in preferred:
        found = first(lambda m, role=role: m.role == role and m.agency_id in agency_ids)
        if found:
            return found.agency, found.role
    found = (
        first(lambda m: m.agency_id in agency_ids)
        or first(lambda m: m.role in preferred)
        or first(lambda m: True)
    )
    if found:
        return found.agency, found.role
    return None, ADMINISTRATOR_ROLE


def _agencies(appeal: Appeal) -> list[dict]:
    """The agencies of the system that hold the appeal: its register, and every agency
    it was sent to (lead or co-executor, also after the work ended)."""
    roles = dict(Assignment.Role.choices)
    result = []
    if appeal.registering_agency_id:
        result.append(
            {
                **_agency(appeal.registering_agency),
                "role": "registering",
                "role_label": _("registered the appeal"),
                "since": appeal.registered_at,
            }
        )
    for assignment in (
        Assignment.objects.filter(appeal=appeal)
        .select_related("agency")
        .order_by("created_at", "pk")
    ):
        result.append(
            {
                **_agency(assignment.agency),
                "role": assignment.role,
                "role_label": str(roles[assignment.role]),
                "since": assignment.created_at,
            }
        )
    return result


def _forwarded(appeal: Appeal) -> list[dict]:
    """Bodies outside the system the appeal was forwarded to (with its data)."""
    return [
        {
            "body": event.data.get("body", ""),
            "letter_number": event.data.get("letter_number", ""),
            "at": event.at,
        }
        for event in Event.objects.filter(
            appeal=appeal, type=Event.Type.FORWARDED
        ).order_by("at", "pk")
    ]


def _api_clients(appeal: Appeal) -> list[dict]:
    """The information systems (API clients) that received the appeal or may read it:
    those that filed, forwarded or added to it, those sent callbacks about it, and
    those whose agency's register or work gives them its status (client_appeals_q)."""
    how: dict[int, set[str]] = {}
    for client_id, endpoint in ApiRequest.objects.filter(appeal=appeal).values_list(
        "client_id", "endpoint"
    ):
        if endpoint in ("file", "forward"):
            how.setdefault(client_id, set()).add(
                "filed" if endpoint == "file" else "forwarded"
            )
    for client_id in Addition.objects.filter(
        appeal=appeal, api_client__isnull=False
    ).values_list("api_client_id", flat=True):
        how.setdefault(client_id, set()).add("added")
    for client_id in Notification.objects.filter(
        appeal=appeal, api_client__isnull=False, state=Notification.State.SENT
    ).values_list("api_client_id", flat=True):
        how.setdefault(client_id, set()).add("notified")
    readers = ApiClient.objects.filter(revoked_at__isnull=True).select_related("agency")
    for client in readers:
        if not (
            client.has_scope(ApiScope.READ_STATUS)
            or client.has_scope(ApiScope.RECEIVE_ANSWERS)
        ):
            continue
        if Appeal.objects.filter(client_appeals_q(client), pk=appeal.pk).exists():
            how.setdefault(client.pk, set()).add("may_read")
    labels = _how_labels()
    order = list(labels)
    clients = ApiClient.objects.filter(pk__in=how).select_related("agency")
    return [
        {
            "name": client.name,
            "agency": _agency(client.agency),
            "how": sorted(how[client.pk], key=order.index),
            "how_labels": [
                labels[code] for code in sorted(how[client.pk], key=order.index)
            ],
        }
        for client in sorted(clients, key=lambda c: (c.agency.code, c.name))
    ]


def as_json(document: dict) -> bytes:
    """The machine-readable rendering: UTF-8 JSON, stable keys, ISO 8601 times."""
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
    ).encode()


def opening_groups(items: Sequence[dict]) -> list[dict]:
    """The openings for reading: one paragraph per agency, role and page, listing the
    days and times of each opening. Every opening stays; a table row per opening took
    WeasyPrint seconds per thousand."""
    groups: dict[tuple, dict] = {}
    for item in items:
        moment = timezone.localtime(item["at"])
        agency = item["agency"] or {}
        key = (agency.get("code"), item["role"], item["page"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {**item, "count": 0, "days": []}
        group["count"] += 1
        if not group["days"] or group["days"][-1]["day"] != moment.date():
            group["days"].append({"day": moment.date(), "times": []})
        group["days"][-1]["times"].append(moment)
    return list(groups.values())


def as_pdf(documents: Iterable[dict]) -> bytes:
    """One PDF of one or more appeals' documents, each in its appeal's language and
    starting on a new page (a paper request may concern several appeals)."""
    documents = list(documents)
    sections = []
    for document in documents:
        with translation.override(document["language"]):
            html = render_to_string(
                "appeals/_personal_data_section.html",
                {"data": document, "openings": opening_groups(document["openings"])},
            )
        sections.append(mark_safe(html))  # noqa: S308 - rendered by our template
    with translation.override(documents[0]["language"]):
        return pdf.render("appeals/personal_data_pdf.html", {"sections": sections})


def issue(
    *,
    appeal_ids: Sequence[int],
    fmt: str,
    actor: AbstractBaseUser | None = None,
    data_request: DataSubjectRequest | None = None,
) -> bytes:
    """Collect, render (fmt "pdf" or "json") and record PERSONAL_DATA_ISSUED on each
    appeal, in one transaction: a document is never issued without its record.

    The event is not public: the citizen's history is about the appeal's handling,
    and each download would add a line to it; staff see it in the card's history.
    A JSON of several appeals is a list of their documents.
    """
    if fmt not in ("pdf", "json"):
        raise ValueError(f"unknown format {fmt!r}")
    with transaction.atomic():
        appeals = Appeal.objects.only("pk", "language").in_bulk(appeal_ids)
        documents = []
        for appeal_id in appeal_ids:
            with translation.override(appeals[appeal_id].language):
                documents.append(collect(appeal_id=appeal_id))
        if fmt == "pdf":
            content = as_pdf(documents)
        else:
            content = as_json(documents[0] if len(documents) == 1 else documents)
        now = timezone.now()
        for appeal_id in appeal_ids:
            data = {"format": fmt, "channel": "paper" if data_request else "portal"}
            if data_request is not None:
                data["request_id"] = data_request.pk
            state.record_event(
                appeal=appeals[appeal_id],
                type=Event.Type.PERSONAL_DATA_ISSUED,
                actor=actor,
                data=data,
                is_public=False,
                at=now,
            )
    return content


# --- Requests on paper: the register of data-subject requests -------------------

DUE_AFTER_DAYS = 7  # calendar days (Law No. 58: the subject learns within a week)


def due_on(received_on: dt.date) -> dt.date:
    return received_on + dt.timedelta(days=DUE_AFTER_DAYS)


def is_overdue(request: DataSubjectRequest, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return request.answered_on is None and request.due_on < today


def find_appeals(*, numbers: Iterable[str], visible: Q) -> tuple[list[Appeal], list]:
    """The appeals named by registration or tracking numbers among those the clerk
    may open (`visible`): (found, numbers not found). A number outside the clerk's
    scope is "not found", so the register reveals nothing of other agencies."""
    found, missing = [], []
    for number in numbers:
        appeal = (
            Appeal.objects.filter(visible)
            .filter(
                Q(registration_number__iexact=number)
                | Q(tracking_number__iexact=number)
            )
            .first()
        )
        if appeal is None:
            missing.append(number)
        elif appeal not in found:
            found.append(appeal)
    return found, missing


@transaction.atomic
def record_request(
    *,
    actor: AbstractBaseUser,
    agency: Agency,
    requester_name: str,
    requester_contact: str,
    appeals: Sequence[Appeal],
    received_on: dt.date,
    note: str = "",
) -> DataSubjectRequest:
    """A clerk enters a request that came on paper; it is due seven calendar days
    after it was received."""
    if not permissions.is_member(actor, agency.pk, Role.CLERK):
        raise PermissionDenied
    request = DataSubjectRequest.objects.create(
        agency=agency,
        requester_name=requester_name.strip(),
        requester_contact=requester_contact.strip(),
        received_on=received_on,
        due_on=due_on(received_on),
        registered_by=actor,
        note=note.strip(),
    )
    request.appeals.set(appeals)
    return request


@transaction.atomic
def mark_answered(
    *, request_id: int, actor: AbstractBaseUser, on: dt.date | None = None
) -> DataSubjectRequest:
    request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
    if not permissions.is_member(actor, request.agency_id, Role.CLERK):
        raise PermissionDenied
    if request.answered_on is None:
        request.answered_on = on or timezone.localdate()
        request.save(update_fields=["answered_on", "updated_at"])
    return request


def requests_of(agencies: Iterable[Agency]):
    """The register of an agency's requests: open ones first, the most urgent first."""
    return (
        DataSubjectRequest.objects.filter(agency__in=list(agencies))
        .select_related("agency")
        .prefetch_related("appeals")
        .order_by(F("answered_on").desc(nulls_first=True), "due_on", "-pk")
    )
