"""Who may open what: every staff URL, and the citizen's answer letter, against every
kind of visitor, on appeals built once through the real services.

Expectations: anonymous visitors are sent to the staff login; people without the role a
view needs get 403; people with the role but not the appeal get 404 (the views answer
as if an appeal outside one's scope did not exist, so its number reveals nothing);
everyone else 200.

The system administrator (a Django superuser with no membership) keeps agencies, users,
topics and the calendar in the Django admin. The staff workspace opens by membership
only (permissions.role_required reads roles, never is_superuser), so the superuser gets
403 there like a user with no role: being the technician does not open citizens'
appeals. An administrator who also works on appeals is given a membership like anyone
else. What the superuser does see is the read-only AppealAdmin (last test).
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from appeals.casework import answering, routing
from appeals.intake import filing
from appeals.models import Appeal, Attachment, DataSubjectRequest, Event, Status
from appeals.privacy import subject_access
from appeals.urls_staff import urlpatterns as staff_urlpatterns
from tests.factories import (
    AgencyFactory,
    ministry_of_health,
    paper_scan,
    presidents_letter,
    staff_member,
)
from tests.files import pdf_bytes
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

ANSWER = "Проверка проведена: пособие будет выплачено до конца месяца вместе с долгом."

OK = 200
FORBIDDEN = 403
HIDDEN = 404
LOGIN = "login"  # 302 to the staff login page
HOME = "home"  # 302 to the workspace: the login page of someone already logged in
CARD = "card"  # 302 to the appeal's card: the queue page of an appeal already handled
DATA_REQUEST_PAGE = "data_request"  # 302 to the request's page: marked answered

# The columns of EXPECTED, in this order.
ACTORS = (
    "anonymous",
    "citizen",  # entered the tracking number and code of the answered appeal
    "head_a",  # head of agency A, the lead agency
    "executor_a",  # the executor A's head assigned
    "colleague_a",  # another executor of A, not assigned
    "head_b",
    "executor_b",
    "clerk_b",  # agency B keeps its own register
    "controller",  # Government Apparatus
    "clerk",  # Government Apparatus: registered both appeals
    "manager",  # Government Apparatus
    "admin",  # superuser, no membership (see the module's docstring)
    "no_role",  # logged in, no membership
)


@dataclass(frozen=True)
class Case:
    url_name: str
    target: str = ""  # the object of the world the URL points at
    method: str = "get"
    query: str = ""


CASES = {
    "login": Case("staff:login"),
    "two_factor": Case("staff:two_factor"),
    "two_factor_setup": Case("staff:two_factor_setup"),
    "logout": Case("staff:logout", method="post"),
    "dashboard": Case("staff:dashboard"),
    "queue": Case("staff:queue"),
    "queue_item": Case("staff:queue_item", "submitted"),
    "queue_item_registered": Case("staff:queue_item", "in_work"),
    "register_written": Case("staff:register_written"),
    "register_oral": Case("staff:register_oral"),
    "suggest_topic": Case("staff:suggest_topic", method="post"),
    "card": Case("staff:card", "in_work"),
    "card_answered": Case("staff:card", "answered"),
    "attachment": Case("staff:attachment", "scan"),
    "controllers_queue": Case("staff:controllers_queue"),
    "route": Case("staff:route", "in_work"),
    "inbox": Case("staff:inbox", query="?tab=in_progress"),
    "work": Case("staff:work", "in_work"),
    "work_answered": Case("staff:work", "answered"),
    "journal": Case("staff:journal"),
    "journal_csv": Case("staff:journal_export", "csv"),
    "journal_xlsx": Case("staff:journal_export", "xlsx"),
    "answer_letter": Case("appeals:answer_letter", "answered"),
    "staff_answer_letter": Case("staff:answer_letter", "answer"),
    "figures": Case("staff:figures"),
    "figure_appeals": Case("staff:figure_appeals", query="?figure=received"),
    "data_requests": Case("staff:data_requests"),
    "data_request_new": Case("staff:data_request_new"),
    "data_request": Case("staff:data_request", "data_request"),
    "data_request_pdf": Case("staff:data_request_pdf", "data_request"),
    "data_request_answered": Case(
        "staff:data_request_answered", "data_request", method="post"
    ),
}

L, H, F = LOGIN, HIDDEN, FORBIDDEN
JOURNAL = (L, L, OK, F, F, OK, F, OK, OK, OK, OK, F, F)
# Requests for personal data on paper: the clerks of the agency that recorded them.
DATA_REQUESTS = (L, L, F, F, F, F, F, OK, F, OK, F, F, F)
DATA_REQUEST = (L, L, F, F, F, F, F, H, F, OK, F, F, F)
DATA_REQUEST_ANSWERED = (L, L, F, F, F, F, F, H, F, DATA_REQUEST_PAGE, F, F, F)
# fmt: off
EXPECTED = {
    #                       anon cit head_a ex_a col_a head_b ex_b clerk_b ctrl clerk mgr admin none
    "login":                (OK, OK, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    # The code step of a confirmed session goes on to the workspace; anyone logged in
    # may connect a (new) authenticator app.
    "two_factor":           (L,  L,  HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME),
    "two_factor_setup":     (L,  L,  OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    "logout":               (L,  L,  L,    L,    L,    L,    L,    L,    L,    L,    L,    L,    L),
    "dashboard":            (L,  L,  OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   F,    F),
    "queue":                (L,  L,  F,    F,    F,    F,    F,    OK,   F,    OK,   F,    F,    F),
    # Portal submissions are one national queue: every clerk sees them.
    "queue_item":           (L,  L,  F,    F,    F,    F,    F,    OK,   F,    OK,   F,    F,    F),
    # A registered appeal is no longer in that queue: its register's clerks are sent
    # to its card, other clerks find nothing.
    "queue_item_registered": (L, L,  F,    F,    F,    F,    F,    H,    F,    CARD, F,    F,    F),
    "register_written":     (L,  L,  F,    F,    F,    F,    F,    OK,   F,    OK,   F,    F,    F),
    "register_oral":        (L,  L,  F,    F,    F,    F,    F,    OK,   F,    OK,   F,    F,    F),
    "suggest_topic":        (L,  L,  F,    F,    F,    F,    F,    OK,   F,    OK,   F,    F,    F),
    # Managers read statistics only (design.md): no card, file or letter of any
    # agency, their own included.
    "card":                 (L,  L,  OK,   OK,   H,    H,    H,    H,    OK,   OK,   H,    F,    F),
    # The lead agency keeps seeing the appeal it answered.
    "card_answered":        (L,  L,  OK,   OK,   H,    H,    H,    H,    OK,   OK,   H,    F,    F),
    "attachment":           (L,  L,  OK,   OK,   H,    H,    H,    H,    OK,   OK,   H,    F,    F),
    "controllers_queue":    (L,  L,  F,    F,    F,    F,    F,    F,    OK,   F,    F,    F,    F),
    "route":                (L,  L,  F,    F,    F,    F,    F,    F,    OK,   F,    F,    F,    F),
    # Every head and executor has an inbox; whose appeals are in it: see LISTED.
    "inbox":                (L,  L,  OK,   OK,   OK,   OK,   OK,   F,    F,    F,    F,    F,    F),
    "work":                 (L,  L,  OK,   OK,   H,    H,    H,    F,    F,    F,    F,    F,    F),
    "work_answered":        (L,  L,  OK,   OK,   H,    H,    H,    F,    F,    F,    F,    F,    F),
    "journal":              JOURNAL,
    "journal_csv":          JOURNAL,
    "journal_xlsx":         JOURNAL,
    # Only with the access code in the session; staff have no way in here.
    "answer_letter":        (H,  OK, H,    H,    H,    H,    H,    H,    H,    H,    H,    H,    H),
    # Staff download the letter through their own permission-checked view.
    "staff_answer_letter":  (L,  L,  OK,   OK,   H,    H,    H,    H,    OK,   OK,   H,    F,    F),
    # Figures: controllers, heads (their agency) and managers; lists stay in scope.
    "figures":              (L,  L,  OK,   F,    F,    OK,   F,    F,    OK,   F,    OK,   F,    F),
    "figure_appeals":       (L,  L,  OK,   F,    F,    OK,   F,    F,    OK,   F,    OK,   F,    F),
    "data_requests":        DATA_REQUESTS,
    "data_request_new":     DATA_REQUESTS,
    "data_request":         DATA_REQUEST,
    "data_request_pdf":     DATA_REQUEST,
    "data_request_answered": DATA_REQUEST_ANSWERED,
}
# fmt: on

# Cells where the code differs from the expectation: the bug, and the fix proposed.
KNOWN_BUGS: dict[tuple[str, str], str] = {}

# Which of the world's appeals a list or export shows to whom (everyone else with
# access to the list must not find them there).
GA_REGISTER = {"in_work", "answered"}
LISTED = {
    ("inbox", "head_a"): {"in_work"},
    ("inbox", "executor_a"): {"in_work"},
    **{
        (case, actor): GA_REGISTER
        for case in ("journal", "journal_csv", "journal_xlsx")
        for actor in ("controller", "clerk", "manager")
    },
    # The appeals behind a figure: those the viewer may open (a manager counts them
    # but opens none).
    ("figure_appeals", "head_a"): {"in_work", "answered"},
    ("figure_appeals", "controller"): GA_REGISTER,
    # The register of requests names the appeals concerned (the GA clerk's request).
    ("data_requests", "clerk"): {"in_work"},
}
LIST_CASES = (
    "inbox",
    "journal",
    "journal_csv",
    "journal_xlsx",
    "figure_appeals",
    "data_requests",
)


@dataclass
class World:
    users: dict
    in_work: Appeal  # routed to A, executor assigned, with a scan
    answered: Appeal  # answered by A and closed: the letter exists
    answered_code: str
    submitted: Appeal  # a portal submission waiting for the clerks
    scan: Attachment
    data_request: DataSubjectRequest  # recorded by the GA clerk about in_work

    def target(self, name: str):
        return getattr(self, name)

    @property
    def answer(self):
        return self.answered.answers.get(state="approved")


def _build_world() -> World:
    agency_a = ministry_of_health()
    agency_b = AgencyFactory(
        slug="min-labour",
        code="MT",
        name_ru="Министерство труда",
        name_ky="Эмгек министрлиги",
        name_en="Ministry of Labour",
    )
    users = {
        "head_a": staff_member("head", agency_a, username="head-a"),
        "executor_a": staff_member("executor", agency_a, username="executor-a"),
        "colleague_a": staff_member("executor", agency_a, username="colleague-a"),
        "head_b": staff_member("head", agency_b, username="head-b"),
        "executor_b": staff_member("executor", agency_b, username="executor-b"),
        "clerk_b": staff_member("clerk", agency_b, username="clerk-b"),
        "controller": staff_member("controller", username="controller"),
        "clerk": staff_member("clerk", username="clerk"),
        "manager": staff_member("manager", username="manager"),
        "admin": get_user_model().objects.create_superuser(
            "admin", "admin@example.kg", "a-long-test-password"
        ),
        "no_role": get_user_model().objects.create_user(
            "no-role", password="a-long-test-password"
        ),
    }

    def register(name: str, **extra) -> tuple[Appeal, str]:
        appeal, code = presidents_letter(users["clerk"], name, **extra)
        routing.route_appeal(
            appeal_id=appeal.pk, actor=users["controller"], lead=agency_a
        )
        routing.assign_executor(
            appeal_id=appeal.pk, actor=users["head_a"], executor=users["executor_a"]
        )
        return appeal, code

    in_work, _code = register(
        "Иванова Мария Петровна",
        files=[paper_scan()],
    )
    answered, answered_code = register("Петров Иван Сергеевич")
    answering.save_answer_draft(
        appeal_id=answered.pk,
        actor=users["executor_a"],
        text=ANSWER,
        outcome="supported",
        submit=True,
    )
    answering.approve_answer(appeal_id=answered.pk, actor=users["head_a"])
    submitted = filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө түнкүсүн жарык жок.",
        language="ky",
        kind="complaint",
    ).appeal
    for appeal in (in_work, answered):
        appeal.refresh_from_db()
    data_request = subject_access.record_request(
        actor=users["clerk"],
        agency=in_work.registering_agency,
        requester_name="Иванова Мария Петровна",
        requester_contact="",
        appeals=[in_work],
        received_on=in_work.received_on,
    )
    return World(
        users=users,
        in_work=in_work,
        answered=answered,
        answered_code=answered_code,
        submitted=submitted,
        scan=in_work.attachments.get(),
        data_request=data_request,
    )


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_root(settings, media_dir):
    """Replaces conftest's per-test folder: the world's files are made once."""
    settings.MEDIA_ROOT = media_dir


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_dir):
    """Built once (a dozen password hashes and a PDF), inside a transaction that each
    test's own one nests in as a savepoint, and rolled back after the module."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media_dir),
        transaction.atomic(),
    ):
        yield _build_world()
        transaction.set_rollback(True)


