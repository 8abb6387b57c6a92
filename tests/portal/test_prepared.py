"""Prepared queries (compiled once per process) give what the ORM's own queryset gives:
the same rows, fields, joined rows and JSON values, in one query, in each language;
and the session store that reads through one."""

import datetime as dt
import uuid

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone, translation

from agencies.models import Agency
from appeals.casework import answering
from appeals.models import Answer, Appeal, Event, Rating, StagedUpload
from appeals.register import lookups
from portal.prepared import PreparedQuery
from portal.sessions import SessionStore
from tests.factories import (
    AgencyFactory,
    TopicFactory,
    answer_appeal,
    paper_appeal,
    portal_submission,
    staff_member,
)

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


HEALTH = {
    "ky": "Саламаттык сактоо министрлиги",
    "ru": "Министерство здравоохранения",
    "en": "Ministry of Health",
}


@pytest.fixture
def health():
    names = {f"name_{language}": name for language, name in HEALTH.items()}
    return AgencyFactory(slug="min-health", code="MZ", **names)


@pytest.fixture
def people(health):
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
    }


@pytest.fixture
def answered(people, health):
    appeal = paper_appeal(people["clerk"], kind="complaint")
    answer_appeal(appeal, people, health, outcome="not_supported")
    appeal.refresh_from_db()
    return appeal


@pytest.mark.parametrize("with_agencies", [False, True])
def test_appeal_by_number_is_the_orms_appeal(answered, with_agencies):
    expected = Appeal.objects.get(pk=answered.pk)
    found = lookups.appeal_by_tracking_number(
        answered.tracking_number, with_agencies=with_agencies
    )
    assert _fields(found) == _fields(expected)
    assert found._state.adding is False and found._state.db == "default"


def test_joined_agencies_are_read_in_the_same_query_in_each_language(
    answered, health, django_assert_num_queries
):
    Appeal.objects.filter(pk=answered.pk).update(
        addressee=Agency.objects.get(slug="gov-apparatus")
    )
    with django_assert_num_queries(1):
        found = lookups.appeal_by_tracking_number(
            answered.tracking_number, with_agencies=True
        )
        names = {}
        for language in ("ky", "ru", "en"):
            with translation.override(language):
                names[language] = found.lead_agency.name
        addressee = found.addressee.slug
    assert names == HEALTH
    assert addressee == "gov-apparatus"


def test_an_unknown_or_empty_number_finds_nothing(answered, django_assert_num_queries):
    assert lookups.appeal_by_tracking_number("NOSUCHNUMBER") is None
    with django_assert_num_queries(0):
        assert lookups.appeal_by_tracking_number("") is None


def test_history_events_are_the_orms_with_their_json(answered):
    expected = list(
        Event.objects.filter(appeal=answered, is_public=True).order_by("at", "id")
    )
    from appeals.register.lookups import _PUBLIC_EVENTS

    found = _PUBLIC_EVENTS(appeal=answered.pk)
    assert [e.pk for e in found] == [e.pk for e in expected] and len(found) >= 3
    assert [_fields(e) for e in found] == [_fields(e) for e in expected]
    assert all(isinstance(e.data, dict) for e in found)
    lines = lookups.citizen_history(answered)
    assert lines and lines[0].text


def test_answer_without_rating_or_re_review_needs_no_further_query(
    answered, django_assert_num_queries
):
    with django_assert_num_queries(1):
        answer = lookups.citizen_answer(answered)
        assert not hasattr(answer, "rating") and not hasattr(answer, "re_review")
        assert answer.agency.slug == "min-health"
    assert _fields(answer) == _fields(Answer.objects.get(appeal=answered))


def test_the_latest_answer_after_a_re_review_comes_with_rating_and_re_review(
    answered, people, health, django_assert_num_queries
):
    answering.rate_answer(appeal_id=answered.pk, score=2, addressed=False)
    answering.request_re_review(appeal_id=answered.pk, reason="Не учтён стаж.")
    first = Answer.objects.get(appeal=answered)
    answered.refresh_from_db()
    assert lookups.citizen_answer(answered) is None  # under re-review
    answer_appeal(answered, people, health, outcome="supported")
    answered.refresh_from_db()
    with django_assert_num_queries(1):
        latest = lookups.citizen_answer(answered)
        assert latest.pk != first.pk and latest.outcome == "supported"
        assert not hasattr(latest, "rating")
    answering.rate_answer(appeal_id=answered.pk, score=5, addressed=True)
    with django_assert_num_queries(1):
        again = lookups.citizen_answer(answered)
        assert again.pk == latest.pk and again.rating.score == 5
    # The first answer, re-reviewed, carries its rating and re-review when joined.
    from appeals.register.lookups import _LATEST_APPROVED_ANSWER

    Answer.objects.filter(pk=latest.pk).update(
        approved_at=first.approved_at - dt.timedelta(days=1)
    )
    rating = Rating.objects.get(answer=first)
    with django_assert_num_queries(1):
        (older,) = _LATEST_APPROVED_ANSWER(appeal=answered.pk)[:1]
        assert older.pk == first.pk
        assert older.rating == rating and older.rating.score == 2
        assert older.re_review.reason == "Не учтён стаж."


