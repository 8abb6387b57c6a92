"""The clerk's flags (appeals.intake.flags): the pure rules on real ky/ru/en texts,
the word list from the database and its cache, the repeat of an answered appeal."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from appeals.intake import flags, registration
from appeals.models import FlagWord
from appeals.register import matching
from tests.factories import (
    answer_appeal,
    ministry_of_health,
    paper_appeal,
    portal_submission,
    staff_member,
)
from tests.helpers import login_staff


@pytest.fixture(autouse=True)
def _fresh_word_list(monkeypatch):
    monkeypatch.setattr(flags, "_loaded", None)


def codes_of(found: list[dict]) -> list[str]:
    return [flag["code"] for flag in found]


# --- No name, no way to reach the applicant -------------------------------------------


@pytest.mark.parametrize("name", ["", "  ", "-", "Б.", "Аноним", "анонимно", "Жок"])
def test_a_missing_or_anonymous_name_is_flagged(name):
    found = flags.compute_flags(name=name, email="a@example.kg", text="Текст.")
    assert codes_of(found) == ["no_name"]


@pytest.mark.parametrize("name", ["Асанов Бакыт", "Иванова М. П.", "Aida Sultanova"])
def test_a_real_name_is_not_flagged(name):
    assert flags.compute_flags(name=name, phone="0555 123 456", text="Текст.") == []


def test_no_address_phone_or_email_is_flagged():
    found = flags.compute_flags(
        name="Асанов Бакыт", address=" ", phone="12", email="", text="Текст."
    )
    assert codes_of(found) == ["no_contact"]


@pytest.mark.parametrize(
    "contact",
    [
        {"address": "Ош ш., Ленин көч., 5"},
        {"phone": "+996 (555) 12-34-56"},
        {"email": "bakyt@example.kg"},
    ],
)
def test_any_one_way_to_reach_the_applicant_is_enough(contact):
    assert flags.compute_flags(name="Асанов Бакыт", text="Текст.", **contact) == []


# --- Capitals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ПОМОГИТЕ, УЖЕ ТРИ МЕСЯЦА НЕТ ВОДЫ В ДОМЕ № 12!!!",
        "БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК, ЖАРДАМ БЕРИҢИЗДЕР",
        "PLEASE HELP, THE ROAD TO OUR VILLAGE IS CLOSED",
    ],
)
def test_a_text_entirely_in_capitals_is_flagged(text):
    assert flags.is_all_capitals(text)


@pytest.mark.parametrize(
    "text",
    [
        "OK",
        "СРОЧНО!!! 2024",  # too short to matter
        "Помогите, уже ТРИ МЕСЯЦА нет воды в доме № 12.",
        "Биздин көчөдө ЖАРЫК ЖОК, жардам бериңиздер.",
        "1234567890 — 0987654321, № 12/34-56",  # no letters at all
    ],
)
def test_short_or_mixed_texts_are_not_flagged_as_capitals(text):
    assert not flags.is_all_capitals(text)


# --- Russian in Latin letters -------------------------------------------------------------

LATIN_RUSSIAN = [
    "Zdravstvuyte! Ya ne mogu poluchit pensiyu uzhe tri mesyatsa. Pomogite pozhaluysta.",
    "Uvazhaemyy gospodin mer, v nashem rayone net sveta uzhe nedelyu, prosim razobratsya.",
    "Prosim otremontirovat dorogu na ulitse Lenina, eto ochen opasno dlya detey",
    "u menya problema s kvartiroy, sosedi zatopili i ne khotyat platit",
    "Moy syn ne mozhet poluchit spravku v shkole, pochemu tak?",
]
NOT_LATIN_RUSSIAN = [
    # English, with Kyrgyz names that have Russian-looking spellings.
    "Dear Sir, I am writing to complain about the road in our street which has not "
    "been repaired for months.",
    "Please help me with my pension. I have not received it since May.",
    "There is no water in our village of Kara-Suu, the pipes are broken.",
    "My name is Bakyt Asanov, I live in Bishkek and I want to ask about my visa.",
    "The yard near the youth center in Naryn is full of garbage; kids play there.",
    "Hello, my son Zhyrgal and his friend Khan cannot register at school 5 in Osh.",
    # Kyrgyz in Latin letters is not Russian.
    "Salamatsyzby, menin atym Bakyt. Biz jashagan kochodo suu jok, jardam berip koyunuz.",
    # Cyrillic that quotes a Latin name.
    "Биздин көчөдө жарык жок, үч айдан бери. Hotel Ak-Sai жанында.",
    "Прошу проверить работу ОсОО Kyrgyz Telecom Service в нашем районе.",
    "Zdravstvuyte",  # one word: too little to tell
]


@pytest.mark.parametrize("text", LATIN_RUSSIAN)
def test_russian_written_in_latin_letters_is_flagged(text):
    assert flags.looks_like_latin_russian(text)
    assert "latin_russian" in codes_of(
        flags.compute_flags(name="Иванова Мария", email="m@example.kg", text=text)
    )


@pytest.mark.parametrize("text", NOT_LATIN_RUSSIAN)
def test_english_kyrgyz_and_cyrillic_texts_are_not_flagged_as_latin_russian(text):
    assert not flags.looks_like_latin_russian(text)


# --- Offensive words ----------------------------------------------------------------------


def test_stems_match_at_word_starts_case_insensitively_in_ky_and_ru():
    words = flags.WordMatcher(["акмак", "дебил"])
    assert words.count("Сиздер АКМАКСЫҢАР! Дебилы в администрации.") == 2
    # Inside a word (a surname) it is no match.
    assert words.count("Такмакова Айгүл, Бишкек") == 0


def test_yo_is_matched_as_ye():
    assert flags.WordMatcher(["ебан"]).count("Ёбаный случай") == 1


def test_the_detail_is_how_many_never_which_words():
    found = flags.compute_flags(
        name="Асанов Бакыт",
        email="a@example.kg",
        text="Сен акмак, сен келесоо.",
        words=flags.WordMatcher(["акмак", "келесоо"]),
    )
    assert found == [{"code": "offensive_words", "detail": "2"}]


@pytest.mark.django_db
def test_the_starting_word_list_is_in_the_database_for_both_languages():
    for language in ("ky", "ru"):
        assert FlagWord.objects.filter(language=language, is_active=True).count() >= 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "Вы там все дебилы в акимате, мрази!",
        "Акимдин кызматкерлери акмак жана бетпак.",
    ],
)
def test_the_database_word_list_flags_real_insults(text):
    found = flags.flags_on_arrival(name="Асанов Бакыт", email="a@example.kg", text=text)
    assert codes_of(found) == ["offensive_words"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "Прошу выделить скотине пастбище: на огороде урожай пропадает.",
        "Мектептин мугалими Такмакова балдарга жакшы сабак берет.",
        "Прошу разобраться с оскорблениями со стороны соседа.",
    ],
)
def test_the_database_word_list_leaves_ordinary_texts_alone(text):
    assert (
        flags.flags_on_arrival(name="Асанов Бакыт", email="a@example.kg", text=text)
        == []
    )


@pytest.mark.django_db
def test_a_word_saved_in_the_admin_counts_at_once_and_a_switched_off_one_stops():
    text = "Сен жаман адамсың."
    assert flags.word_matcher().count(text) == 0
    word = FlagWord.objects.create(language="ky", stem="жаман")
    assert flags.word_matcher().count(text) == 1
    word.is_active = False
    word.save()
    assert flags.word_matcher().count(text) == 0


@pytest.mark.django_db
def test_the_word_list_is_read_once_per_process_until_it_changes(
    django_capture_on_commit_callbacks,
):
    flags.word_matcher()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            flags.word_matcher()
    assert len(queries) == 0
    # Another process saved a word: the edition mark changes and, once this process
    # looks at it again, the list is read anew.
    with django_capture_on_commit_callbacks(execute=True):
        FlagWord.objects.create(language="ru", stem="негодя")
    flags._loaded = flags._Loaded(
        edition="an older edition",
        loaded_at=0.0,
        checked_at=-1e9,
        matcher=flags.WordMatcher([]),
    )
    assert cache.get(flags.WORDS_EDITION_KEY)
    assert flags.word_matcher().count("Вы негодяи") == 1


# --- Repeat of an answered appeal ---------------------------------------------------------


def test_text_similarity_is_high_for_the_same_matter_and_low_for_another():
    first = "Третий месяц не выплачивают пособие по уходу за ребёнком."
    again = "Снова пишу: третий месяц не выплачивают пособие по уходу за ребенком!"
    other = "Во дворе дома № 5 по улице Ленина не вывозят мусор."
    assert matching.text_similarity(first, again) >= flags.SAME_MATTER_SIMILARITY
    assert matching.text_similarity(first, other) < flags.SAME_MATTER_SIMILARITY
    assert matching.text_similarity("", first) == 0.0


@pytest.mark.django_db
def test_text_similarity_agrees_with_postgresqls_pg_trgm():
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    pairs = [
        (
            "Третий месяц не выплачивают пособие.",
            "Не выплачивают пособие третий месяц!",
        ),
        ("Биздин көчөдө жарык жок.", "Көчөдө жарык жок, жардам бериңиздер."),
        ("The road is broken.", "Our road has been broken since May."),
    ]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            expected = cursor.fetchone()[0]
            assert matching.text_similarity(a, b) == pytest.approx(expected, abs=0.02)


@pytest.fixture
def answered():
    """Мария's appeal about the child-care allowance, answered by the Ministry."""
    health = ministry_of_health()
    people = {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", health),
        "executor": staff_member("executor", health),
    }
    appeal = paper_appeal(people["clerk"])
    answer_appeal(appeal, people, health)
    appeal.refresh_from_db()
    assert appeal.is_answered
    return appeal


