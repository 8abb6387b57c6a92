"""The retention period: personal data of appeals closed longer ago than the period is
removed, the register, the answers and the figures stay, a dry run changes nothing."""

import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.citizen import additions, withdrawal
from appeals.intake import filing
from appeals.models import (
    Addition,
    Appeal,
    Event,
    Notification,
    PersonalDataAccess,
    Rating,
    Status,
)
from appeals.privacy import retention
from appeals.register import lookups, state
from portal.periods import parse_period
from reports.render import render_json
from reports.selectors import build_intake_report
from tests.factories import (
    AgencyFactory,
    paper_scan,
    presidents_letter,
    staff_member,
)
from tests.files import png_bytes
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

ANSWER = "Проверка проведена: пособие будет выплачено до конца месяца вместе с долгом."
LATER = dt.timedelta(days=400)  # the retention runs this long after the test's day


@dataclass
class Office:
    clerk: object
    controller: object
    head: object
    executor: object
    agency: Agency
    ga: Agency

    def register(self, name: str, *, with_scan: bool = False) -> tuple[Appeal, str]:
        files = [paper_scan()] if with_scan else []
        appeal, code = presidents_letter(
            self.clerk, name, applicant_phone="+996 555 123 456", files=files
        )
        routing.route_appeal(
            appeal_id=appeal.pk, actor=self.controller, lead=self.agency
        )
        routing.assign_executor(
            appeal_id=appeal.pk, actor=self.head, executor=self.executor
        )
        return appeal, code

    def answer(self, appeal: Appeal) -> None:
        answering.save_answer_draft(
            appeal_id=appeal.pk,
            actor=self.executor,
            text=ANSWER,
            outcome="supported",
            submit=True,
        )
        answering.approve_answer(appeal_id=appeal.pk, actor=self.head)


@pytest.fixture
def office():
    agency = AgencyFactory(slug="min-health", code="MZ")
    return Office(
        clerk=staff_member("clerk"),
        controller=staff_member("controller"),
        head=staff_member("head", agency),
        executor=staff_member("executor", agency),
        agency=agency,
        ga=Agency.objects.get(slug="gov-apparatus"),
    )


@pytest.fixture
def closed(office, django_capture_on_commit_callbacks):
    """An answered appeal with a scan, a letter, a rating with a comment, citizen
    notifications and a record of a staff member opening its data."""
    with django_capture_on_commit_callbacks(execute=True):
        appeal, code = office.register("Петров Иван Сергеевич", with_scan=True)
        office.answer(appeal)
        answering.rate_answer(
            appeal_id=appeal.pk,
            score=4,
            addressed=True,
            comment="Спасибо, Иван Петров доволен, звоните 0555 123 456.",
        )
        state.record_personal_data_access(
            appeal=appeal, user=office.head, what="card", ip="10.0.0.1"
        )
    appeal.refresh_from_db()
    appeal.code = code
    return appeal


@pytest.fixture
def in_work(office):
    appeal, _code = office.register("Иванова Мария Петровна", with_scan=True)
    return appeal


def _files_of(appeal: Appeal) -> list[str]:
    names = [a.file.name for a in appeal.attachments.all()]
    names += [a.letter.name for a in appeal.answers.exclude(letter="")]
    return names


def _remove(**kwargs):
    return retention.remove_expired_personal_data(
        older_than_days=365, now=timezone.now() + LATER, **kwargs
    )


def test_personal_data_of_a_long_closed_appeal_is_removed(
    closed, django_capture_on_commit_callbacks
):
    files = _files_of(closed)
    assert len(files) == 2 and all(default_storage.exists(name) for name in files)
    assert lookups.appeal_for_citizen(
        tracking_number=closed.tracking_number, access_code=closed.code
    )
    assert closed.notifications.filter(user__isnull=True).exists()

    with django_capture_on_commit_callbacks(execute=True):  # files go after commit
        result = _remove()

    assert (result.appeals, result.files, result.access_records) == (1, 2, 1)
    appeal = Appeal.objects.get(pk=closed.pk)
    for field in (
        "applicant_name",
        "applicant_address",
        "applicant_phone",
        "applicant_email",
        "applicant_name_key",
        "applicant_phone_key",
        "text",
        "access_code_hash",
    ):
        assert getattr(appeal, field) == "", field
    assert appeal.personal_data_removed_at is not None
    assert not appeal.attachments.exists()
    assert not any(default_storage.exists(name) for name in files)
    assert not PersonalDataAccess.objects.filter(appeal=appeal).exists()
    rating = Rating.objects.get(appeal=appeal)
    assert (rating.score, rating.addressed, rating.comment) == (4, True, "")
    for notification in Notification.objects.filter(appeal=appeal, user__isnull=True):
        assert notification.recipient == notification.body == ""
    # The citizen's tracking code no longer opens it.
    assert (
        lookups.appeal_for_citizen(
            tracking_number=appeal.tracking_number, access_code=closed.code
        )
        is None
    )
    # The register and the state's answer stay.
    assert appeal.registration_number == closed.registration_number
    assert (appeal.status, appeal.outcome) == (Status.CLOSED, "supported")
    answer = appeal.answers.get()
    assert answer.text == ANSWER and not answer.letter
    event = appeal.events.get(type=Event.Type.PERSONAL_DATA_REMOVED)
    assert event.data == {"retention_days": 365} and not event.is_public
    with translation.override("en"):
        assert str(event.get_type_display()) == (
            "personal data removed under the retention period"
        )


def test_staff_pages_say_the_name_was_removed_rather_than_show_an_empty_cell(
    closed, office, client, django_capture_on_commit_callbacks
):
    login_staff(client, office.clerk)
    with translation.override("ru"):
        card = reverse("staff:card", args=[closed.pk])
        note = translation.gettext("personal data removed after the retention period")
    assert card.startswith("/ru/")
    assert "Петров Иван Сергеевич" in client.get(card).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _remove()
    page = client.get(card).content.decode()
    assert "Петров" not in page
    assert note in page


