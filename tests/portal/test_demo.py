import pytest
from django.core.management import call_command

from agencies.models import Agency, Membership
from appeals.models import Appeal, Channel, Form, Status

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
