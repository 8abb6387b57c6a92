"""API views: they parse, check with the web forms, call the same services, answer.

Every call is logged (ApiCallLog) without its body; write calls need an
Idempotency-Key and a retry with the same key and body gets the first answer again.
"""

import base64
import binascii
import hashlib
import ipaddress
import json
import time
import uuid

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from agencies.models import Agency, ApiCallLog, ApiClient, ApiScope
from appeals.api import serializers as s
from appeals.citizen import additions
from appeals.forms import AppealForm, WrittenRegistrationForm
from appeals.intake import filing, registration, uploads
from appeals.models import ApiRequest, Appeal, Attachment, Event
from appeals.notifications.callbacks import client_appeals_q
from appeals.notifications.payloads import additions_data, answer_data, appeal_data
from portal import filestore, ratelimit
from portal.pagination import keyset_page
from portal.replica import heavy_reads

# An API filing's submission key is keyed with the server's secret: no one can
# compute it from a client and an Idempotency-Key, so the web form (whose key the
# browser sends) can never take it first, nor one client another's.
SUBMISSION_KEY_SALT = "appeals.api.submission-key"
PAGE_SIZE = 50

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Any unique string up to 100 characters; a retry sends the same one.",
)
ERRORS = {
    400: OpenApiResponse(s.ErrorOut, description="The request is not valid."),
    401: OpenApiResponse(s.ErrorOut, description="No key, or a wrong or revoked key."),
    403: OpenApiResponse(s.ErrorOut, description="The key lacks the permission."),
}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        s.ErrorOut, description="The first request with this key is still running."
    ),
    410: OpenApiResponse(
        s.ErrorOut, description="A retry after the retry window (its answer is gone)."
    ),
    422: OpenApiResponse(
        s.ErrorOut, description="This key was used with a different request."
    ),
    503: OpenApiResponse(
        s.ErrorOut,
        description="The files could not be stored: nothing was filed; send the "
        "same request again later (Retry-After).",
    ),
}


