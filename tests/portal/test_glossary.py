"""The catalogues follow locale/GLOSSARY.md (issue 26, item 6): no variant the glossary
replaced comes back into the Kyrgyz or Russian text, and the fixed terms are used for
the English words they translate. Every check reads the .po files themselves."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
GLOSSARY = LOCALE / "GLOSSARY.md"


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _texts(language: str) -> list[tuple[str, str]]:
    """(msgid, one translation) for every translation of the catalogue."""
    return [
        (entry.msgid, text)
        for entry in _catalogue(language)
        for text in _translations(entry)
    ]


# Variants the glossary replaced. Each pattern matches only the wrong form, never the
# right one nor an unrelated word: "сиз" is the formal you only as a whole word
# ("белгисиз", "кароосуз" end in it); "айыл өкмөтү" and "Өкмөт үйү" are proper names.
FORBIDDEN = {
    "ky": [
        ("applicant is кайрылуучу", re.compile(r"арыз\s+ээ", re.IGNORECASE)),
        ("personal data", re.compile(r"жеке\s+маалымат", re.IGNORECASE)),
        (
            "Cabinet of Ministers since 2021",
            re.compile(r"(?<!айыл )өкмөт(?!\s+үй)", re.IGNORECASE),
        ),
        ("Administration of the President", re.compile(r"Аппаратынан")),
        ("in progress is каралууда", re.compile(r"иштелүүдө", re.IGNORECASE)),
        ("correspondence box is кутусу", re.compile(r"ящиг", re.IGNORECASE)),
        ("жогорудан", re.compile(r"жогортон", re.IGNORECASE)),
        ("stage is этап", re.compile(r"кайсы\s+баскычта", re.IGNORECASE)),
        ("manager", re.compile(r"жетекчилик", re.IGNORECASE)),
        ("account", re.compile(r"каттоо\s+жазуу|эсебиңиз|эсеп\s+кош", re.IGNORECASE)),
        ("due date", re.compile(r"кайсы\s+күнгө\s+чейин", re.IGNORECASE)),
        ("контролер takes -лер", re.compile(r"контролерлор", re.IGNORECASE)),
        ("formal you", re.compile(r"\bсиз(?:ге|дин|ди|ден|де|дер\w*)?\b")),
        # "чейин" takes the dative: "%(due)s күнүнө чейин", "20 МБга чейин".
        ("dative before чейин", re.compile(r"%\(\w+\)[sd] чейин|МБ чейин")),
    ],
    "ru": [
        (
            "formal you",
            re.compile(r"\b(?:вы|вас|вам|вами|ваш|ваша|ваше|ваши|ваш[еиу][а-яё]*)\b"),
        ),
        (
            "Cabinet of Ministers since 2021",
            # The building keeps its name: "Дом Правительства".
            re.compile(r"(?<!Дом )(?<!Доме )(?<!Дома )правительств", re.IGNORECASE),
        ),
        ("в общественной приёмной", re.compile(r"на\s+общественной\s+при[её]мной")),
    ],
}


@pytest.mark.parametrize(
    ("language", "rule", "pattern"),
    [
        (lang, rule, pattern)
        for lang, rules in FORBIDDEN.items()
        for rule, pattern in rules
    ],
    ids=[f"{lang}: {rule}" for lang, rules in FORBIDDEN.items() for rule, _ in rules],
)
def test_the_catalogue_has_no_variant_the_glossary_replaced(language, rule, pattern):
    found = [(msgid, text) for msgid, text in _texts(language) if pattern.search(text)]
    assert not found, f"{language} ({rule}): {found}"


# English words of the msgids and the fixed term every translation of them uses.
TERMS = [
    (r"\bapplicants?\b", "кайрылуучу", "заявител"),
    (r"\bpersonal data\b", "персоналдык маалымат", "персональн"),
    (
        r"^forwarded by the President's Office$",
        "Президенттин Администрациясынан",
        "из Администрации Президента",
    ),
    (r"\bGovernment resolution\b", "Министрлер Кабинетинин", "Кабинета Министров"),
    (r"^government apparatus$", "Министрлер Кабинетинин", "Кабинета Министров"),
    (r"\bGovernment House\b", "Өкмөт үй", "Дом"),
    (r"\bcorrespondence box\b", "корреспонденция кутусу", "ящик для корреспонденции"),
    (r"^in progress$", "каралууда", "в работе"),
    (r"^manager$", "жетекчи (статистика)", "руководитель (статистика)"),
    (
        r"^answer rated by the citizen$",
        "жаран жоопко баа берди",
        "ответ оценён гражданином",
    ),
    (r"\baccount\b", "эсептик жазуу", "учётн"),
    (r"^due by$", "жооп берүү мөөнөтү", "срок"),
    (r"\bworking days?\b", "жумуш күн", "рабоч"),
    (r"\bpublic reception\b", "коомдук кабылдама", "общественн"),
]


@pytest.mark.parametrize(("english", "ky", "ru"), TERMS, ids=[t[0] for t in TERMS])
def test_each_fixed_term_translates_its_english_word_everywhere(english, ky, ru):
    pattern = re.compile(english, re.IGNORECASE)
    for language, term in (("ky", ky), ("ru", ru)):
        entries = [e for e in _catalogue(language) if pattern.search(e.msgid)]
        assert entries, f"no msgid matches {english!r}: the check checks nothing"
        missing = [
            (entry.msgid, text)
            for entry in entries
            for text in _translations(entry)
            if term.lower() not in text.lower()
        ]
        assert not missing, f"{language}: {term!r} missing in {missing}"


def test_the_glossary_lists_every_term_the_checks_hold():
    glossary = GLOSSARY.read_text(encoding="utf-8").lower()
    for _english, ky, ru in TERMS:
        assert ky.lower() in glossary, ky
        assert ru.lower() in glossary, ru


@pytest.mark.parametrize("language", ["ky", "ru"])
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    catalogue = _catalogue(language)
    assert not catalogue.untranslated_entries()
    assert not catalogue.fuzzy_entries()
    assert not catalogue.obsolete_entries()


def test_the_three_catalogues_hold_the_same_messages():
    keys = {
        language: {(e.msgctxt, e.msgid) for e in _catalogue(language)}
        for language in ("ky", "ru", "en")
    }
    assert keys["ky"] == keys["ru"] == keys["en"]
