"""Reads of agencies: the public directory of state bodies and its search, the topics'
choices."""

from django.core.cache import cache
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf
from modeltranslation.utils import (
    build_localized_fieldname,
    get_language,
    get_translation_fields,
    resolution_order,
)

from .models import Agency, Topic

# How long the topics' choices stay cached (per language).
TOPIC_CHOICES_SECONDS = 300
# Searched in every language, so a Russian speaker finds a body on the Kyrgyz page.
SEARCHED_FIELDS = ("name", "short_name")


def _fold(text: str) -> str:
    """The form in which a query and a name are compared: case and ё/е ignored."""
    return " ".join(text.casefold().replace("ё", "е").split())


def search_agencies(query: str) -> QuerySet[Agency]:
    """Active agencies whose name or short name (any language) or code has every word
    of the query; all of them for an empty query. The Government Apparatus comes
    first, then the rest by name in the current language.

    The words are matched in Python, not with icontains: SQLite's LIKE and, on a
    database created with the C locale, PostgreSQL's UPPER fold only ASCII letters,
    so "Здравоохранения" would miss "здравоохранения". The table holds a few hundred
    rows at most, and one query reads the searched columns.
    """
    agencies = Agency.objects.filter(is_active=True)
    words = _fold(query).split()
    if words:
        columns = ["code", *get_translation_fields(*SEARCHED_FIELDS)]
        matching = []
        for pk, *values in agencies.values_list("pk", *columns):
            # Words hold no whitespace, so no word matches across two fields.
            text = _fold(" ".join(value for value in values if value))
            if all(word in text for word in words):
                matching.append(pk)
        agencies = agencies.filter(pk__in=matching)
    return agencies.order_by(
        Case(
            When(kind=Agency.Kind.APPARATUS, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        _name_in_current_language(),
        "code",
    )


def _name_in_current_language():
    """The name the page shows: the current language's, else its fallbacks in turn
    (the same order modeltranslation uses for `agency.name`)."""
    names = [
        NullIf(F(build_localized_fieldname("name", language)), Value(""))
        for language in resolution_order(get_language())
    ]
    return Coalesce(*names) if len(names) > 1 else names[0]


def topic_choices() -> list[tuple[int, str]]:
    """The active topics as (id, name in the current language), by name: the choices
    of the inbox's topic filter. Cached for five minutes per language (reading and
    translating them was 3-7 ms of every inbox page): a topic added, renamed or
    retired in the admin shows there within that time."""
    key = f"topic-choices:{get_language()}"
    choices = cache.get(key)
    if choices is None:
        choices = [
            (topic.pk, topic.name) for topic in Topic.objects.filter(is_active=True)
        ]
        cache.set(key, choices, TOPIC_CHOICES_SECONDS)
    return choices
