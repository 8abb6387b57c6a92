"""Suggestions where controllers route: the queue and the routing page show the model's
three with the rule's beside them, the choice is kept with what was suggested, and an
appeal is routed without a person only to an agency that opted in, above the
threshold."""

import pytest
from django.core.cache import cache

from appeals.casework import routing
from appeals.models import Event, RoutingSuggestion, Status
from appeals.suggestions import model
from appeals.suggestions import routing as suggested_routing
from appeals.tasks import route_by_suggestion
from tests.appeals.suggestions.test_model import WORDS, examples_for
from tests.factories import AgencyFactory, paper_appeal, staff_member
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

SCHOOL_TEXT = "Мектеп мугалим школа учитель school teacher, прошу помочь"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.ROUTING_MIN_EXAMPLES = 1
    model.forget_loaded()
    cache.delete(suggested_routing.WATERMARK_KEY)
    yield
    model.forget_loaded()


@pytest.fixture
def bodies():
    return {
        kind: AgencyFactory(
            slug=f"min-{kind}", code=kind[:2].upper() + "X", name_en=f"Ministry {kind}"
        )
        for kind in WORDS
    }


@pytest.fixture
def trained(bodies):
    return model.store(model.train(examples_for(bodies, 150)))


@pytest.fixture
def clerk():
    return staff_member("clerk")


@pytest.fixture
def controller():
    return staff_member("controller")


def test_the_routing_page_shows_three_agencies_and_the_words_beside_the_rule(
    client, trained, bodies, clerk, controller
):
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT, addressee=bodies["health"])
    login_staff(client, controller)

    html = client.get(f"/en/staff/routing/{appeal.pk}/").content.decode()

    assert "Suggested: Ministry health" in html  # today's rule: the addressee
    assert html.count("data-agency=") == 3
    assert html.index('data-agency="min-school"') == html.index("data-agency=")
    assert "Words that weighed most for the first:" in html
    assert "школа" in html


def test_the_queue_shows_the_models_three_for_each_appeal(
    client, trained, bodies, clerk, controller
):
    paper_appeal(clerk, text=SCHOOL_TEXT)
    paper_appeal(clerk, text="12345")
    login_staff(client, controller)

    html = client.get("/en/staff/routing/").content.decode()

    assert "Suggested by the model" in html
    assert html.count("data-learned") == 1  # the digits get no suggestion


def test_without_a_model_the_pages_show_the_rule_only(
    client, bodies, clerk, controller
):
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT, addressee=bodies["health"])
    login_staff(client, controller)

    html = client.get(f"/en/staff/routing/{appeal.pk}/").content.decode()

    assert "Suggested: Ministry health" in html
    assert "data-agency=" not in html
    assert client.get("/en/staff/routing/").status_code == 200


def test_the_controllers_choice_is_kept_with_what_was_suggested(
    client, trained, bodies, clerk, controller
):
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT, addressee=bodies["health"])
    login_staff(client, controller)

    response = client.post(
        f"/en/staff/routing/{appeal.pk}/",
        {"action": "route", "lead": "min-roads", "cover_note": ""},
    )

    assert response.status_code == 302
    kept = RoutingSuggestion.objects.get(appeal=appeal)
    assert kept.chosen_agency == bodies["roads"]
    assert kept.rule_agency == bodies["health"]
    assert kept.suggestions[0][0] == bodies["school"].pk
    assert kept.probability == kept.suggestions[0][1]
    assert kept.model_id == trained.pk and not kept.automatic


def test_nothing_is_routed_by_suggestion_unless_the_agency_opted_in(
    trained, bodies, clerk
):
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT)

    assert route_by_suggestion() == 0
    appeal.refresh_from_db()
    assert appeal.status == Status.REGISTERED


def test_an_opted_in_agency_gets_probable_appeals_routed_by_suggestion(
    settings, trained, bodies, clerk, client
):
    settings.ROUTING_AUTO_THRESHOLD = 0.6
    bodies["school"].routes_by_suggestion = True
    bodies["school"].save()
    confident = paper_appeal(clerk, text=SCHOOL_TEXT)
    elsewhere = paper_appeal(clerk, text="Жол көпүрө дорога мост road bridge")

    assert route_by_suggestion() == 1

    confident.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (confident.status, confident.lead_agency) == (
        Status.ROUTED,
        bodies["school"],
    )
    assert elsewhere.status == Status.REGISTERED  # its agency did not opt in
    event = confident.events.get(type=Event.Type.ROUTED)
    assert event.actor is None and event.data["by_suggestion"] >= 0.6
    assert RoutingSuggestion.objects.get(appeal=confident).automatic
    login_staff(client, staff_member("controller"))
    html = client.get(f"/en/staff/appeals/{confident.pk}/").content.decode()
    p = f"{event.data['by_suggestion']:.2f}"
    assert f"routed by suggestion (p = {p})" in html
    from django.utils import translation

    from appeals.register import lookups

    with translation.override("en"):
        history = [line.text for line in lookups.citizen_history(confident)]
    assert history[-1] == (
        "Sent to Ministry school by the portal, as earlier appeals like this one "
        "were (routed by suggestion)"
    )
    # Looked at once: the next sweep leaves the other appeal to the controllers.
    assert route_by_suggestion() == 0


