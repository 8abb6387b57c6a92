"""Callbacks to API clients: a signed JSON post per status change or answer, queued in
the notification outbox in the same transaction as the event that caused it (the post
itself: appeals.webhook). One appeal's callbacks to one client go out in order: one is
not sent while an earlier one is pending (appeals.notifications.outbox.deliver and due_ids).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Exists, OuterRef, Q

from agencies.models import ApiClient, ApiScope
from appeals.models import ApiRequest, Appeal, Assignment, Event, Notification
from appeals.notifications import outbox as notifications
from appeals.notifications.payloads import answer_data, appeal_data

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
        Event.Type.ADDED_BY_CITIZEN,
        Event.Type.WITHDRAWN,
    }
)


def followers(appeal: Appeal, event_type: str) -> list[ApiClient]:
    """The clients with a callback URL that may see the appeal and hear this event."""
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
    """Called by register.state.record_event, inside the service's transaction."""
    if event.type not in CALLBACK_EVENTS:
        return []
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
    data = {
        "event_id": event.pk,
        "type": event.type,
        "at": event.at,
        "appeal": appeal_data(event.appeal),
    }
    if event.type == Event.Type.ANSWERED and client.has_scope(ApiScope.RECEIVE_ANSWERS):
        data["answer"] = answer_data(event.appeal)
    return data


# Which appeals a client follows: also what the API lets it read (api.permissions).
def client_appeals_q(client: ApiClient) -> Q:
    """The appeals a client may follow: its agency's register, the appeals its agency
    works on now (lead or co-executor), and the ones the client filed or forwarded."""
    active = Assignment.objects.filter(
        appeal=OuterRef("pk"), agency_id=client.agency_id, is_active=True
    )
    own = ApiRequest.objects.filter(appeal=OuterRef("pk"), client=client)
    return Q(registering_agency_id=client.agency_id) | Exists(active) | Exists(own)