def _url(case: Case, world: World) -> str:
    name = case.url_name.split(":")[1]
    if name == "journal_export":
        kwargs = {"fmt": case.target}
    elif case.url_name == "appeals:answer_letter":
        kwargs = {"tracking_number": world.answered.tracking_number}
    elif case.target:
        kwargs = {"pk": world.target(case.target).pk}
    else:
        kwargs = {}
    with translation.override("en"):
        return reverse(case.url_name, kwargs=kwargs) + case.query


def _client_for(actor: str, world: World) -> Client:
    client = Client()
    if actor == "citizen":
        with translation.override("en"):
            track = reverse("appeals:track")
        response = client.post(
            track,
            {
                "tracking_number": world.answered.tracking_number,
                "access_code": world.answered_code,
            },
        )
        assert response.status_code == 302, "the citizen's code was not accepted"
    elif actor != "anonymous":
        login_staff(client, world.users[actor])
    return client


def _body(response) -> bytes:
    # The test client closes the response itself (a streaming one once read); a
    # second close() would fire request_finished and close the connection mid-test.
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _cells():
    for name, row in EXPECTED.items():
        for actor, expected in zip(ACTORS, row, strict=True):
            bug = KNOWN_BUGS.get((name, actor))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(name, actor, expected, id=f"{name}-{actor}", marks=marks)


