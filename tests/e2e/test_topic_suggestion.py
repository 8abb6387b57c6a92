"""A clerk types an appeal's text and finds the topic the routing model suggests
preselected; a topic the clerk chose first is left alone (issue 30, part 5)."""

import pytest

from appeals.suggestions import model
from tests.appeals.suggestions.test_model import WORDS, examples_for
from tests.factories import AgencyFactory, TopicFactory, staff_member
from tests.helpers import browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
]

TEXT = "Мектеп мугалим школа учитель, прошу помочь: учитель не ходит на уроки."


def _trained_with_topics(settings):
    settings.ROUTING_MIN_EXAMPLES = 1
    bodies = {
        kind: AgencyFactory(slug=f"min-{kind}", code=kind[:2].upper() + "X")
        for kind in WORDS
    }
    topics = {
        kind: TopicFactory(code=f"topic-{kind}", name_ky=kind, name_en=kind)
        for kind in WORDS
    }
    by_agency = {bodies[kind].pk: topics[kind].pk for kind in WORDS}
    model.forget_loaded()
    model.store(
        model.train(
            [
                model.Example(
                    text=e.text,
                    agency_id=e.agency_id,
                    topic_id=by_agency[e.agency_id],
                    at=e.at,
                    appeal_id=e.appeal_id,
                )
                for e in examples_for(bodies, 90)
            ]
        )
    )


def test_the_topic_is_preselected_from_the_text_and_stays_editable(
    live_server, browser, settings
):
    _trained_with_topics(settings)
    staff_member("clerk", username="aigul")
    page = browser.new_page()
    browser_login(page, live_server.url, "aigul", "a-long-test-password")
    page.goto(f"{live_server.url}/en/staff/register/written/")

    page.locator("#id_text").fill(TEXT)
    page.locator("#id_text").blur()

    page.wait_for_selector("#topic-suggestion:not([hidden])")
    assert page.locator("#id_topic").input_value() == "topic-school"
    assert "Topic suggested from the text: school" in page.inner_text(
        "#topic-suggestion"
    )
    page.locator("#id_topic").select_option("topic-roads")
    assert page.locator("#topic-suggestion").is_hidden()
    page.locator("#id_text").fill(TEXT + " Ещё раз прошу.")
    page.locator("#id_text").blur()
    page.wait_for_timeout(500)
    assert page.locator("#id_topic").input_value() == "topic-roads"
    model.forget_loaded()
