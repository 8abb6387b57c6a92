"""Deadlines on appeals: extension, reminders, escalation, the weekly digest, SMS."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import StaffProfile
from appeals.deadlines import calendar as deadlines
from appeals.deadlines import extensions
from appeals.models import Appeal, Event, Notification
from appeals.notifications import outbox as notifications
from appeals.notifications.sms import LoggingBackend
from appeals.oversight import reminders
from appeals.register import codes
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
        extensions.extend_deadline(appeal_id=appeal.pk, actor=people["head"], reason="")
    old_due = appeal.due_on
    extensions.extend_deadline(
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
        extensions.extend_deadline(
            appeal_id=appeal.pk, actor=people["head"], reason="Again"
        )


def test_extension_beyond_the_limit_is_refused(appeal, people):
    with pytest.raises(ValidationError):
        extensions.extend_deadline(
            appeal_id=appeal.pk,
            actor=people["head"],
            reason="Нужно время",
            until=appeal.due_on + dt.timedelta(days=365),
        )


def test_extension_moves_the_next_escalation(appeal, people):
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    reminders.escalate_overdue(today=day_after)
    extensions.extend_deadline(
        appeal_id=appeal.pk, actor=people["head"], reason="Архив"
    )
    appeal.refresh_from_db()
    assert reminders.escalate_overdue(today=day_after) == 0  # no longer overdue
    later = deadlines.add_working_days(appeal.due_on, 1)
    assert reminders.escalate_overdue(today=later) == 1


def test_sms_is_delivered_through_the_backend(appeal, people):
    extensions.extend_deadline(
        appeal_id=appeal.pk, actor=people["head"], reason="Архив"
    )
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
    extensions.extend_deadline(
        appeal_id=appeal.pk, actor=people["head"], reason="Архивные документы"
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code("CODE1-CODE2-CODE3")
    )
    client.post(
        "/en/track/",
        {"tracking_number": appeal.tracking_number, "access_code": "CODE1-CODE2-CODE3"},
    )
    html = client.get(f"/en/track/{appeal.tracking_number}/").content.decode()
    assert 'id="appeal-due"' in html
    assert "The review was extended to" in html and "Архивные документы" in html


def _more_appeals(count, people, health):
    for _ in range(count):
        route_and_assign(paper_appeal(people["clerk"]), people, health)


def _queries_of(sweep, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        done = sweep(**kwargs)
    return done, len(queries)


def test_sweeps_take_as_many_queries_for_fifty_appeals_as_for_five(
    appeal, people, health
):
    _more_appeals(4, people, health)  # five appeals due the same day
    three_before = deadlines.add_working_days(appeal.due_on, -3)
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    five_reminded, five_reminder_queries = _queries_of(
        reminders.send_reminders, today=three_before
    )
    five_escalated, five_escalation_queries = _queries_of(
        reminders.escalate_overdue, today=day_after
    )
    assert (five_reminded, five_escalated) == (5, 5)

    _more_appeals(45, people, health)  # the same deadline: fifty in all
    fifty_reminded, fifty_reminder_queries = _queries_of(
        reminders.send_reminders, today=three_before
    )
    fifty_escalated, fifty_escalation_queries = _queries_of(
        reminders.escalate_overdue, today=day_after
    )
    assert (fifty_reminded, fifty_escalated) == (45, 45)  # the first five: done
    assert _staff_notices("reminder").count() == 50
    assert _staff_notices("overdue").count() == 100  # the head and the controller
    assert Event.objects.filter(type=Event.Type.OVERDUE).count() == 50
    assert fifty_reminder_queries == five_reminder_queries <= 8
    assert fifty_escalation_queries == five_escalation_queries <= 12


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_sweep_notices_read_as_those_queued_one_by_one(appeal, people, language):
    """The bulk path renders the same subject and body, in the same language, as
    queue_staff does for one notice."""
    StaffProfile.objects.filter(user=people["executor"]).update(language=language)
    StaffProfile.objects.create(user=people["head"], language=language)
    people["executor"].refresh_from_db()
    people["head"].refresh_from_db()
    three_before = deadlines.add_working_days(appeal.due_on, -3)
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    reminders.send_reminders(today=three_before)
    reminders.escalate_overdue(today=day_after)
    appeal.refresh_from_db()
    expected = [
        (people["executor"], "reminder", {"appeal": appeal, "days": 3}),
        (people["head"], "overdue", {"appeal": appeal}),
        (people["controller"], "overdue", {"appeal": appeal}),
    ]
    swept_notices = {
        (notice.user_id, notice.template): notice
        for notice in Notification.objects.filter(user__isnull=False)
    }
    reminder = swept_notices[people["executor"].pk, "staff_reminder"]
    assert appeal.registration_number in reminder.subject
    assert f"/{language}/staff/inbox/{appeal.pk}/" in reminder.body
    assert reminder.language == language
    for user, template, context in expected:
        swept = swept_notices[user.pk, f"staff_{template}"]
        single = notifications.queue_staff(
            user=user, template=template, context=context, appeal=appeal
        )
        assert (swept.subject, swept.body, swept.language, swept.recipient) == (
            single.subject,
            single.body,
            single.language,
            single.recipient,
        )


def test_sweep_notices_are_enqueued_for_delivery_once_committed(
    appeal, people, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(
        "appeals.notifications.outbox.deliver_notifications.apply_async",
        lambda args, **options: enqueued.extend(args[0]),
    )
    day_after = deadlines.add_working_days(appeal.due_on, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.escalate_overdue(today=day_after) == 1
    assert sorted(enqueued) == sorted(
        _staff_notices("overdue").values_list("pk", flat=True)
    )
    assert len(enqueued) == 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert reminders.escalate_overdue(today=day_after) == 0
    assert callbacks == [] and len(enqueued) == 2  # nothing new, nothing enqueued


def test_a_key_written_by_a_parallel_sweep_is_skipped(appeal, people):
    """The insert skips a dedup key that appeared after the look-up (ON CONFLICT)."""
    three_before = deadlines.add_working_days(appeal.due_on, -3)
    notice = notifications.StaffNotice(
        user=people["executor"],
        template="reminder",
        context={"appeal": appeal, "days": 3},
        appeal=appeal,
        dedup_key="reminder:parallel",
    )
    row = notifications._staff_row(notice)
    assert notifications._insert_skipping_written_keys([row]) != []
    again = notifications._staff_row(notice)
    assert notifications._insert_skipping_written_keys([again]) == []
    assert Notification.objects.filter(dedup_key="reminder:parallel").count() == 1
    assert reminders.send_reminders(today=three_before) == 1


def test_an_sms_backend_named_by_its_home_before_the_split_still_loads(
    appeal, people, settings
):
    """Deployments set SMS_BACKEND=appeals.sms.… before issue 27 split the app."""
    settings.SMS_BACKEND = "appeals.sms.LoggingBackend"
    extensions.extend_deadline(
        appeal_id=appeal.pk, actor=people["head"], reason="Архив"
    )
    notice = Notification.objects.get(appeal=appeal, template="extended")
    assert notifications.deliver(notice.pk)
    assert LoggingBackend.sent[-1][0] == "+996 555 000 111"