@pytest.mark.parametrize(("case_name", "actor", "expected"), _cells())
def test_permission_matrix(world, case_name, actor, expected):
    case = CASES[case_name]
    client = _client_for(actor, world)
    url = _url(case, world)
    response = getattr(client, case.method)(url)
    body = _body(response)
    with translation.override("en"):
        login_url = reverse("staff:login")
        home_url = reverse("staff:dashboard")
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(login_url)
    elif expected == HOME:
        assert response.status_code == 302
        assert response["Location"] == home_url
    elif expected == DATA_REQUEST_PAGE:
        assert response.status_code == 302
        with translation.override("en"):
            page = reverse("staff:data_request", args=[world.data_request.pk])
        assert response["Location"] == page
    elif expected == CARD:
        assert response.status_code == 302
        with translation.override("en"):
            card_url = reverse("staff:card", args=[world.in_work.pk])
        assert response["Location"] == card_url
    else:
        assert response.status_code == expected
    if expected == OK and case_name == "attachment":
        assert body == pdf_bytes()
        assert response["X-Content-Type-Options"] == "nosniff"
    if expected == OK and case_name in (
        "answer_letter",
        "staff_answer_letter",
        "data_request_pdf",
    ):
        assert body.startswith(b"%PDF")
    if expected in (FORBIDDEN, HIDDEN):
        # A refusal never carries the applicant's data.
        assert world.in_work.applicant_name.encode() not in body
        assert world.answered.applicant_name.encode() not in body


