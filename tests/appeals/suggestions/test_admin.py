"""The admin's routing model pages: each version's figures, going back to the previous
version and choosing one."""

import pytest

from appeals.models import RoutingModel
from appeals.suggestions import model
from tests.appeals.suggestions.test_model import WORDS, examples_for
from tests.factories import AgencyFactory
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

PAGE = "/en/admin/appeals/routingmodel/"


@pytest.fixture
def versions():
    bodies = {
        kind: AgencyFactory(slug=f"min-{kind}", code=kind[:2].upper() + "X")
        for kind in WORDS
    }
    return [
        model.store(model.train(examples_for(bodies, 40, seed=seed))) for seed in (1, 2)
    ]


@pytest.fixture
def admin_client(client, django_user_model):
    login_staff(client, django_user_model.objects.create_superuser("root", "x" * 16))
    return client


def test_the_admin_lists_each_version_with_its_figures(admin_client, versions):
    html = admin_client.get(PAGE).content.decode()

    for version in versions:
        assert f"{version.figures['agency']['top1']:.3f}" in html
    assert html.count("icon-yes.svg") == 1  # one version in use


def test_the_admin_goes_back_to_the_previous_version(admin_client, versions):
    response = admin_client.post(
        PAGE, {"action": "roll_back", "_selected_action": [versions[1].pk]}
    )

    assert response.status_code == 302
    assert RoutingModel.objects.get(is_current=True) == versions[0]


def test_the_admin_uses_the_version_chosen(admin_client, versions):
    model.rollback()

    admin_client.post(
        PAGE, {"action": "use_version", "_selected_action": [versions[1].pk]}
    )

    assert RoutingModel.objects.get(is_current=True) == versions[1]
