import pytest
from django.utils import translation

from agencies.models import Agency
from agencies.selectors import search_agencies

pytestmark = pytest.mark.django_db


def make_health(**extra) -> Agency:
    return Agency.objects.create(
        slug="min-health",
        code="MZ",
        kind=Agency.Kind.MINISTRY,
        name_ky="Кыргыз Республикасынын Саламаттык сактоо министрлиги",
        name_ru="Министерство здравоохранения Кыргызской Республики",
        name_en="Ministry of Health of the Kyrgyz Republic",
        short_name_ky="ССМ",
        short_name_ru="Минздрав",
        short_name_en="MoH",
        **extra,
    )


def make_statistics() -> Agency:
    return Agency.objects.create(
        slug="stat-committee",
        code="NSK",
        kind=Agency.Kind.STATE_COMMITTEE,
        name_ky="Улуттук статистика комитети",
        name_ru="Национальный статистический комитет",
        name_en="Agency for Statistics",
    )


def slugs(queryset) -> list[str]:
    return [agency.slug for agency in queryset]


@pytest.mark.parametrize(
    "query",
    [
        "здравоохранения",  # Russian name, typed on any page
        "ЗДРАВООХРАНЕНИЯ",
        "саламаттык",  # Kyrgyz name, lower case
        "HEALTH",
        "минздрав",  # Russian short name
        "moh",
        "mz",  # the code
        "  министерство   здравоохранения ",
    ],
)
def test_search_matches_any_language_case_insensitively(query):
    make_health()
    make_statistics()
    with translation.override("ky"):
        assert slugs(search_agencies(query)) == ["min-health"]


def test_search_words_may_come_from_different_names_in_any_order():
    make_health()
    make_statistics()
    assert slugs(search_agencies("республики health")) == ["min-health"]


def test_search_treats_yo_as_ye():
    Agency.objects.create(
        slug="registry",
        code="GRS",
        name_ky="Каттоо кызматы",
        name_ru="Служба учёта и регистрации",
        name_en="Registration Service",
    )
    assert slugs(search_agencies("учет")) == ["registry"]
    assert slugs(search_agencies("УЧЁТ")) == ["registry"]


def test_search_with_no_match_is_empty():
    make_health()
    assert not search_agencies("prosecutor").exists()


def test_inactive_agencies_are_never_listed():
    make_health(is_active=False)
    assert "min-health" not in slugs(search_agencies(""))
    assert not search_agencies("health").exists()


def test_empty_query_lists_every_active_agency():
    make_health()
    make_statistics()
    assert set(slugs(search_agencies("  "))) == {
        "gov-apparatus",
        "min-health",
        "stat-committee",
    }


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # Agency for Statistics < Ministry of Health
        ("en", ["gov-apparatus", "stat-committee", "min-health"]),
        # Министерство < Национальный
        ("ru", ["gov-apparatus", "min-health", "stat-committee"]),
        # Кыргыз ... < Улуттук
        ("ky", ["gov-apparatus", "min-health", "stat-committee"]),
    ],
)
def test_apparatus_first_then_by_name_in_the_current_language(language, expected):
    make_health()
    make_statistics()
    with translation.override(language):
        assert slugs(search_agencies("")) == expected


def test_order_uses_the_fallback_name_where_a_translation_is_missing():
    make_statistics()  # en: "Agency for Statistics"
    Agency.objects.create(
        slug="ak-sai",
        code="AKS",
        name_ky="Ак-Сай айыл өкмөтү",
        name_ru="Айыл окмоту Ак-Сай",
        name_en="",  # no English name: shown and sorted by the Kyrgyz one
    )
    with translation.override("en"):
        result = list(search_agencies(""))
    assert [agency.slug for agency in result] == [
        "gov-apparatus",
        "stat-committee",
        "ak-sai",
    ]
    with translation.override("en"):
        assert result[2].name == "Ак-Сай айыл өкмөтү"


def test_topic_choices_are_the_active_topics_by_name_in_the_language_and_cached(
    django_assert_num_queries,
):
    from agencies.models import Topic
    from agencies.selectors import topic_choices

    water = Topic.objects.create(
        code="water", name_ky="Суу", name_ru="Вода", name_en="Water"
    )
    roads = Topic.objects.create(
        code="roads", name_ky="Жолдор", name_ru="Дороги", name_en="Roads"
    )
    Topic.objects.create(code="old", name_en="Old", is_active=False)
    with translation.override("ru"):
        mine = [c for c in topic_choices() if c[0] in (water.pk, roads.pk)]
        assert mine == [(water.pk, "Вода"), (roads.pk, "Дороги")]
        assert "Old" not in {name for _pk, name in topic_choices()}
        with django_assert_num_queries(0):
            topic_choices()  # from the cache
    with translation.override("en"):
        mine = [c for c in topic_choices() if c[0] in (water.pk, roads.pk)]
        assert mine == [(roads.pk, "Roads"), (water.pk, "Water")]  # its own order