def test_every_staff_url_has_a_row_in_the_matrix():
    staff_names = {f"staff:{pattern.name}" for pattern in staff_urlpatterns}
    covered = {case.url_name for case in CASES.values()}
    assert staff_names - covered == set(), "add these URLs to CASES and EXPECTED"
    assert set(EXPECTED) == set(CASES)
    assert all(len(row) == len(ACTORS) for row in EXPECTED.values())


def _appeals_found(case_name: str, body: bytes, world: World) -> set[str]:
    if case_name == "journal_xlsx":
        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        text = "\n".join(
            str(value) for row in sheet.iter_rows(values_only=True) for value in row
        )
    elif case_name == "journal_csv":
        text = "\n".join(
            ";".join(row)
            for row in csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
        )
    else:
        text = body.decode()
    return {
        name
        for name in ("in_work", "answered")
        if world.target(name).registration_number in text
    }


def _list_cells():
    for name in LIST_CASES:
        for actor, expected in zip(ACTORS, EXPECTED[name], strict=True):
            if expected == OK:
                yield pytest.param(name, actor, id=f"{name}-{actor}")


@pytest.mark.parametrize(("case_name", "actor"), _list_cells())
def test_lists_and_exports_show_only_appeals_within_scope(world, case_name, actor):
    client = _client_for(actor, world)
    response = client.get(_url(CASES[case_name], world))
    assert response.status_code == 200
    found = _appeals_found(case_name, _body(response), world)
    assert found == LISTED.get((case_name, actor), set())


