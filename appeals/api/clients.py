"""API clients: keys issued once and kept hashed, revocation, the client's own user."""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, ApiCallLog, ApiClient, ApiScope, Membership
from appeals.models import ApiRequest, Notification

KEY_SCHEME = "Api-Key"


@dataclass(frozen=True)
class IssuedKey:
    client: ApiClient
    key: str  # shown once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_prefix() -> str:
    for _attempt in range(10):
        prefix = secrets.token_hex(4)
        if not ApiClient.objects.filter(key_prefix=prefix).exists():
            return prefix
    raise RuntimeError("could not draw a free key prefix")


@transaction.atomic
def create_api_client(
    *,
    name: str,
    agency: Agency,
    scopes: list[str],
    callback_url: str = "",
) -> IssuedKey:
    """A new client with a fresh key `<prefix>.<secret>`; the key is returned once."""
    unknown = set(scopes) - set(ApiScope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    prefix = _new_prefix()
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    user = get_user_model().objects.create_user(
        username=f"api-{prefix}", first_name=name[:150]
    )  # no password: the system never logs in to pages
    client = ApiClient(
        name=name,
        agency=agency,
        user=user,
        scopes=sorted(set(scopes)),
        key_prefix=prefix,
        key_hash=hash_key(key),
        callback_url=callback_url,
        callback_secret=secrets.token_hex(32),
    )
    client.full_clean(exclude=["user"])
    client.save()
    sync_clerk_role(client=client)
    return IssuedKey(client=client, key=key)


def sync_clerk_role(*, client: ApiClient) -> None:
    """A client that may forward registers appeals through the clerks' service, so
    its user is a clerk of its agency; without the scope (or after a move), not."""
    memberships = Membership.objects.filter(user=client.user)
    if client.has_scope(ApiScope.FORWARD):
        memberships.exclude(agency=client.agency, role=Membership.Role.CLERK).delete()
        Membership.objects.get_or_create(
            user=client.user, agency=client.agency, role=Membership.Role.CLERK
        )
    else:
        memberships.delete()


def client_for_key(key: str) -> ApiClient | None:
    """The client whose key this is (revoked ones included), or None."""
    prefix, _, secret = key.partition(".")
    if not prefix or not secret or len(prefix) > 12:
        return None
    client = (
        ApiClient.objects.select_related("agency", "user")
        .filter(key_prefix=prefix)
        .first()
    )
    if client is None or not hmac.compare_digest(client.key_hash, hash_key(key)):
        return None
    return client


@transaction.atomic
def revoke_api_client(*, client: ApiClient) -> ApiClient:
    """The key stops working at once; callbacks still waiting are dropped."""

    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at", "updated_at"])
        client.user.is_active = False
        client.user.save(update_fields=["is_active"])
        Notification.objects.filter(
            api_client=client, state=Notification.State.PENDING
        ).update(state=Notification.State.FAILED, last_error="client revoked")
    return client


def forget_old_responses(*, older_than_days: int | None = None) -> int:
    """Stored answers of write calls hold the citizen's access code: after the retry
    window they are dropped (the row stays: it says which client filed the appeal)."""

    days = older_than_days or settings.API_IDEMPOTENCY_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    return (
        ApiRequest.objects.filter(created_at__lt=cutoff, response_body__isnull=False)
        .exclude(response_body=None)
        .update(response_body=None)
    )


def prune_call_log(*, older_than_days: int | None = None) -> int:
    """The API's call log is for operations and audits, not a record of the state:
    rows older than API_CALL_LOG_DAYS go, a batch of 10,000 at a time."""

    days = older_than_days or settings.API_CALL_LOG_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    removed = 0
    while True:
        batch = list(
            ApiCallLog.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[
                :10_000
            ]
        )
        if not batch:
            return removed
        removed += ApiCallLog.objects.filter(pk__in=batch).delete()[0]
