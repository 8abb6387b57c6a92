"""Callbacks: queued with the change, signed, delivered through the outbox in order,
retried while the receiver is down, and received exactly once."""

import datetime as dt
import hashlib
import hmac
import uuid

import pytest
from django.utils import timezone

from agencies.models import ApiScope
from appeals.api.clients import revoke_api_client
from appeals.casework import routing
from appeals.models import Appeal, Notification
from appeals.notifications import outbox as notifications
from appeals.tasks import sweep_notifications
from portal.celery import app as celery_app
from tests.factories import staff_member
from tests.helpers import celery_worker, wait_for

from .conftest import forwarding
from .receiver import Receiver
from .test_api import FORWARDED, post

pytestmark = pytest.mark.django_db


def callbacks():
    return Notification.objects.filter(channel=Notification.Channel.CALLBACK).order_by(
        "pk"
    )


def forward_and_route(client, issued, other_agency, idem="f-1"):
    number = post(client, FORWARDED, forwarding(), issued.key, idem=idem).json()[
        "registration_number"
    ]
    appeal = Appeal.objects.get(registration_number=number)
    routing.route_appeal(
        appeal_id=appeal.pk, actor=staff_member("controller"), lead=other_agency
    )
    return appeal


def time_passes():
    """Retries are due after their backoff; here it has passed."""
    callbacks().update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_callback_is_queued_in_the_same_transaction_as_the_change(client, make_client):
    issued = make_client(callback_url="http://127.0.0.1:9/hook")
    post(client, FORWARDED, forwarding(), issued.key)
    row = callbacks().get()
    assert row.api_client == issued.client
    assert row.template == "callback_registered"
    assert row.state == Notification.State.PENDING


def test_no_callback_without_url_or_scope_or_visibility(
    client, make_client, other_agency
):
    make_client(callback_url="")  # no URL
    make_client(scopes=[ApiScope.FILE], callback_url="http://127.0.0.1:9/a")
    make_client(agency=other_agency, callback_url="http://127.0.0.1:9/b")
    issued = make_client()
    post(client, FORWARDED, forwarding(), issued.key)
    assert not callbacks().exists()


def test_receiver_can_verify_the_signature(client, make_client):
    receiver = Receiver().start()
    try:
        issued = make_client(callback_url=receiver.url)
        post(client, FORWARDED, forwarding(), issued.key)
        assert notifications.deliver(callbacks().get().pk) is True
    finally:
        receiver.stop()
    [got] = receiver.received
    parts = dict(item.split("=", 1) for item in got["signature"].split(","))
    expected = hmac.new(
        issued.client.callback_secret.encode(),
        f"{parts['t']}.".encode() + got["body"],
        hashlib.sha256,
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - timezone.now().timestamp()) < 60
    assert got["json"]["type"] == "registered"
    assert got["event_id"] == str(got["json"]["event_id"])
    tampered = hmac.new(
        issued.client.callback_secret.encode(),
        f"{parts['t']}.".encode() + got["body"] + b" ",
        hashlib.sha256,
    ).hexdigest()
    assert tampered != parts["v1"]


def test_a_later_callback_never_overtakes_an_earlier_one(
    client, make_client, other_agency
):
    receiver = Receiver().start()
    try:
        issued = make_client(callback_url=receiver.url)
        forward_and_route(client, issued, other_agency)
        first, second = callbacks()
        assert notifications.deliver(second.pk) is False  # the first is pending
        assert receiver.received == []
        assert notifications.due_ids() == [first.pk]
        assert notifications.deliver(first.pk) is True
        assert notifications.deliver(second.pk) is True
    finally:
        receiver.stop()
    assert [got["json"]["type"] for got in receiver.received] == [
        "registered",
        "routed",
    ]


def test_answer_is_posted_only_to_keys_that_receive_answers(
    client, make_client, other_agency
):
    from appeals.models import Event
    from appeals.notifications.callbacks import payload

    issued = make_client(callback_url="http://127.0.0.1:9/hook")
    appeal = forward_and_route(client, issued, other_agency)
    event = Event.objects.filter(appeal=appeal).last()
    assert "answer" not in payload(event, issued.client)


def test_receiver_down_then_up_gets_each_callback_exactly_once_in_order(
    client, make_client, other_agency
):
    receiver = Receiver()  # not listening yet: the receiver is down
    issued = make_client(callback_url=receiver.url)
    forward_and_route(client, issued, other_agency)
    assert sweep_notifications() == 0
    first, second = callbacks()
    assert first.attempts == 1 and first.state == Notification.State.PENDING
    assert second.attempts == 0  # waits behind the first, never tried out of order
    assert first.next_attempt_at > timezone.now()  # backoff
    receiver.start()
    try:
        time_passes()
        for _sweep in range(3):
            sweep_notifications()
    finally:
        receiver.stop()
    assert [got["json"]["type"] for got in receiver.received] == [
        "registered",
        "routed",
    ]
    assert set(callbacks().values_list("state", flat=True)) == {"sent"}


def test_callbacks_are_never_given_up_until_the_client_is_revoked(client, make_client):
    issued = make_client(callback_url=Receiver().url)
    post(client, FORWARDED, forwarding(), issued.key)
    row = callbacks().get()
    for _attempt in range(notifications.MAX_ATTEMPTS + 2):
        time_passes()
        notifications.deliver(row.pk)
    row.refresh_from_db()
    assert row.state == Notification.State.PENDING
    assert row.attempts == notifications.MAX_ATTEMPTS + 2
    revoke_api_client(client=issued.client)
    row.refresh_from_db()
    assert row.state == Notification.State.FAILED


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_real_worker_delivers_after_the_receiver_comes_back(
    client, make_client, other_agency
):
    receiver = Receiver()
    issued = make_client(callback_url=receiver.url)
    queue = f"test-api-{uuid.uuid4().hex[:8]}"
    # The worker schedules the next callback itself: on its own queue too.
    with celery_worker(queue=queue, extra_env={"CELERY_TASK_DEFAULT_QUEUE": queue}):
        celery_app.conf.task_default_queue = queue
        try:
            forward_and_route(client, issued, other_agency)
            assert wait_for(
                lambda: callbacks().filter(attempts__gte=1).exists(), timeout=60
            ), "the worker did not try the first callback"
            receiver.start()
            time_passes()
            sweep_notifications.delay()
            assert wait_for(lambda: len(receiver.received) >= 2, timeout=60)
            # Nothing more arrives: a later sweep finds nothing due.
            sweep_notifications.delay()
            wait_for(lambda: False, timeout=2)
        finally:
            celery_app.conf.task_default_queue = "celery"
            receiver.stop()
    assert [got["json"]["type"] for got in receiver.received] == [
        "registered",
        "routed",
    ]
    assert len({got["event_id"] for got in receiver.received}) == 2