APPEAL_LINK = re.compile(r'href="/en/staff/(appeals|attachments|answers|inbox)/\d+')


def test_the_managers_pages_offer_no_way_into_an_appeal(world):
    """Managers read statistics: the journal's numbers lead nowhere, the figures'
    lists are empty, and the menus offer the figures, the journal and the reports."""
    client = _client_for("manager", world)
    with translation.override("en"):
        pages = {
            name: reverse(name)
            for name in (
                "staff:dashboard",
                "staff:journal",
                "staff:figures",
                "reports:manager",
            )
        }
    pages["staff:figure_appeals"] = _url(CASES["figure_appeals"], world)
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert APPEAL_LINK.search(html) is None, name
        for menu in ("staff:figures", "staff:journal", "reports:manager"):
            assert f'href="{pages[menu]}"' in html, (name, menu)
    journal = client.get(pages["staff:journal"]).content.decode()
    assert world.in_work.registration_number in journal
    # The others still reach the card from the journal.
    clerk = _client_for("clerk", world).get(pages["staff:journal"]).content.decode()
    assert f'href="/en/staff/appeals/{world.in_work.pk}/"' in clerk


FILLED_ANSWER = {"outcome": "supported", "text": ANSWER}
ATTEMPTS = [
    ("head_b", "work", {"action": "approve"}, HIDDEN),
    ("head_b", "work", {"action": "return", "reason": "Не наш вопрос."}, HIDDEN),
    ("executor_b", "work", {"action": "submit", **FILLED_ANSWER}, HIDDEN),
    ("colleague_a", "work", {"action": "draft", **FILLED_ANSWER}, HIDDEN),
    ("clerk", "work", {"action": "return", "reason": "Не наш вопрос."}, FORBIDDEN),
    ("executor_a", "work", {"action": "approve"}, FORBIDDEN),
    ("head_a", "route", {"action": "route", "lead": "min-labour"}, FORBIDDEN),
    (
        "manager",
        "route",
        {"action": "forward", "body": "Жогорку сот", "letter_number": "07-55"},
        FORBIDDEN,
    ),
]


@pytest.mark.parametrize(
    ("actor", "case_name", "data", "expected"),
    [
        pytest.param(*attempt, id=f"{attempt[0]}-{attempt[1]}-{attempt[2]['action']}")
        for attempt in ATTEMPTS
    ],
)
def test_outsiders_cannot_act_on_the_appeal(world, actor, case_name, data, expected):
    client = _client_for(actor, world)
    events = world.in_work.events.count()
    response = client.post(_url(CASES[case_name], world), data)
    assert response.status_code == expected
    appeal = Appeal.objects.get(pk=world.in_work.pk)
    assert appeal.status == Status.IN_PROGRESS
    assert appeal.events.count() == events
    assert not appeal.answers.exists()
    assert appeal.assignments.get(is_active=True).executor == world.users["executor_a"]


def test_files_are_not_reachable_under_any_public_url(world, client):
    letter = world.answered.answers.get().letter
    for name in (world.scan.file.name, letter.name):
        assert (settings.MEDIA_ROOT / name).exists()
        for prefix in (settings.MEDIA_URL, "/media/", "/en/media/"):
            response = client.get(prefix + name, follow=True)
            assert response.status_code == 404, prefix + name
            assert b"%PDF" not in _body(response)


def test_superuser_reads_appeals_only_in_the_django_admin(world):
    """The administrator's window on appeals is the read-only Django admin; staff
    without is_staff are sent to its login."""
    url = f"/en/admin/appeals/appeal/{world.in_work.pk}/change/"
    admin = _client_for("admin", world)
    assert admin.get(url).status_code == 200
    assert admin.get(_url(CASES["card"], world)).status_code == 403
    head = _client_for("head_a", world)
    response = head.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/admin/login/")


def test_the_world_was_built_through_the_services(world):
    """The matrix is about these states; if a service changes them, say so here."""
    assert world.in_work.status == Status.IN_PROGRESS
    assert world.answered.status == Status.CLOSED and world.answered.is_answered
    assert world.submitted.status == Status.SUBMITTED
    assert world.in_work.events.filter(type=Event.Type.ASSIGNED).exists()