AGAIN = "Снова: третий месяц не выплачивают пособие по уходу за ребенком!"


@pytest.mark.django_db
def test_a_portal_repeat_of_an_answered_matter_is_flagged_at_registration(answered):
    submission = portal_submission(
        applicant_name="  иванова   мария ",
        applicant_email="MARIA@example.kg",
        text=AGAIN,
        language="ru",
    )
    assert submission.appeal.flags == []  # the filing asks the database nothing
    appeal = registration.register_appeal(
        appeal_id=submission.appeal.pk,
        actor=staff_member("clerk"),
        agency=answered.registering_agency,
    )
    appeal.refresh_from_db()
    assert appeal.flags == [
        {"code": "repeat_answered", "detail": answered.registration_number}
    ]


@pytest.mark.django_db
def test_a_paper_repeat_of_an_answered_matter_is_flagged_as_it_is_registered(
    answered,
):
    again = paper_appeal(staff_member("clerk"), text=AGAIN)
    assert again.flags == [
        {"code": "repeat_answered", "detail": answered.registration_number}
    ]


@pytest.mark.django_db
def test_the_clerk_sees_the_repeat_of_a_portal_submission_before_registering(
    client, answered
):
    submission = portal_submission(
        applicant_name="Иванова Мария",
        applicant_email="maria@example.kg",
        text=AGAIN,
        language="ru",
    )
    clerk = staff_member("clerk")
    login_staff(client, clerk)
    html = client.get(f"/en/staff/queue/{submission.appeal.pk}/").content.decode()
    assert 'data-flag="repeat_answered"' in html
    assert answered.registration_number in html