def exception_handler(exc, context):
    """Errors as {"detail": ..., "errors": {...}}, in the language asked for."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {"__all__": exc.messages}
        )
    if isinstance(exc, filestore.StorageUnavailable):
        return Response(
            {
                "detail": _(
                    "The files cannot be stored just now, so nothing was filed. "
                    "Send the same request again in a few minutes."
                )
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "60"},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if not isinstance(detail, dict):
            detail = {"__all__": detail if isinstance(detail, list) else [detail]}
        response.data = {
            "detail": _("The request is not valid."),
            "errors": _flatten(detail),
        }
    else:
        message = response.data.get("detail") if isinstance(response.data, dict) else ""
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        # DRF's own words for these come from its catalogue (none in Kyrgyz).
        if isinstance(code, str) and code in DRF_MESSAGES:
            message = DRF_MESSAGES[code]
        response.data = {"detail": str(message or exc)}
    return response


# The portal's words for what DRF says by default; our own refusals carry other codes.
DRF_MESSAGES = {
    # DRF's own msgid, kept (clients match on it); the project's catalogue gives ky.
    "not_authenticated": gettext_lazy("Authentication credentials were not provided."),
    "not_found": gettext_lazy("There is no such appeal, or it is not yours to see."),
    "method_not_allowed": gettext_lazy("This method is not allowed here."),
    "unsupported_media_type": gettext_lazy(
        "Send the body as JSON (Content-Type: application/json)."
    ),
    "not_acceptable": gettext_lazy("The API answers in JSON only."),
    "parse_error": gettext_lazy("The body is not valid JSON."),
    "throttled": gettext_lazy("Too many requests: please wait and try again."),
    "permission_denied": gettext_lazy(
        "This API key does not have the permission for this call."
    ),
}


def _flatten(detail: dict, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for field, value in detail.items():
        name = f"{prefix}{field}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, item in enumerate(value):
                flat.update(_flatten(item, f"{name}.{index}."))
        else:
            items = value if isinstance(value, list) else [value]
            flat[name] = [str(item) for item in items]
    return flat


class ApiView(APIView):
    """Logs every call: client, method, path, status, duration; never the body."""

    scopes: dict[str, str] = {}

    def dispatch(self, request, *args, **kwargs):
        started = time.monotonic()
        response = super().dispatch(request, *args, **kwargs)
        client = getattr(request, "api_client", None)
        ApiCallLog.objects.create(
            client=client if isinstance(client, ApiClient) else None,
            method=request.method[:8],
            path=request.path[:300],
            status=response.status_code,
            duration_ms=int((time.monotonic() - started) * 1000),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
            ip=_ip(ratelimit.client_id(request)),
        )
        return response


def _ip(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _idempotent(request, *, endpoint: str, handler) -> Response:
    """Run a write once per (client, Idempotency-Key); replay its answer after."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 100:
        raise exceptions.ValidationError(
            {
                "Idempotency-Key": [
                    _("Send an Idempotency-Key header of 1 to 100 characters.")
                ]
            }
        )
    client: ApiClient = request.auth
    canonical = json.dumps(request.data, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()
    try:
        with transaction.atomic():
            record = ApiRequest.objects.create(
                client=client,
                idempotency_key=key,
                endpoint=endpoint,
                body_sha256=digest,
            )
    except IntegrityError:
        record = ApiRequest.objects.get(client=client, idempotency_key=key)
        if record.body_sha256 != digest:
            return _error(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                _("This Idempotency-Key was already used with a different request."),
            )
        if record.response_status is None:
            return _error(
                status.HTTP_409_CONFLICT,
                _("The first request with this Idempotency-Key is still running."),
            )
        if record.response_body is None:
            return _error(
                status.HTTP_410_GONE,
                _(
                    "The answer to this Idempotency-Key is no longer kept; "
                    "follow the appeal by its number."
                ),
            )
        body = record.response_body
        if record.access_code_withheld and record.appeal is not None:
            # The first answer's code was never stored: the retry gets a new one.
            body = {
                **body,
                "access_code": filing.reissue_access_code(
                    appeal=record.appeal, actor=client.user
                ),
            }
        return Response(
            body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
        )
    try:
        code, body, appeal = handler(
            request.data, client, submission_key(client=client, idempotency_key=key)
        )
    except BaseException:
        # Only answered requests are kept: a refused one may be corrected and sent
        # again under the same key.
        ApiRequest.objects.filter(pk=record.pk).delete()
        raise
    withheld = bool(body.get("access_code"))
    ApiRequest.objects.filter(pk=record.pk).update(
        response_status=code,
        response_body={**body, "access_code": None} if withheld else body,
        access_code_withheld=withheld,
        appeal=appeal,
    )
    return Response(body, status=code)


def submission_key(*, client: ApiClient, idempotency_key: str) -> uuid.UUID:
    """The submission key of a client's write: the client and its Idempotency-Key,
    keyed with SECRET_KEY (unguessable outside the server)."""
    digest = salted_hmac(
        SUBMISSION_KEY_SALT, f"{client.pk}:{idempotency_key}", algorithm="sha256"
    ).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


class SubmissionKeyClash(exceptions.APIException):
    """The submission key already belongs to an appeal this request did not file.
    Never answered as a success: that would hand over another filing's numbers."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "submission_key_clash"

    def __init__(self):
        super().__init__(
            _(
                "This request could not be filed: its key is already taken. "
                "Send it again with a new Idempotency-Key."
            )
        )


def _error(code: int, detail: str) -> Response:
    return Response({"detail": detail}, status=code)


def _files(items: list[dict], purpose: str) -> list[filing.NewAttachment]:
    """Attachments sent in base64, through the same upload path as the web form's
    (content sniffed, limits, virus scan)."""
    files, errors = [], []
    for item in items:
        try:
            content = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            errors.append(
                _("The file %(name)s is not valid base64.")
                % {"name": uploads.display_name(item["name"])[0]}
            )
            continue
        try:
            checked = uploads.check(
                SimpleUploadedFile(item["name"], content),
                count_before=len(files),
                size_before=sum(len(f.content) for f in files),
            )
        except DjangoValidationError as exc:
            errors.extend(exc.messages)
            continue
        files.append(filing.NewAttachment.checked(checked, content, purpose=purpose))
    if errors:
        raise exceptions.ValidationError({"attachments": errors})
    return files


def _form_errors(form) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            field: [error["message"] for error in errors]
            for field, errors in form.errors.get_json_data().items()
        }
    )


def _applicant_data(data: dict) -> dict:
    return {
        "applicant_name": data["applicant_name"],
        "applicant_address": data["applicant_address"],
        "applicant_phone": data["applicant_phone"],
        "applicant_email": data["applicant_email"],
        "kind": data["kind"],
        "topic": data["topic"],
        "addressee": data["addressee"] or "",
        "text": data["text"],
        "language": data["language"],
    }


def _file_appeal(data, client: ApiClient, submission_key: uuid.UUID):
    payload = s.FilingIn(data=data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    form = AppealForm(
        data={
            **_applicant_data(data),
            "submission_key": str(submission_key),
            "is_collective": "1" if data["is_collective"] else "0",
            "signatories": data.get("signatories") or "",
            "consent": "on" if data["consent"] else "",
            "website": "",
        }
    )
    if not form.is_valid():
        raise _form_errors(form)
    files = _files(data.get("attachments", []), Attachment.Purpose.CITIZEN)
    submission = filing.submit_appeal(
        submission_key=submission_key, files=files, **form.submission_fields()
    )
    if not submission.created:
        raise SubmissionKeyClash()
    return (
        status.HTTP_201_CREATED,
        _filed(submission.appeal, submission.access_code),
        (submission.appeal),
    )


def _forward_appeal(data, client: ApiClient, submission_key: uuid.UUID):
    payload = s.ForwardIn(data=data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    agencies = Agency.objects.filter(pk=client.agency_id)
    today = timezone.localdate()
    form = WrittenRegistrationForm(
        data={
            **_applicant_data(data),
            "submission_key": str(submission_key),
            "agency": client.agency_id,
            "channel": data["channel"],
            "delivery": "",
            "received_on": today.isoformat(),
            "cover_letter_number": data["cover_letter_number"],
            "cover_letter_date": data["cover_letter_date"].isoformat(),
            "signatories": data["signatories"],
        },
        agencies=agencies,
    )
    if not form.is_valid():
        raise _form_errors(form)
    files = _files(data.get("attachments", []), Attachment.Purpose.SCAN)
    try:
        appeal, access_code = registration.register_paper_appeal(
            actor=client.user,
            files=files,
            submission_key=submission_key,
            **form.registration_fields(),
        )
    except PermissionDenied as exc:
        raise exceptions.PermissionDenied() from exc
    if access_code is None:  # an appeal stood under the key already
        raise SubmissionKeyClash()
    return status.HTTP_201_CREATED, _filed(appeal, access_code), appeal


def _filed(appeal: Appeal, access_code: str | None) -> dict:
    return {
        "tracking_number": appeal.tracking_number,
        "access_code": access_code,
        "registration_number": appeal.registration_number,
        "status": appeal.status,
    }


def _visible(client: ApiClient):
    return Appeal.objects.filter(client_appeals_q(client)).select_related("lead_agency")


class AppealsView(ApiView):
    scopes = {"GET": ApiScope.READ_STATUS, "POST": ApiScope.FILE}

    @extend_schema(
        operation_id="appeals_list",
        summary="The agency's appeals, oldest first, page by page",
        parameters=[s.ListQuery],
        responses={200: s.AppealPageOut, **ERRORS},
    )
    @heavy_reads()  # a page of a list, read on the replica when there is one
    def get(self, request):
        query = s.ListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        appeals = _visible(request.auth)
        if filters.get("status"):
            appeals = appeals.filter(status=filters["status"])
        if filters.get("channel"):
            appeals = appeals.filter(channel=filters["channel"])
        if filters.get("received_from"):
            appeals = appeals.filter(received_on__gte=filters["received_from"])
        if filters.get("received_to"):
            appeals = appeals.filter(received_on__lte=filters["received_to"])
        page = keyset_page(
            appeals,
            key="received_at",
            after=filters.get("cursor"),
            size=filters.get("limit") or PAGE_SIZE,
        )
        return Response(
            {
                "results": [appeal_data(appeal) for appeal in page.rows],
                "next_cursor": page.next_cursor,
            }
        )

    @extend_schema(
        operation_id="appeals_file",
        summary="File an appeal on behalf of a citizen",
        parameters=[IDEMPOTENCY_HEADER],
        request=s.FilingIn,
        responses={201: s.FiledOut, 200: s.FiledOut, **WRITE_ERRORS},
    )
    def post(self, request):
        return _idempotent(request, endpoint="file", handler=_file_appeal)


class ForwardedView(ApiView):
    scopes = {"POST": ApiScope.FORWARD}

    @extend_schema(
        operation_id="forwarded_create",
        summary="Register an appeal forwarded by the President's Office or the "
        "Jogorku Kenesh",
        parameters=[IDEMPOTENCY_HEADER],
        request=s.ForwardIn,
        responses={201: s.FiledOut, **WRITE_ERRORS},
    )
    def post(self, request):
        return _idempotent(request, endpoint="forward", handler=_forward_appeal)


class AppealDetailView(ApiView):
    scopes = {"GET": ApiScope.READ_STATUS}

    @extend_schema(
        operation_id="appeals_retrieve",
        summary="Status and history of an appeal",
        description="By registration number, or by tracking number before "
        "registration.",
        responses={
            200: s.AppealDetailOut,
            404: OpenApiResponse(s.ErrorOut, description="No such appeal for you."),
            **ERRORS,
        },
    )
    def get(self, request, number: str):
        appeal = (
            _visible(request.auth)
            .filter(Q(registration_number=number) | Q(tracking_number=number))
            .first()
        )
        if appeal is None:
            raise Http404
        client: ApiClient = request.auth
        history = appeal.events.filter(is_public=True).order_by("at", "id")
        return Response(
            {
                **appeal_data(appeal),
                "history": [
                    {
                        "type": event.type,
                        "label": str(Event.Type(event.type).label),
                        "at": event.at.isoformat(),
                    }
                    for event in history
                ],
                "additions": additions_data(appeal),
                "answer": (
                    answer_data(appeal)
                    if client.has_scope(ApiScope.RECEIVE_ANSWERS)
                    else None
                ),
            }
        )


def _add_to_appeal(number: str):
    """The handler of one appeal's additions endpoint (see _idempotent)."""

    def handler(data, client: ApiClient, key: uuid.UUID):
        appeal = _visible(client).filter(tracking_number=number).first()
        if appeal is None:
            raise Http404
        payload = s.AdditionIn(data=data)
        payload.is_valid(raise_exception=True)
        files = _files(
            payload.validated_data.get("attachments", []), Attachment.Purpose.CITIZEN
        )
        text = payload.validated_data.get("text", "").replace("\r\n", "\n").strip()
        try:
            addition = additions.add_to_appeal(
                appeal_id=appeal.pk,
                text=text,
                files=files,
                submission_key=key,
                api_client=client,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"text": exc.messages}) from exc
        return (
            status.HTTP_201_CREATED,
            {
                "tracking_number": appeal.tracking_number,
                "added_at": addition.added_at.isoformat(),
                "files": addition.attachments.count(),
            },
            appeal,
        )

    return handler


class AdditionsView(ApiView):
    scopes = {"POST": ApiScope.FILE}

    @extend_schema(
        operation_id="appeals_add",
        summary="Add a text or files to an open appeal on the citizen's behalf",
        description="By tracking number, for an appeal this key filed. The "
        "deadline does not move; closed appeals refuse additions (400).",
        parameters=[IDEMPOTENCY_HEADER],
        request=s.AdditionIn,
        responses={
            201: s.AdditionCreatedOut,
            404: OpenApiResponse(s.ErrorOut, description="No such appeal for you."),
            **WRITE_ERRORS,
        },
    )
    def post(self, request, number: str):
        if len(number) > TRACKING_NUMBER_MAX:  # no such appeal; and the key's record
            raise Http404  # names the endpoint with the number in 32 characters
        return _idempotent(
            request, endpoint=f"add:{number}", handler=_add_to_appeal(number)
        )


TRACKING_NUMBER_MAX = Appeal._meta.get_field("tracking_number").max_length
