"""Deadlines on appeals: extension, reminders, escalation, the weekly digest, SMS."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from agencies.models import StaffProfile
from appeals import deadlines, notifications, reminders, services
from appeals.models import Appeal, Event, Notification
from appeals.sms import LoggingBackend
from tests.factories import AgencyFactory, paper_appeal, route_and_assign, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def health():
    return AgencyFactory(slug="min-health", code="MZ")


@pytest.fixture
def people(health):
    people = {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller", email="ctrl@gov.kg"),
        "head": staff_member("head", health, email="head@mz.gov.kg"),
        "executor": staff_member("executor", health, email="exec@mz.gov.kg"),
    }
    StaffProfile.objects.create(user=people["executor"], language="ru")
    return people


@pytest.fixture
def appeal(people, health):
    appeal = paper_appeal(
        people["clerk"],
        applicant_name="Ким Ольга",
        applicant_email="",
        applicant_phone="+996 555 000 111",
        text="Прошу помочь с оформлением документов.",
    )
    route_and_assign(appeal, people, health)
    appeal.refresh_from_db()
    return appeal


def _staff_notices(template):
    return Notification.objects.filter(template=f"staff_{template}")


def test_reminders_go_three_and_one_working_days_before_and_only_once(appeal, people):
    three_before = deadlines.add_working_days(appeal.due_on, -3)
    assert reminders.send_reminders(today=three_before) == 1
    assert reminders.send_reminders(today=three_before) == 0  # the sweep ran twice
    one_before = deadlines.add_working_days(appeal.due_on, -1)
    assert reminders.send_reminders(today=one_before) == 1
    notices = _staff_notices("reminder")
    assert notices.count() == 2
    assert set(notices.values_list("recipient", flat=True)) == {"exec@mz.gov.kg"}
    assert notices.first().language == "ru"  # the executor's own language


def test_missed_deadline_is_flagged_and_escalated_once(appeal, people):
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    result = reminders.daily_sweep(today=day_after)
    assert result["escalated"] == 1
    assert reminders.daily_sweep(today=day_after)["escalated"] == 0
    assert appeal.events.filter(type=Event.Type.OVERDUE).count() == 1
    recipients = set(_staff_notices("overdue").values_list("recipient", flat=True))
    assert recipients == {"head@mz.gov.kg", "ctrl@gov.kg"}


def test_extension_once_with_a_reason_within_the_legal_limit(appeal, people):
    with pytest.raises(ValidationError):
        services.extend_deadline(appeal_id=appeal.pk, actor=people["head"], reason="")
    old_due = appeal.due_on
    services.extend_deadline(
        appeal_id=appeal.pk,
        actor=people["head"],
        reason="Запрошены документы из архива.",
    )
    appeal.refresh_from_db()
    rule = deadlines.rule_for("extension", on=old_due)
    assert appeal.due_on == deadlines.due_date(old_due, rule)
    assert appeal.events.filter(type=Event.Type.EXTENDED).exists()
    # The citizen has only a phone: the notice goes by SMS.
    notice = Notification.objects.get(appeal=appeal, template="extended")
    assert notice.channel == "sms" and notice.recipient == "+996 555 000 111"
    with pytest.raises(ValidationError):
        services.extend_deadline(
            appeal_id=appeal.pk, actor=people["head"], reason="Again"
        )


def test_extension_beyond_the_limit_is_refused(appeal, people):
    with pytest.raises(ValidationError):
        services.extend_deadline(
            appeal_id=appeal.pk,
            actor=people["head"],
            reason="Нужно время",
            until=appeal.due_on + dt.timedelta(days=365),
        )


def test_extension_moves_the_next_escalation(appeal, people):
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    reminders.escalate_overdue(today=day_after)
    services.extend_deadline(appeal_id=appeal.pk, actor=people["head"], reason="Архив")
    appeal.refresh_from_db()
    assert reminders.escalate_overdue(today=day_after) == 0  # no longer overdue
    later = deadlines.add_working_days(appeal.due_on, 1)
    assert reminders.escalate_overdue(today=later) == 1


def test_sms_is_delivered_through_the_backend(appeal, people):
    services.extend_deadline(appeal_id=appeal.pk, actor=people["head"], reason="Архив")
    notice = Notification.objects.get(appeal=appeal, template="extended")
    assert notifications.deliver(notice.pk)
    assert LoggingBackend.sent[-1][0] == "+996 555 000 111"
    assert appeal.tracking_number in LoggingBackend.sent[-1][1]


def test_weekly_digest_once_a_week_per_head(appeal, people):
    StaffProfile.objects.create(user=people["head"], language="en")
    monday = dt.date(2026, 11, 23)
    assert reminders.weekly_digest(today=monday) == 1
    assert reminders.weekly_digest(today=monday + dt.timedelta(days=2)) == 0
    assert reminders.weekly_digest(today=monday + dt.timedelta(days=7)) == 1
    digest = _staff_notices("digest").first()
    assert digest.recipient == "head@mz.gov.kg" and digest.language == "en"
    assert "In progress: 1" in digest.body


def test_tracking_page_shows_the_due_date_and_the_extension(client, appeal, people):
    services.extend_deadline(
        appeal_id=appeal.pk, actor=people["head"], reason="Архивные документы"
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=services.codes.hash_access_code("CODE1-CODE2-CODE3")
    )
    client.post(
        "/en/track/",
        {"tracking_number": appeal.tracking_number, "access_code": "CODE1-CODE2-CODE3"},
    )
    html = client.get(f"/en/track/{appeal.tracking_number}/").content.decode()
    assert 'id="appeal-due"' in html
    assert "The review was extended to" in html and "Архивные документы" in html