@pytest.mark.django_db
def test_another_matter_or_another_applicant_is_no_repeat(answered):
    clerk = staff_member("clerk")
    other_matter = paper_appeal(
        clerk, text="Во дворе нашего дома не вывозят мусор уже две недели."
    )
    other_person = paper_appeal(
        clerk, applicant_name="Петрова Анна", applicant_email="anna@example.kg"
    )
    assert other_matter.flags == []
    assert other_person.flags == []


@pytest.mark.django_db
def test_an_open_appeal_on_the_same_matter_is_no_repeat_of_an_answered_one():
    clerk = staff_member("clerk")
    earlier = paper_appeal(clerk)  # registered, not answered
    again = paper_appeal(clerk)
    assert earlier.flags == [] and again.flags == []


@pytest.mark.django_db
def test_the_repeat_check_is_one_query_and_the_citizens_filing_asks_none():
    def queries_of(call, **fields) -> int:
        with CaptureQueriesContext(connection) as queries:
            call(name="Асанов Бакыт", text="Жарык жок.", **fields)
        return len(queries)

    contact = {"email": "bakyt@example.kg", "phone": "0555 123 456"}
    assert queries_of(flags.answered_repeat_of, **contact) == 1
    assert queries_of(flags.answered_repeat_of) == 0
    flags.word_matcher()  # read once per process
    assert queries_of(flags.flags_on_arrival, **contact, check_repeat=False) == 0


# --- The reasons, in three languages ------------------------------------------------------


def test_every_flag_has_a_reason_and_a_short_label_in_each_language():
    stored = [
        {"code": code, "detail": "7"}
        for code in (
            "no_name",
            "no_contact",
            "all_capitals",
            "latin_russian",
            "offensive_words",
            "repeat_answered",
        )
    ]
    for language in ("ky", "ru", "en"):
        with translation.override(language):
            shown = flags.described(stored)
        assert [flag.code for flag in shown] == [flag["code"] for flag in stored]
        assert all(flag.reason and flag.short for flag in shown)
    with translation.override("en"):
        shown = flags.described(stored)
    assert "(7)" in shown[4].reason and "7" in shown[5].reason


def test_an_unknown_code_from_a_later_version_is_left_out():
    assert flags.described([{"code": "something_new", "detail": ""}]) == []
    assert flags.described(None) == []
