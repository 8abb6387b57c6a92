"""Mass appeals: many applicants, one matter, one answer, each notified in their own
language."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from appeals.casework import answering, worklists
from appeals.models import Appeal, Notification, Status
from appeals.register import lookups
from tests.factories import (
    AgencyFactory,
    TopicFactory,
    answer_appeal,
    paper_appeal,
    staff_member,
)

pytestmark = pytest.mark.django_db
TEXT = "Просим отремонтировать дорогу по улице Ахунбаева: ямы глубиной до полуметра."


@pytest.fixture
def setting():
    health = AgencyFactory(
        slug="bishkek-mayor",
        code="BSM",
        name_ru="Мэрия",
        name_ky="Мэрия",
        name_en="City Hall",
    )
    topic = TopicFactory(code="roads")
    people = {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
    }
    appeals = []
    for i, language in enumerate(["ru", "ky", "en", "ru"]):
        appeals.append(
            paper_appeal(
                people["clerk"],
                kind="proposal",
                topic=topic,
                applicant_name=f"Житель {i}",
                applicant_email=f"resident{i}@example.kg",
                text=TEXT,
                language=language,
            )
        )
    return health, people, appeals


def test_near_identical_appeals_of_other_applicants_are_candidates(setting):
    _, _, appeals = setting
    assert {a.pk for a in worklists.mass_candidates(appeals[0])} == {
        a.pk for a in appeals[1:]
    }


def test_one_approved_answer_goes_to_every_member_in_their_language(setting):
    health, people, appeals = setting
    lead, members = appeals[0], appeals[1:]
    answering.group_mass_appeals(
        lead_id=lead.pk, member_ids=[m.pk for m in members], actor=people["controller"]
    )
    answer_appeal(
        lead, people, health, text="Ремонт улицы Ахунбаева включён в план на весну."
    )
    for appeal in Appeal.objects.filter(pk__in=[a.pk for a in appeals]):
        assert appeal.status == Status.CLOSED and appeal.outcome == "supported"
        answer = appeal.answers.get(state="approved")
        assert answer.letter and answer.text.startswith("Ремонт улицы")
    notices = Notification.objects.filter(template="answered")
    assert notices.count() == 4
    assert sorted(notices.values_list("language", flat=True)) == [
        "en",
        "ky",
        "ru",
        "ru",
    ]


def test_only_controllers_group_and_a_member_joins_one_group(setting):
    _, people, appeals = setting
    with pytest.raises(PermissionDenied):
        answering.group_mass_appeals(
            lead_id=appeals[0].pk, member_ids=[appeals[1].pk], actor=people["head"]
        )
    answering.group_mass_appeals(
        lead_id=appeals[0].pk, member_ids=[appeals[1].pk], actor=people["controller"]
    )
    with pytest.raises(ValidationError):
        answering.group_mass_appeals(
            lead_id=appeals[2].pk,
            member_ids=[appeals[1].pk],
            actor=people["controller"],
        )


@pytest.mark.postgres
def test_a_search_out_of_its_budget_gives_none_and_leaves_the_transaction_usable():
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            before = cursor.fetchone()[0]

        def slow():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(2)")
            return ["done"]

        def quick():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                return cursor.fetchone()

        assert lookups.within_budget(slow, milliseconds=100) is None
        assert lookups.within_budget(quick, milliseconds=100) == (1,)
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == before  # restored after a success too
            cursor.execute("SELECT count(*) FROM appeals_appeal")
            assert cursor.fetchone()[0] >= 0


@pytest.mark.postgres
def test_mass_candidates_compare_only_the_topics_open_appeals(setting):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, _, appeals = setting
    with CaptureQueriesContext(connection) as queries:
        found = worklists.mass_candidates(appeals[0])
    assert len(found) == 3
    select = next(q["sql"] for q in queries if "similarity" in q["sql"])
    assert " % " not in select  # no index search over the whole register
