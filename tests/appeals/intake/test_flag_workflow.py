"""Flags set as appeals arrive, shown to clerks and controllers (never to citizens),
deciding nothing; leaving an appeal without consideration on a legal ground, and the
citizen's letter that states it in the appeal's language."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from appeals.intake import flags, registration
from appeals.models import Appeal, Event, InadmissibilityGround, Notification, Status
from appeals.notifications import outbox
from tests.factories import (
    ministry_of_health,
    paper_appeal,
    portal_submission,
    staff_member,
)
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

CAPITALS_IN_LATIN = (
    "POMOGITE POZHALUYSTA, YA NE MOGU POLUCHIT PENSIYU UZHE TRI MESYATSA"
)


@pytest.fixture(autouse=True)
def _fresh_word_list(monkeypatch):
    monkeypatch.setattr(flags, "_loaded", None)


@pytest.fixture
def clerk():
    return staff_member("clerk")


@pytest.fixture
def controller():
    return staff_member("controller")


def _codes(appeal) -> list[str]:
    return [flag["code"] for flag in appeal.flags]


def _anonymous_paper_appeal(clerk, **fields):
    """A letter with no name and no return address, in capitals and Latin letters."""
    return paper_appeal(
        clerk,
        applicant_name="Аноним",
        applicant_email="",
        text=CAPITALS_IN_LATIN,
        **fields,
    )


# --- Set as the appeal arrives ------------------------------------------------------------


def test_the_citizens_filing_stores_the_flags():
    appeal = portal_submission(text=CAPITALS_IN_LATIN.lower(), language="ru").appeal
    appeal.refresh_from_db()
    assert _codes(appeal) == ["latin_russian"]
    shouting = portal_submission(text="БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК!").appeal
    assert Appeal.objects.get(pk=shouting.pk).flags == [
        {"code": "all_capitals", "detail": ""}
    ]


def test_an_ordinary_filing_has_no_flags():
    appeal = portal_submission().appeal
    appeal.refresh_from_db()
    assert appeal.flags == []


def test_the_clerks_registration_stores_the_flags(clerk):
    appeal = _anonymous_paper_appeal(clerk)
    appeal.refresh_from_db()
    assert _codes(appeal) == ["no_name", "no_contact", "all_capitals", "latin_russian"]


# --- Shown to staff, not to citizens --------------------------------------------------------


def test_the_registration_card_shows_each_flag_with_its_reason(client, clerk):
    appeal = _anonymous_paper_appeal(clerk)
    login_staff(client, clerk)
    html = client.get(f"/en/staff/appeals/{appeal.pk}/").content.decode()
    assert "Points to check before deciding" in html
    assert "The applicant gave no name." in html
    assert "The text is written entirely in capital letters." in html
    assert 'data-flag="latin_russian"' in html


def test_an_appeal_without_flags_shows_no_box(client, clerk):
    appeal = paper_appeal(clerk)
    login_staff(client, clerk)
    html = client.get(f"/en/staff/appeals/{appeal.pk}/").content.decode()
    assert "Points to check before deciding" not in html


def test_the_clerks_queue_item_shows_the_flags_of_a_portal_submission(client, clerk):
    appeal = portal_submission(text="БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК!").appeal
    login_staff(client, clerk)
    html = client.get(f"/en/staff/queue/{appeal.pk}/").content.decode()
    assert 'data-flag="all_capitals"' in html


def test_the_controllers_queue_and_routing_page_show_the_flags(
    client, clerk, controller
):
    flagged = _anonymous_paper_appeal(clerk)
    plain = paper_appeal(clerk)
    login_staff(client, controller)
    html = client.get("/ru/staff/routing/").content.decode()
    assert html.count('data-flag="no_name"') == 1
    assert plain.registration_number in html
    with translation.override("ru"):
        short = str(flags.SHORT["latin_russian"])
        reason = str(flags.REASONS["no_contact"])
    assert short in html
    html = client.get(f"/ru/staff/routing/{flagged.pk}/").content.decode()
    assert reason in html
    assert 'id="leave-form"' in html


def test_the_citizen_never_sees_the_flags(client, clerk):
    submission = portal_submission(text="БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК!")
    number = submission.appeal.tracking_number
    client.post(
        "/en/track/", {"tracking_number": number, "access_code": submission.access_code}
    )
    html = client.get(f"/en/track/{number}/").content.decode()
    assert number in html
    assert "data-flag" not in html and "capital letters" not in html


# --- Flags decide nothing -----------------------------------------------------------------


def test_a_flagged_appeal_is_routed_normally_when_the_clerk_ignores_the_flags(
    client, clerk, controller
):
    health = ministry_of_health()
    appeal = _anonymous_paper_appeal(clerk)
    assert appeal.flags and appeal.status == Status.REGISTERED
    login_staff(client, controller)
    response = client.post(
        f"/en/staff/routing/{appeal.pk}/",
        {"action": "route", "lead": health.slug, "cover_note": ""},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.ROUTED and appeal.lead_agency == health
    assert appeal.outcome == "" and appeal.inadmissibility_ground == ""
    assert _codes(appeal) == ["no_name", "no_contact", "all_capitals", "latin_russian"]


# --- Left without consideration on a legal ground -------------------------------------------


def test_the_ground_and_the_explanation_are_stored_and_recorded(clerk):
    appeal = portal_submission().appeal
    registration.leave_without_consideration(
        appeal_id=appeal.pk,
        actor=clerk,
        ground=InadmissibilityGround.OFFENSIVE,
        reason="Обращение содержит нецензурные выражения.",
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
    assert appeal.inadmissibility_ground == "offensive"
    assert appeal.outcome_reason == "Обращение содержит нецензурные выражения."
    event = appeal.events.get(type=Event.Type.LEFT_WITHOUT_CONSIDERATION)
    assert event.data["ground"] == "offensive"


@pytest.mark.parametrize(
    ("ground", "reason"),
    [("", "Нет адреса."), ("because", "Нет адреса."), ("repeated", "   ")],
)
def test_a_ground_of_the_law_and_an_explanation_are_required(clerk, ground, reason):
    appeal = portal_submission().appeal
    with pytest.raises(ValidationError):
        registration.leave_without_consideration(
            appeal_id=appeal.pk, actor=clerk, ground=ground, reason=reason
        )
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED


def test_a_controller_may_leave_a_registered_appeal_and_an_executor_may_not(
    clerk, controller
):
    appeal = paper_appeal(clerk)
    with pytest.raises(PermissionDenied):
        registration.leave_without_consideration(
            appeal_id=appeal.pk,
            actor=staff_member("executor"),
            ground="for_a_court",
            reason="Спор рассматривается в суде.",
        )
    registration.leave_without_consideration(
        appeal_id=appeal.pk,
        actor=controller,
        ground="for_a_court",
        reason="Спор рассматривается в суде.",
    )
    appeal.refresh_from_db()
    assert appeal.outcome == "left_without_consideration"
    assert appeal.inadmissibility_ground == "for_a_court"


def test_the_controller_leaves_an_appeal_from_the_routing_page(
    client, clerk, controller
):
    appeal = _anonymous_paper_appeal(clerk)
    login_staff(client, controller)
    response = client.post(
        f"/en/staff/routing/{appeal.pk}/",
        {"action": "leave", "ground": "no_name_or_address", "details": ""},
    )
    assert response.status_code == 400  # the explanation is required
    response = client.post(
        f"/en/staff/routing/{appeal.pk}/",
        {
            "action": "leave",
            "ground": "no_name_or_address",
            "details": "Письмо без подписи и без обратного адреса.",
        },
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
    assert appeal.inadmissibility_ground == "no_name_or_address"


def test_the_clerks_form_needs_a_ground(client, clerk):
    appeal = portal_submission().appeal
    login_staff(client, clerk)
    response = client.post(
        f"/en/staff/queue/{appeal.pk}/",
        {"action": "leave", "details": "Нет подписи."},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for label in InadmissibilityGround.labels:
        assert str(label) in html
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SUBMITTED


def test_the_tracking_page_states_the_ground(client, clerk):
    submission = portal_submission()
    registration.leave_without_consideration(
        appeal_id=submission.appeal.pk,
        actor=clerk,
        ground=InadmissibilityGround.FOR_A_COURT,
        reason="The dispute is before the Pervomaisky district court.",
    )
    number = submission.appeal.tracking_number
    client.post(
        "/en/track/", {"tracking_number": number, "access_code": submission.access_code}
    )
    html = client.get(f"/en/track/{number}/").content.decode()
    assert (
        'id="appeal-ground">Legal ground: the matter is for a court or decided by one'
        in html
    )
    assert "Pervomaisky district court" in html


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_the_citizens_letter_states_the_ground_in_the_appeals_language(clerk, language):
    appeal = portal_submission(language=language).appeal
    registration.leave_without_consideration(
        appeal_id=appeal.pk,
        actor=clerk,
        ground=InadmissibilityGround.REPEATED,
        reason="Ответ на этот вопрос дан 12.03.2026 № 45.",
    )
    letter = Notification.objects.get(
        appeal=appeal, template="left_without_consideration"
    )
    with translation.override(language):
        ground = str(InadmissibilityGround.REPEATED.label)
        dear = translation.gettext("Dear %(name)s,") % {"name": "Асанов Бакыт"}
    assert letter.language == language
    assert ground in letter.body
    assert "Ответ на этот вопрос дан 12.03.2026 № 45." in letter.body
    # Rendered in the appeal's language, whatever the clerk's page was in.
    assert dear in letter.body


def test_the_letter_without_a_ground_keeps_its_old_wording(clerk):
    """Appeals closed before the grounds existed render as they did."""
    appeal = portal_submission(language="en").appeal
    registration.leave_without_consideration(
        appeal_id=appeal.pk, actor=clerk, ground="unreadable", reason="Unreadable."
    )
    Appeal.objects.filter(pk=appeal.pk).update(inadmissibility_ground="")
    appeal.refresh_from_db()
    with translation.override("en"):
        notice = outbox.queue(appeal=appeal, template="left_without_consideration")
    assert "Legal ground" not in notice.body and "Unreadable." in notice.body
