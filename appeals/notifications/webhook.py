"""Posting a callback to an API client's system: the signed HTTP request.

Signature: header `X-Portal-Signature: t=<unix time>,v1=<hex>` where hex is
HMAC-SHA256(client's callback secret, "<t>.<raw body>"); `X-Portal-Event-Id` lets the
receiver drop a repeat.
"""

import hashlib
import hmac
import json
import time
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from appeals.models import Notification


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
