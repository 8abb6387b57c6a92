"""What the routing model suggests for one appeal: the three most probable agencies
with their probability, the words that weighed most for the first, the topic; beside
today's rule (the addressee the citizen named, else the topic's default body), which
is all there is when no model has been trained."""

from dataclasses import dataclass, field

from django.conf import settings

from agencies.models import Agency, Topic
from appeals.casework import worklists
from appeals.models import Appeal
from appeals.suggestions import model

TOP_WORDS = 5


@dataclass(frozen=True)
class AgencySuggestion:
    agency: Agency
    probability: float

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


@dataclass(frozen=True)
class Suggestions:
    """The model's suggestions (empty without a model or for text without words) and
    the rule's."""

    agencies: list[AgencySuggestion] = field(default_factory=list)
    top_words: list[str] = field(default_factory=list)
    topic: Topic | None = None
    topic_probability: float | None = None
    rule: Agency | None = None
    model_id: int | None = None

    @property
    def first(self) -> AgencySuggestion | None:
        return self.agencies[0] if self.agencies else None

    def as_pairs(self) -> list[list]:
        """[[agency id, probability], ...] as RoutingSuggestion stores them."""
        return [[s.agency.pk, round(s.probability, 4)] for s in self.agencies]


def top_words(bundle: model.Bundle, row, agency_id: int) -> list[str]:
    """The words of a text (`row`: its features) that pushed most towards
    `agency_id`: each word feature's TF-IDF weight times its coefficient in the linear
    model, largest first."""
    classifier = bundle.agency
    classes = [int(value) for value in classifier.classes_]
    if agency_id not in classes:
        return []
    row = row.tocsr()
    coefficients = classifier.coef_
    if coefficients.shape[0] == 1:  # two classes: one row, for the second class
        weights = coefficients[0] * (1 if classes.index(agency_id) == 1 else -1)
    else:
        weights = coefficients[classes.index(agency_id)]
    names = bundle.word_names
    scored = [
        (float(value * weights[column]), names[column])
        for column, value in zip(row.indices, row.data, strict=True)
        if column < bundle.word_features
    ]
    scored.sort(reverse=True)
    return [str(name) for score, name in scored if score > 0][:TOP_WORDS]


def for_text(text: str) -> Suggestions:
    """The model's suggestions for a text (no rule: the text alone has no addressee)."""
    loaded = model.current()
    if loaded is None or not text.strip():
        return Suggestions()
    version, bundle = loaded
    matrix = bundle.features.transform([text])
    [ranked] = model.rank(bundle, [text], limit=3, matrix=matrix)
    agencies = Agency.objects.filter(pk__in=[pk for pk, _p in ranked], is_active=True)
    by_id = {agency.pk: agency for agency in agencies}
    chosen = [
        AgencySuggestion(agency=by_id[pk], probability=probability)
        for pk, probability in ranked
        if pk in by_id
    ]
    topic = topic_probability = None
    [topics] = model.rank(bundle, [text], which="topic", limit=1, matrix=matrix)
    if topics:
        topic = Topic.objects.filter(pk=topics[0][0], is_active=True).first()
        topic_probability = topics[0][1] if topic else None
    return Suggestions(
        agencies=chosen,
        top_words=top_words(bundle, matrix, chosen[0].agency.pk) if chosen else [],
        topic=topic,
        topic_probability=topic_probability,
        model_id=version.pk,
    )


def for_appeals(appeals: list[Appeal]) -> dict[int, Suggestions]:
    """The model's suggestions for a page of appeals at once (one pass over their
    texts), by appeal id; the rule's beside them. Empty without a model."""
    loaded = model.current()
    if loaded is None or not appeals:
        return {}
    version, bundle = loaded
    texts = [appeal.text or "" for appeal in appeals]
    matrix = bundle.features.transform(texts)
    ranked = model.rank(bundle, texts, limit=3, matrix=matrix)
    ids = {pk for pairs in ranked for pk, _p in pairs}
    by_id = {a.pk: a for a in Agency.objects.filter(pk__in=ids, is_active=True)}
    found = {}
    for row, (appeal, pairs) in enumerate(zip(appeals, ranked, strict=True)):
        chosen = [
            AgencySuggestion(agency=by_id[pk], probability=probability)
            for pk, probability in pairs
            if pk in by_id
        ]
        found[appeal.pk] = Suggestions(
            agencies=chosen,
            top_words=top_words(bundle, matrix[row], chosen[0].agency.pk)
            if chosen
            else [],
            rule=worklists.suggested_agency(appeal),
            model_id=version.pk,
        )
    return found


def for_appeal(appeal: Appeal) -> Suggestions:
    """The model's suggestions for the appeal's text, with today's rule beside them."""
    suggestions = for_text(appeal.text)
    return Suggestions(
        agencies=suggestions.agencies,
        top_words=suggestions.top_words,
        topic=suggestions.topic,
        topic_probability=suggestions.topic_probability,
        rule=worklists.suggested_agency(appeal),
        model_id=suggestions.model_id,
    )


def is_confident_for(suggestions: Suggestions) -> bool:
    """Whether the first suggestion may route the appeal without a person: its agency
    opted in and its probability reaches ROUTING_AUTO_THRESHOLD."""
    first = suggestions.first
    return (
        first is not None
        and first.agency.routes_by_suggestion
        and first.probability >= settings.ROUTING_AUTO_THRESHOLD
    )
