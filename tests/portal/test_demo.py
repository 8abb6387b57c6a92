import base64

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken

from agencies.models import Agency, Membership
from appeals.models import Appeal, Channel, Form, Status
from portal import demo

pytestmark = pytest.mark.django_db


def test_demo_data_covers_channels_forms_and_statuses():
    call_command("load_demo", appeals=120, stdout=None)
    channels = set(Appeal.objects.values_list("channel", flat=True))
    assert channels == set(Channel.values)
    assert set(Appeal.objects.values_list("form", flat=True)) == set(Form.values)
    assert {Status.SUBMITTED, Status.REGISTERED, Status.CLOSED} <= set(
        Appeal.objects.values_list("status", flat=True)
    )
    assert set(Membership.objects.values_list("role", flat=True)) == set(
        Membership.Role.values
    )
    assert (
        Agency.objects.filter(name_en__isnull=False, name_ru__isnull=False).count() >= 5
    )


def test_loading_demo_data_twice_changes_nothing():
    call_command("load_demo", appeals=60)
    counts = (
        Agency.objects.count(),
        Appeal.objects.count(),
        Membership.objects.count(),
    )
    call_command("load_demo", appeals=60)
    assert (
        Agency.objects.count(),
        Appeal.objects.count(),
        Membership.objects.count(),
    ) == counts


def test_the_government_apparatus_exists_from_the_first_migration():
    apparatus = Agency.objects.get(slug="gov-apparatus")
    assert apparatus.code == "GA"
    assert apparatus.name_ru and apparatus.name_en and apparatus.name_ky


def test_demo_controller_head_and_admin_log_in_with_the_published_second_factor():
    """The README's demo key and backup codes work on the demo users."""
    call_command("load_demo", appeals=0)
    key = base64.b32decode(demo.DEMO_TOTP_SECRET.replace(" ", ""))
    for username, code in (
        ("controller", f"{totp(key):06d}"),
        ("head", demo.DEMO_BACKUP_CODES[0]),
        ("admin", demo.DEMO_BACKUP_CODES[1]),
    ):
        client = Client()
        response = client.post(
            "/en/staff/login/",
            {"username": username, "password": demo.DEMO_PASSWORD},
        )
        assert response["Location"].startswith("/en/staff/login/code/")
        response = client.post("/en/staff/login/code/", {"code": code})
        assert response.status_code == 302, username
    # Loading again puts the used backup codes back.
    call_command("load_demo", appeals=0)
    assert StaticToken.objects.filter(device__user__username="head").count() == 5
