"""The inbox counts kept by the database (appeals.casework.inbox_rollup, issue 11): whatever the
services or a bulk update did to appeals and assignments, a head's tab counts equal
the tabs themselves; compaction keeps the sums; the check finds a planted difference
and the rebuild repairs it; two heads working at once neither wait for each other nor
lose a count."""

import datetime as dt
import io
import random
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from appeals.casework import answering, inbox_rollup, routing, worklists
from appeals.deadlines import extensions
from appeals.models import Appeal, Assignment, InboxCount, Status
from tests.factories import AgencyFactory, paper_appeal, staff_member, submit_answer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NAMES = ("health", "labour", "transport")


@pytest.fixture
def world():
    agencies = {
        name: AgencyFactory(slug=f"min-{name}", code=name[:2].upper()) for name in NAMES
    }
    people = {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
    }
    for name, agency in agencies.items():
        people[f"{name}_head"] = staff_member("head", agency)
        people[f"{name}_executor"] = staff_member("executor", agency)
    return {"agencies": agencies, **people}


def _route(w, rng, appeal: Appeal) -> None:
    lead, *others = rng.sample(NAMES, 3)
    co = [w["agencies"][n] for n in others[: rng.randrange(3)]]
    routing.route_appeal(
        appeal_id=appeal.pk,
        actor=w["controller"],
        lead=w["agencies"][lead],
        co_executors=co,
    )


def _working_agency(w, rng, appeal: Appeal) -> str:
    """The name of an agency with an active assignment on the appeal (lead first);
    PermissionDenied, as the services would say, when none has."""
    names = {a.pk: n for n, a in w["agencies"].items()}
    held = list(
        Assignment.objects.filter(appeal=appeal, is_active=True)
        .order_by("-role")  # lead before co_executor
        .values_list("agency_id", flat=True)
    )
    if not held:
        raise PermissionDenied
    return names[held[0] if rng.random() < 0.6 or len(held) == 1 else held[-1]]


def _step(w, rng, appeals: list[Appeal]) -> None:
    """One random real action on one random appeal (or a new one)."""
    action = rng.choice(
        ["register", "route", "route", "assign", "assign", "answer", "return"]
        + ["extend", "bulk_due", "bulk_executor", "end_assignment", "delete"]
    )
    if action == "register" or not appeals:
        appeals.append(paper_appeal(w["clerk"]))
        return
    # Mostly an appeal the action suits (routing a registered one, working on one in
    # an inbox); sometimes any, which the services may refuse.
    suits = Appeal.objects.filter(pk__in=[a.pk for a in appeals]).filter(
        status__in=[Status.REGISTERED]
        if action == "route"
        else worklists.INBOX_STATUSES
    )
    appeal = rng.choice(list(suits.order_by("pk")) or appeals)
    if rng.random() < 0.2:
        appeal = rng.choice(appeals)
    appeal.refresh_from_db()
    if action == "route":
        _route(w, rng, appeal)
    elif action == "assign":  # by the lead's head or a co-executor's
        name = _working_agency(w, rng, appeal)
        routing.assign_executor(
            appeal_id=appeal.pk,
            actor=w[f"{name}_head"],
            executor=w[f"{name}_executor"],
        )
    elif action == "answer":
        name = _working_agency(w, rng, appeal)
        if appeal.status == Status.ROUTED:
            routing.assign_executor(
                appeal_id=appeal.pk,
                actor=w[f"{name}_head"],
                executor=w[f"{name}_executor"],
            )
        submit_answer(appeal, {"executor": w[f"{name}_executor"]}, outcome="explained")
        answering.approve_answer(appeal_id=appeal.pk, actor=w[f"{name}_head"])
    elif action == "return":
        name = _working_agency(w, rng, appeal)
        routing.return_appeal(
            appeal_id=appeal.pk, actor=w[f"{name}_head"], reason="Не наша компетенция."
        )
    elif action == "extend":
        name = _working_agency(w, rng, appeal)
        extensions.extend_deadline(
            appeal_id=appeal.pk,
            actor=w[f"{name}_head"],
            reason="Нужна выездная проверка.",
        )
    elif action == "bulk_due":  # an administrator's fix of many due dates at once
        today = timezone.localdate()
        Appeal.objects.filter(
            pk__in=[a.pk for a in appeals[::2]], status__in=worklists.INBOX_STATUSES
        ).update(due_on=today + dt.timedelta(days=rng.choice([-5, -1, 0, 1, 2, 30])))
    elif action == "bulk_executor":  # and of executors, on all agencies' rows
        Assignment.objects.filter(
            appeal__in=[a.pk for a in appeals[::3]], is_active=True
        ).update(executor=None if rng.random() < 0.5 else w["health_executor"])
    elif action == "end_assignment":
        Assignment.objects.filter(
            appeal=appeal, is_active=True, role=Assignment.Role.CO_EXECUTOR
        ).update(is_active=False, ended_at=timezone.now())
    elif action == "delete":
        appeals.remove(appeal)
        appeal.delete()


def _tab(user, agency, tab) -> int:
    return worklists.inbox_queryset(user=user, agency=agency, tab=tab).count()