def test_below_the_threshold_an_appeal_waits_for_a_controller(
    settings, trained, bodies, clerk
):
    settings.ROUTING_AUTO_THRESHOLD = 0.999
    bodies["school"].routes_by_suggestion = True
    bodies["school"].save()
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT)

    assert suggested_routing.route_by_suggestion(appeal_id=appeal.pk) is None
    appeal.refresh_from_db()
    assert appeal.status == Status.REGISTERED


def test_an_appeal_routed_by_suggestion_can_be_returned_and_is_not_routed_again(
    settings, trained, bodies, clerk
):
    settings.ROUTING_AUTO_THRESHOLD = 0.6
    bodies["school"].routes_by_suggestion = True
    bodies["school"].save()
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT)
    suggested_routing.route_by_suggestion(appeal_id=appeal.pk)
    head = staff_member("head", bodies["school"])

    routing.return_appeal(appeal_id=appeal.pk, actor=head, reason="Не наше.")

    assert suggested_routing.route_by_suggestion(appeal_id=appeal.pk) is None
    appeal.refresh_from_db()
    assert appeal.status == Status.REGISTERED


def test_the_monthly_figures_count_first_suggestions_taken_and_returns(
    settings, trained, bodies, clerk, controller
):
    from appeals.suggestions import figures

    settings.ROUTING_AUTO_THRESHOLD = 0.6
    followed = paper_appeal(clerk, text=SCHOOL_TEXT)
    suggested_routing.route_appeal(
        appeal_id=followed.pk, actor=controller, lead=bodies["school"]
    )
    routing.return_appeal(
        appeal_id=followed.pk,
        actor=staff_member("head", bodies["school"]),
        reason="Не наше.",
    )
    against = paper_appeal(clerk, text=SCHOOL_TEXT)
    suggested_routing.route_appeal(
        appeal_id=against.pk, actor=controller, lead=bodies["roads"]
    )
    bodies["school"].routes_by_suggestion = True
    bodies["school"].save()
    automatic = paper_appeal(clerk, text=SCHOOL_TEXT)
    suggested_routing.route_by_suggestion(appeal_id=automatic.pk)

    [month] = figures.monthly(months=2)

    assert (month.routed, month.suggested, month.first_taken, month.automatic) == (
        3,
        3,
        1,
        1,
    )
    assert (month.taken_returned, month.other, month.other_returned) == (1, 1, 0)
    assert month.first_taken_share == 50.0
    assert month.taken_returned_share == 50.0


def test_the_figures_page_shows_the_routing_months_to_the_whole_government(
    client, trained, bodies, clerk, controller
):
    appeal = paper_appeal(clerk, text=SCHOOL_TEXT)
    suggested_routing.route_appeal(
        appeal_id=appeal.pk, actor=controller, lead=bodies["school"]
    )
    login_staff(client, controller)

    html = client.get("/en/staff/figures/").content.decode()

    table = html.split('id="routing-figures"')[1].split("</table>")[0]
    assert "<td>1 (100.0 %)</td>" in table  # the first suggestion taken
    head = staff_member("head", bodies["school"])
    client.logout()
    login_staff(client, head)
    assert (
        'id="routing-figures"' not in client.get("/en/staff/figures/").content.decode()
    )


def test_the_clerk_gets_the_topic_suggested_for_the_text(client, bodies, clerk):
    from tests.factories import TopicFactory

    topics = {kind: TopicFactory(code=f"topic-{kind}", name_en=kind) for kind in WORDS}
    examples = [
        model.Example(
            text=e.text,
            agency_id=e.agency_id,
            topic_id=topics[
                next(k for k, body in bodies.items() if body.pk == e.agency_id)
            ].pk,
            at=e.at,
            appeal_id=e.appeal_id,
        )
        for e in examples_for(bodies, 90)
    ]
    login_staff(client, clerk)
    url = "/en/staff/register/topic/"
    assert client.post(url, {"text": SCHOOL_TEXT}).json() == {"topic": None}
    model.store(model.train(examples))

    found = client.post(url, {"text": SCHOOL_TEXT}).json()

    assert found["topic"] == "topic-school"  # the form chooses topics by code
    assert found["message"].startswith("Topic suggested from the text: school (")
    assert client.post(url, {"text": "123 456"}).json() == {"topic": None}
    page = client.get("/en/staff/register/written/").content.decode()
    assert 'data-suggest-topic-url="/en/staff/register/topic/"' in page
    assert "js/topic_suggestion" in page and 'id="topic-suggestion"' in page
