"""API clients: the commands that issue and revoke keys, the admin, the answer in
callbacks, and forgetting stored answers after the retry window."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agencies.models import Agency, ApiClient, ApiScope
from appeals.api.clients import client_for_key, forget_old_responses
from appeals.casework import answering, routing
from appeals.models import ApiRequest, Event, Notification
from tests.factories import AgencyFactory, staff_member
from tests.helpers import login_staff

from .conftest import auth, forwarding
from .test_api import APPEALS, FORWARDED, post

pytestmark = pytest.mark.django_db


def test_create_api_client_prints_the_key_once(apparatus):
    out = StringIO()
    call_command(
        "create_api_client",
        "--name=Президенттин Аппараты",
        "--agency=gov-apparatus",
        "--scope=forward",
        "--scope=read_status",
        "--callback-url=https://edo.president.kg/hook",
        stdout=out,
    )
    key = next(
        line.split(": ", 1)[1]
        for line in out.getvalue().splitlines()
        if line.startswith("key: ")
    )
    client = ApiClient.objects.get()
    assert client_for_key(key) == client
    assert key not in json.dumps(list(ApiClient.objects.values_list()), default=str)
    assert client.scopes == ["forward", "read_status"]
    assert "callback secret: " + client.callback_secret in out.getvalue()
    assert client.user.memberships.get().role == "clerk"  # it may register


def test_create_api_client_refuses_unknown_agency():
    with pytest.raises(CommandError):
        call_command("create_api_client", "--name=x", "--agency=nope", "--scope=file")


def test_revoke_command(client, make_client):
    issued = make_client()
    call_command("revoke_api_client", issued.client.key_prefix, stdout=StringIO())
    assert client.get(APPEALS, **auth(issued.key)).status_code == 401
    with pytest.raises(CommandError):
        call_command("revoke_api_client", "00000000")


def test_admin_lists_and_revokes_clients(client, make_client, django_user_model):
    issued = make_client()
    root = django_user_model.objects.create_superuser("root", password="x" * 16)
    login_staff(client, root)
    page = client.get("/en/admin/agencies/apiclient/")
    assert page.status_code == 200
    assert issued.client.key_prefix in page.content.decode()
    assert issued.key not in page.content.decode()
    assert (
        client.get(
            f"/en/admin/agencies/apiclient/{issued.client.pk}/change/"
        ).status_code
        == 200
    )
    # Taking the forward permission away takes the clerk's role with it.
    saved = client.post(
        f"/en/admin/agencies/apiclient/{issued.client.pk}/change/",
        {
            "name": "Renamed",
            "agency": issued.client.agency_id,
            "scopes": ["file", "read_status"],
            "callback_url": "",
        },
    )
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    issued.client.refresh_from_db()
    assert issued.client.name == "Renamed"
    assert issued.client.scopes == ["file", "read_status"]
    assert not issued.client.user.memberships.exists()
    client.post(
        "/en/admin/agencies/apiclient/",
        {"action": "revoke", "_selected_action": [issued.client.pk]},
    )
    issued.client.refresh_from_db()
    assert issued.client.revoked_at is not None
    assert client.get("/en/admin/agencies/apicalllog/").status_code == 200


def test_a_client_without_forward_scope_is_no_clerk(make_client):
    issued = make_client(scopes=[ApiScope.FILE])
    assert not issued.client.user.memberships.exists()
    assert not issued.client.user.has_usable_password()


def test_answered_callback_carries_the_answer_for_receive_answers(client, make_client):
    health = AgencyFactory(slug="min-health", code="MZ")
    reader = make_client(
        agency=health,
        scopes=[ApiScope.READ_STATUS],
        callback_url="http://127.0.0.1:9/r",
    )
    answers = make_client(
        agency=health,
        scopes=[ApiScope.RECEIVE_ANSWERS],
        callback_url="http://127.0.0.1:9/a",
    )
    forwarder = make_client()
    number = post(client, FORWARDED, forwarding(), forwarder.key).json()[
        "registration_number"
    ]
    from appeals.models import Appeal

    appeal = Appeal.objects.get(registration_number=number)
    head = staff_member("head", health)
    executor = staff_member("executor", health)
    routing.route_appeal(
        appeal_id=appeal.pk, actor=staff_member("controller"), lead=health
    )
    routing.assign_executor(appeal_id=appeal.pk, actor=head, executor=executor)
    answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=executor,
        text="Проверка проведена, нарушения устранены до конца месяца.",
        outcome="supported",
        submit=True,
    )
    answering.approve_answer(appeal_id=appeal.pk, actor=head)

    def bodies(issued):
        return [
            json.loads(row.body)
            for row in Notification.objects.filter(api_client=issued.client).order_by(
                "pk"
            )
        ]

    assert [b["type"] for b in bodies(reader)] == ["routed", "answered"]
    assert "answer" not in bodies(reader)[-1]
    [only] = bodies(answers)
    assert only["type"] == Event.Type.ANSWERED
    assert only["answer"]["outcome"] == "supported"
    assert "нарушения устранены" in only["answer"]["text"]
    detail = client.get(f"{APPEALS}{number}/", **auth(answers.key))
    assert detail.status_code == 403  # no read_status


def test_stored_answers_are_forgotten_after_the_retry_window(client, make_client):
    issued = make_client()
    first = post(client, FORWARDED, forwarding(), issued.key)
    assert first.json()["access_code"]
    ApiRequest.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert forget_old_responses(older_than_days=30) == 1
    assert ApiRequest.objects.get().appeal is not None  # still says who filed it
    again = post(client, FORWARDED, forwarding(), issued.key)
    assert again.status_code == 410


def test_demo_data_has_an_api_client_with_the_printed_key(client):
    from portal import demo

    demo.load(appeals=0)
    demo.load(appeals=0)  # safe to run twice
    assert ApiClient.objects.filter(key_prefix="demo0000").count() == 1
    response = client.get(APPEALS, **auth(demo.DEMO_API_KEY))
    assert response.status_code == 200


def test_the_clients_system_user_is_not_offered_as_a_receiving_clerk(
    apparatus, make_client
):
    from appeals.forms import OralRegistrationForm

    issued = make_client(scopes=[ApiScope.FORWARD])
    clerk = staff_member("clerk", apparatus)
    assert issued.client.user.memberships.filter(role="clerk").exists()
    offered = (
        OralRegistrationForm(agencies=Agency.objects.filter(pk=apparatus.pk))
        .fields["received_by"]
        .queryset
    )
    assert clerk in offered
    assert issued.client.user not in offered


def test_the_call_log_is_pruned_after_its_period_by_the_daily_task(
    client, make_client, settings
):
    from agencies.models import ApiCallLog
    from appeals.tasks import forget_api_responses

    issued = make_client()
    for _ in range(3):
        client.get(APPEALS, **auth(issued.key))
    assert ApiCallLog.objects.count() == 3
    old = ApiCallLog.objects.order_by("pk")[:2]
    ApiCallLog.objects.filter(pk__in=[row.pk for row in old]).update(
        at=timezone.now() - dt.timedelta(days=401)
    )
    settings.API_CALL_LOG_DAYS = 400
    forget_api_responses()
    assert ApiCallLog.objects.count() == 1
    assert ApiCallLog.objects.get().at > timezone.now() - dt.timedelta(days=1)