def _assert_counts_are_the_tabs(w) -> set[str]:
    """Every head's counts are the tabs' sizes; the tabs that had appeals."""
    seen = set()
    for name, agency in w["agencies"].items():
        head = w[f"{name}_head"]
        counts = worklists.inbox_counts(user=head, agency=agency)
        assert counts == {t: _tab(head, agency, t) for t in worklists.INBOX_TABS}, name
        seen |= {tab for tab, count in counts.items() if count}
    assert inbox_rollup.differences() == (0, [])
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_head_counts_equal_the_tabs_after_random_real_writes(world, seed):
    rng = random.Random(seed)
    appeals: list[Appeal] = []
    done = 0
    seen = set()
    for _n in range(60):
        try:
            with transaction.atomic():
                _step(world, rng, appeals)
            done += 1
        except (ValidationError, PermissionDenied):
            pass  # not allowed in the appeal's state: the services refused it
        seen |= _assert_counts_are_the_tabs(world)
    assert done > 30
    # Every tab had appeals at some step, so the equalities above said something.
    assert seen == set(worklists.INBOX_TABS)


def test_an_update_that_changes_no_counted_column_writes_no_row(world):
    appeal = paper_appeal(world["clerk"])
    _route(world, random.Random(1), appeal)
    rows = InboxCount.objects.count()
    Appeal.objects.filter(pk=appeal.pk).update(kind="proposal", text="Другой текст.")
    Assignment.objects.filter(appeal=appeal).update(cover_note="Срочно.")
    assert InboxCount.objects.count() == rows


def test_compaction_folds_the_deltas_and_keeps_the_sums(world):
    rng = random.Random(4)
    for _n in range(6):
        appeal = paper_appeal(world["clerk"])
        _route(world, rng, appeal)
    health = world["agencies"]["health"]
    head = world["health_head"]
    counts = worklists.inbox_counts(user=head, agency=health)
    assert InboxCount.objects.filter(compacted=False).exists()

    before, after = inbox_rollup.compact()

    assert after < before
    assert not InboxCount.objects.filter(compacted=False).exists()
    assert worklists.inbox_counts(user=head, agency=health) == counts
    assert inbox_rollup.compact() == (0, 0)  # nothing left to fold
    call_command("rebuild_inbox_counts", "--compact", stdout=io.StringIO())
    _assert_counts_are_the_tabs(world)


def test_the_check_finds_a_planted_difference_and_the_rebuild_repairs_it(world):
    rng = random.Random(5)
    for _n in range(4):
        appeal = paper_appeal(world["clerk"])
        _route(world, rng, appeal)
    out = io.StringIO()
    with translation.override("en"):  # the command speaks the active language
        call_command("rebuild_inbox_counts", "--check", stdout=out)
    assert "The inbox counts match the appeals." in out.getvalue()
    health = world["agencies"]["health"]
    head = world["health_head"]
    counts = worklists.inbox_counts(user=head, agency=health)

    # A row nobody should write (as if the triggers had been off during a load).
    InboxCount.objects.create(
        agency_id=health.pk,
        part="lead",
        is_new=True,
        due_on=timezone.localdate() - dt.timedelta(days=1),
        appeals=1,
        compacted=False,
    )

    with (
        translation.override("en"),
        pytest.raises(CommandError, match="differ from the appeals in 1 keys"),
    ):
        call_command(
            "rebuild_inbox_counts",
            "--check",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    planted = worklists.inbox_counts(user=head, agency=health)
    assert planted["new"] == counts["new"] + 1  # the head's counts are the rows
    assert planted["overdue"] == counts["overdue"] + 1
    call_command("rebuild_inbox_counts", stdout=io.StringIO())
    assert worklists.inbox_counts(user=head, agency=health) == counts
    _assert_counts_are_the_tabs(world)


def test_filtered_counts_are_counted_live(world):
    appeal = paper_appeal(world["clerk"], kind="complaint")
    _route(world, random.Random(1), appeal)
    lead = Appeal.objects.get(pk=appeal.pk).lead_agency
    name = next(n for n, a in world["agencies"].items() if a == lead)
    InboxCount.objects.filter(agency_id=lead.pk).delete()  # the rollup says 0
    head = world[f"{name}_head"]
    assert worklists.inbox_counts(user=head, agency=lead)["new"] == 0
    filtered = worklists.inbox_counts(
        user=head, agency=lead, filters=worklists.InboxFilters(kind="complaint")
    )
    assert filtered["new"] == 1


@pytest.mark.django_db(transaction=True)
def test_two_heads_at_once_do_not_wait_for_each_other_and_both_count(world):
    """Two transactions at once each give a routed appeal of the same agency, due the
    same day, to an executor (the same count keys): the second commits while the
    first is still open, and both land."""
    health = world["agencies"]["health"]
    pair = []
    for _n in range(2):
        appeal = paper_appeal(world["clerk"])
        routing.route_appeal(
            appeal_id=appeal.pk, actor=world["controller"], lead=health
        )
        pair.append(appeal)
    Appeal.objects.filter(pk__in=[a.pk for a in pair]).update(
        due_on=timezone.localdate() + dt.timedelta(days=20)
    )
    finished = threading.Event()
    errors: list[BaseException] = []

    def other_head():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '10s'")
                routing.assign_executor(
                    appeal_id=pair[1].pk,
                    actor=world["health_head"],
                    executor=world["health_executor"],
                )
            finished.set()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        routing.assign_executor(
            appeal_id=pair[0].pk,
            actor=world["health_head"],
            executor=world["health_executor"],
        )
        thread = threading.Thread(target=other_head)
        thread.start()
        committed_meanwhile = finished.wait(timeout=15)
    thread.join(timeout=30)

    assert not errors
    assert committed_meanwhile
    counts = worklists.inbox_counts(user=world["health_head"], agency=health)
    assert (counts["new"], counts["in_progress"]) == (0, 2)
    assert inbox_rollup.differences() == (0, [])