def test_a_filter_on_a_translated_field_is_compiled_for_each_language(health):
    by_name = PreparedQuery(lambda name: Agency.objects.filter(name=name), name="")
    with translation.override("en"):
        assert [a.slug for a in by_name(name=HEALTH["en"])] == ["min-health"]
        assert by_name(name=HEALTH["ru"]) == []
    with translation.override("ru"):
        assert [a.slug for a in by_name(name=HEALTH["ru"])] == ["min-health"]


def test_a_stand_in_must_mark_exactly_one_parameter():
    twice = PreparedQuery(
        lambda number: Appeal.objects.filter(
            Q(tracking_number=number) | Q(registration_number=number)
        ),
        number="",
    )
    with pytest.raises(ValueError, match="appears 2 times"):
        twice(number="X")
    absent = PreparedQuery(lambda number: Appeal.objects.all(), number="")
    with pytest.raises(ValueError, match="appears 0 times"):
        absent(number="X")
    with pytest.raises(TypeError):
        PreparedQuery(lambda number: Appeal.objects.all(), number="")(other="X")


def test_a_value_of_another_type_than_its_stand_in_is_refused(answered):
    from appeals.register.lookups import _PUBLIC_EVENTS

    with pytest.raises(TypeError, match="'appeal' must be int, not str"):
        _PUBLIC_EVENTS(appeal=str(answered.pk))


# --- The filing form's look-ups ----------------------------------------------------


def test_appeal_by_submission_key_is_the_orms_appeal_on_each_database():
    # SQLite keeps a UUID as its hex, PostgreSQL as uuid: the key is adapted as
    # UUIDField adapts it.
    appeal = portal_submission().appeal
    portal_submission()  # another key, not found by the first
    found = lookups.appeal_by_submission_key(appeal.submission_key)
    assert _fields(found) == _fields(Appeal.objects.get(pk=appeal.pk))
    assert lookups.appeal_by_submission_key(uuid.uuid4()) is None
    with pytest.raises(TypeError, match="must be UUID, not str"):
        lookups.appeal_by_submission_key(str(appeal.submission_key))


def test_staged_files_become_the_attachments_of_their_own_submission_only():
    from django.core.files.base import ContentFile

    key, other = uuid.uuid4(), uuid.uuid4()
    for submission_key, name in ((key, "a.pdf"), (key, "b.pdf"), (other, "c.pdf")):
        item = StagedUpload(
            submission_key=submission_key,
            original_name=name,
            content_type="application/pdf",
            size=4,
            sha256=name * 8,
        )
        item.file.save("upload.pdf", ContentFile(b"%PDF"), save=False)
        item.save()
    appeal = portal_submission(submission_key=key).appeal
    assert sorted(appeal.attachments.values_list("original_name", flat=True)) == [
        "a.pdf",
        "b.pdf",
    ]
    assert list(StagedUpload.objects.values_list("original_name", flat=True)) == [
        "c.pdf"
    ]


def test_the_topic_field_takes_an_active_topic_by_its_code_in_each_language():
    from appeals.forms import ActiveTopicField

    names = {"name_ky": "Жолдор", "name_ru": "Дороги", "name_en": "Roads"}
    roads = TopicFactory(code="roads", **names)
    TopicFactory(code="closed", is_active=False)
    field = ActiveTopicField()
    for language in ("ky", "ru", "en"):
        with translation.override(language):
            found = field.clean("roads")
            assert found.pk == roads.pk
            assert found.name == names[f"name_{language}"]
    for refused in ("closed", "no-such-topic", "roads\x00"):
        with pytest.raises(ValidationError) as caught:
            field.clean(refused)
        assert caught.value.code in ("invalid_choice", "null_characters_not_allowed")
    with pytest.raises(ValidationError) as caught:
        field.clean("")
    assert caught.value.code == "required"
    assert ActiveTopicField(required=False).clean("") is None
    assert field.clean(roads).pk == roads.pk


# --- Sessions ---------------------------------------------------------------------


def test_a_saved_session_is_read_back_by_a_new_store():
    store = SessionStore()
    store["tracked"] = ["ABC"]
    store.save()
    again = SessionStore(store.session_key)
    assert again["tracked"] == ["ABC"] and again.session_key == store.session_key


def test_an_expired_or_unknown_session_is_empty_and_gets_a_new_key():
    store = SessionStore()
    store["tracked"] = ["ABC"]
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_a_visitor_keeps_the_tracked_appeal_across_requests(client, answered):
    from appeals.register import codes

    Appeal.objects.filter(pk=answered.pk).update(
        access_code_hash=codes.hash_access_code("PREP1-PREP2-PREP3")
    )
    response = client.post(
        "/en/track/",
        {
            "tracking_number": answered.tracking_number,
            "access_code": "PREP1-PREP2-PREP3",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert HEALTH["en"] in page.content.decode()