def test_open_and_recently_closed_appeals_keep_their_data(
    closed, in_work, django_capture_on_commit_callbacks
):
    files = _files_of(in_work)
    result = retention.remove_expired_personal_data(
        older_than_days=500, now=timezone.now() + LATER
    )
    assert result.appeals == 0
    assert Appeal.objects.get(pk=closed.pk).applicant_name == "Петров Иван Сергеевич"
    with django_capture_on_commit_callbacks(execute=True):
        _remove()
    kept = Appeal.objects.get(pk=in_work.pk)
    assert kept.applicant_name == "Иванова Мария Петровна"
    assert kept.text and kept.personal_data_removed_at is None
    assert all(default_storage.exists(name) for name in files)
    assert not kept.events.filter(type=Event.Type.PERSONAL_DATA_REMOVED).exists()


def test_the_figures_of_the_reports_do_not_change(closed, in_work, office):
    period = parse_period(str(timezone.localdate().year))
    moment = timezone.now() + dt.timedelta(days=1)

    def figures(language: str) -> bytes:
        return render_json(
            build_intake_report(period=period, language=language, now=moment)
        )

    before = {lang: figures(lang) for lang in ("ky", "en")}
    assert b'"written_total": 2' in before["en"]
    assert _remove().appeals == 1
    assert {lang: figures(lang) for lang in ("ky", "en")} == before


def test_a_second_run_finds_nothing_more(closed):
    assert _remove().appeals == 1
    events = Event.objects.count()
    again = _remove()
    assert (again.appeals, again.files, again.access_records) == (0, 0, 0)
    assert Event.objects.count() == events


def test_batches_go_on_until_every_expired_appeal_is_done(office):
    for name in ("Асанов Бакыт", "Ким Ольга", "Петров Сергей"):
        appeal, _code = office.register(name)
        office.answer(appeal)
    result = _remove(batch_size=2)
    assert result.appeals == 3
    assert not Appeal.objects.exclude(applicant_name="").exists()
    assert Event.objects.filter(type=Event.Type.PERSONAL_DATA_REMOVED).count() == 3


def test_the_period_defaults_to_the_setting(closed, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 500
    now = timezone.now() + LATER
    assert retention.remove_expired_personal_data(now=now).appeals == 0
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    assert retention.remove_expired_personal_data(now=now).appeals == 1


def test_a_dry_run_counts_and_changes_nothing(closed, capsys):
    files = _files_of(closed)
    snapshot = Appeal.objects.values().get(pk=closed.pk)
    result = _remove(dry_run=True)
    assert (result.appeals, result.files, result.access_records) == (1, 2, 1)
    assert Appeal.objects.values().get(pk=closed.pk) == snapshot
    assert all(default_storage.exists(name) for name in files)
    assert PersonalDataAccess.objects.count() == 1
    assert not Event.objects.filter(type=Event.Type.PERSONAL_DATA_REMOVED).exists()


def test_the_command_reports_what_it_did(closed, capsys):
    call_command("remove_expired_personal_data", "--dry-run", "--older-than-days=1")
    out = capsys.readouterr().out
    # Closed today: not yet a day old.
    assert out.startswith("Dry run, nothing changed.")
    assert "would be removed: 0;" in out
    call_command("remove_expired_personal_data", "--older-than-days=1")
    assert "Personal data removed" in capsys.readouterr().out
    assert Appeal.objects.get(pk=closed.pk).applicant_name == "Петров Иван Сергеевич"


def test_the_command_refuses_a_period_shorter_than_a_day():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("remove_expired_personal_data", "--older-than-days=0")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_appeal_a_clerk_holds_locked_is_left_for_the_next_run(office):
    """SKIP LOCKED: the sweep never waits for (or blocks) someone working."""
    locked, _code = office.register("Асанов Бакыт")
    office.answer(locked)
    other, _code = office.register("Ким Ольга")
    office.answer(other)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Appeal.objects.select_for_update().get(pk=locked.pk)
            holding.set()
            release.wait(timeout=30)
        connection.close()

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert holding.wait(timeout=10)
        assert _remove().appeals == 1
        assert Appeal.objects.get(pk=locked.pk).applicant_name == "Асанов Бакыт"
        assert Appeal.objects.get(pk=other.pk).applicant_name == ""
    finally:
        release.set()
        worker.join(timeout=30)
    assert _remove().appeals == 1
    assert Appeal.objects.get(pk=locked.pk).applicant_name == ""


def test_what_the_citizen_added_or_said_on_withdrawing_is_removed_too(
    office, django_capture_on_commit_callbacks
):
    appeal, _code = office.register("Сыдыкова Айгүл")
    with django_capture_on_commit_callbacks(execute=True):
        addition = additions.add_to_appeal(
            appeal_id=appeal.pk,
            text="Мой новый телефон 0700 111 222, звоните после шести.",
            files=[
                filing.NewAttachment(
                    name="справка.png", content_type="image/png", content=png_bytes()
                )
            ],
        )
        withdrawal.withdraw_appeal(
            appeal_id=appeal.pk, reason="Айгүл Сыдыкова решила вопрос сама."
        )
    stored = addition.attachments.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        _remove()
    appeal.refresh_from_db()
    assert appeal.outcome == "withdrawn" and appeal.outcome_reason == ""
    assert Addition.objects.get(pk=addition.pk).text == ""
    assert not addition.attachments.exists()
    assert not default_storage.exists(stored)
    withdrawn = appeal.events.get(type=Event.Type.WITHDRAWN)
    assert withdrawn.data == {}
