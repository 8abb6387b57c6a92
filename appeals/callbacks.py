"""Callbacks to API clients: a signed JSON post per status change or answer, queued in
the notification outbox in the same transaction as the event that caused it.

Signature: header `X-Portal-Signature: t=<unix time>,v1=<hex>` where hex is
HMAC-SHA256(client's callback secret, "<t>.<raw body>"); `X-Portal-Event-Id` lets the
receiver drop a repeat. One appeal's callbacks to one client go out in order: one is not
sent while an earlier one is pending (appeals.notifications.deliver and due_ids).
"""

import hashlib
import hmac
import json
import time
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from agencies.models import ApiClient, ApiScope

from .models import Appeal, Event, Notification

# The events a client's system hears about: changes of status, and the answer.
CALLBACK_EVENTS = frozenset(
    {
        Event.Type.REGISTERED,
        Event.Type.LEFT_WITHOUT_CONSIDERATION,
        Event.Type.ROUTED,
        Event.Type.FORWARDED,
        Event.Type.RETURNED,
        Event.Type.EXTENDED,
        Event.Type.ANSWERED,
        Event.Type.RE_REVIEW_REQUESTED,
    }
)


def followers(appeal: Appeal, event_type: str) -> list[ApiClient]:
    """The clients with a callback URL that may see the appeal and hear this event."""
    from .api.permissions import client_appeals_q

    candidates = [
        client
        for client in ApiClient.objects.filter(revoked_at__isnull=True).exclude(
            callback_url=""
        )
        if client.has_scope(ApiScope.READ_STATUS)
        or (
            event_type == Event.Type.ANSWERED
            and client.has_scope(ApiScope.RECEIVE_ANSWERS)
        )
    ]
    return [
        client
        for client in candidates
        if Appeal.objects.filter(client_appeals_q(client), pk=appeal.pk).exists()
    ]


def queue_for_event(event: Event) -> list[Notification]:
    """Called by services.record_event, inside the service's transaction."""
    if event.type not in CALLBACK_EVENTS:
        return []
    from . import notifications

    appeal = event.appeal
    queued = []
    for client in followers(appeal, event.type):
        body = json.dumps(payload(event, client), cls=DjangoJSONEncoder)
        queued.append(
            notifications.write_callback(
                appeal=appeal, client=client, event_type=event.type, body=body
            )
        )
    return queued


def payload(event: Event, client: ApiClient) -> dict:
    from .api.views import answer_data, appeal_data

    data = {
        "event_id": event.pk,
        "type": event.type,
        "at": event.at,
        "appeal": appeal_data(event.appeal),
    }
    if event.type == Event.Type.ANSWERED and client.has_scope(ApiScope.RECEIVE_ANSWERS):
        data["answer"] = answer_data(event.appeal)
    return data


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_id(notification: Notification) -> str:
    return str(json.loads(notification.body).get("event_id", notification.pk))


def post(notification: Notification) -> None:
    """Send one callback; raise unless the receiver answers 2xx."""
    client = notification.api_client
    url = notification.recipient
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("callback URL must be http or https")
    body = notification.body.encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "appeals-portal-callbacks/1",
            "X-Portal-Event-Id": event_id(notification),
            "X-Portal-Signature": signature(
                client.callback_secret, body, int(time.time())
            ),
        },
    )
    with urllib.request.urlopen(  # noqa: S310
        request, timeout=settings.API_CALLBACK_TIMEOUT
    ) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"callback answered {response.status}")
