"""The routing model: what it learns from, how it is fitted and measured, and its
versions as files in Django's default storage (the current one, a rollback).

The classifier is TF-IDF of word (1-2) and character (char_wb 2-5) n-grams, which read
Kyrgyz, Russian, English and their mixtures alike, and a multinomial logistic
regression. Logistic regression fits the log-loss itself, so its probabilities are
calibrated enough to show and to compare with a threshold; a CalibratedClassifierCV
around an SVM would cost three to five fits more and hide the linear coefficients
the "why" of a suggestion reads. One set of features feeds two classifiers: the
lead agency and the topic.
"""

import datetime as dt
import hashlib
import io
import logging
import math
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Appeal, Event, Outcome, RoutingModel

logger = logging.getLogger(__name__)

FORMAT = 1  # the bundle's layout; a file of another format is not loaded
HELD_OUT_SHARE = 0.1  # the most recent tenth, by registration date
MIN_TRAINING_EXAMPLES = 20
MAX_WORD_FEATURES = 100_000
MAX_CHAR_FEATURES = 150_000
STORAGE_DIR = "routing-models"
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


class TrainingError(Exception):
    """Nothing to learn from (an empty register, one agency): no model is made."""


@dataclass(frozen=True)
class Example:
    text: str
    agency_id: int
    topic_id: int | None
    at: dt.datetime
    appeal_id: int = 0


@dataclass(frozen=True)
class Figures:
    """Top-1 and top-3 accuracy on `n` appeals."""

    top1: float
    top3: float
    n: int

    def line(self, prefix: str = "") -> str:
        # A fixed, machine-readable format (issue 30): never translated.
        text = f"top1 {self.top1:.3f} top3 {self.top3:.3f} n {self.n}"
        return f"{prefix} {text}" if prefix else text

    def as_dict(self) -> dict:
        return {"top1": self.top1, "top3": self.top3, "n": self.n}


@dataclass
class Bundle:
    """What a model file holds: the features, the classifiers and what they knew."""

    features: object  # a fitted sklearn FeatureUnion
    agency: object  # a fitted LogisticRegression over agency ids
    topic: object | None  # the same over topic ids, when there was topic data
    agency_counts: dict[int, int]
    topic_counts: dict[int, int] = field(default_factory=dict)
    word_features: int = 0  # the first columns are words (for the "why")
    word_names: list[str] = field(default_factory=list)  # by column
    sklearn_version: str = ""
    format: int = FORMAT


# --- What it learns from -------------------------------------------------------


def training_examples(*, since: dt.date | None = None) -> list[Example]:
    """The register's appeals with a known competent agency, oldest first.

    Routed appeals: the lead agency of the last routing, unless a RETURNED event came
    after it (returned as outside that agency's competence, whatever happened next);
    appeals a controller forwarded outside the portal are left out. Imported archival
    appeals: the agency whose register held them. The topic as registered. Appeals
    without text teach nothing and are skipped.
    """
    routed = Event.objects.filter(
        appeal=OuterRef("pk"), type=Event.Type.ROUTED
    ).order_by("-id")
    returned_after = Event.objects.filter(
        appeal=OuterRef("pk"),
        type=Event.Type.RETURNED,
        id__gt=OuterRef("last_routed_id"),
    )
    moment = Coalesce("registered_at", "received_at")
    appeals = Appeal.objects.exclude(text="")
    if since is not None:
        appeals = appeals.filter(received_on__gte=since)
    routed_appeals = (
        appeals.filter(is_imported=False)
        .exclude(outcome=Outcome.FORWARDED)
        .annotate(
            last_routed_id=Subquery(routed.values("id")[:1]),
            routed_to=Subquery(
                routed.annotate(
                    agency=Cast(KT("data__agency_id"), IntegerField())
                ).values("agency")[:1]
            ),
        )
        .filter(last_routed_id__isnull=False)
        .exclude(Exists(returned_after))
        .annotate(moment=moment)
        .values_list("pk", "text", "routed_to", "topic_id", "moment")
    )
    imported = (
        appeals.filter(is_imported=True, registering_agency__isnull=False)
        .annotate(moment=moment)
        .values_list("pk", "text", "registering_agency_id", "topic_id", "moment")
    )
    examples = [
        Example(text=text, agency_id=agency, topic_id=topic, at=at, appeal_id=pk)
        for query in (routed_appeals, imported)
        for pk, text, agency, topic, at in query.iterator(chunk_size=5000)
        if agency is not None
    ]
    examples.sort(key=lambda example: (example.at, example.appeal_id))
    return examples


# --- Fitting and measuring -----------------------------------------------------


def has_letters(text: str) -> bool:
    """Text of digits and punctuation only gets no suggestion."""
    return bool(_LETTER.search(text))


def _features():
    # scikit-learn loads in a second and a half: deferred on purpose to training.
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    common = {"lowercase": True, "sublinear_tf": True, "dtype": numpy.float32}
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)\b[^\W\d_]{2,}\b",  # noqa: S106 - no password
                    min_df=1,
                    max_features=MAX_WORD_FEATURES,
                    **common,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    max_features=MAX_CHAR_FEATURES,
                    **common,
                ),
            ),
        ]
    )


def _classifier():
    # scikit-learn loads in a second and a half: deferred on purpose to training.
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, tol=1e-3, max_iter=200)


def fit(
    texts: Sequence[str],
    agencies: Sequence[int],
    topics: Sequence[int | None] | None = None,
) -> Bundle:
    """Fit the features and both classifiers on these appeals."""
    import sklearn  # deferred on purpose: the version is recorded in the bundle

    if len(set(agencies)) < 2:
        raise TrainingError(
            _("The appeals name fewer than two agencies: there is nothing to choose.")
        )
    features = _features()
    matrix = features.fit_transform(texts)
    for _name, vectorizer in features.transformer_list:
        vectorizer.stop_words_ = None  # the pruned terms: large, never needed
    agency = _classifier().fit(matrix, list(agencies))
    topic = None
    topic_counts: dict[int, int] = {}
    topics = list(topics or [])
    with_topic = [row for row, value in enumerate(topics) if value is not None]
    if len({topics[row] for row in with_topic}) >= 2:
        topic_labels = [topics[row] for row in with_topic]
        topic = _classifier().fit(matrix[with_topic], topic_labels)
        topic_counts = dict(Counter(topic_labels))
    return Bundle(
        features=features,
        agency=agency,
        topic=topic,
        agency_counts=dict(Counter(agencies)),
        topic_counts=topic_counts,
        word_features=len(features.transformer_list[0][1].vocabulary_),
        word_names=[
            str(name)
            for name in features.transformer_list[0][1].get_feature_names_out()
        ],
        sklearn_version=sklearn.__version__,
    )


def rank(
    bundle: Bundle,
    texts: Sequence[str],
    *,
    which: str = "agency",
    limit: int = 3,
    min_examples: int | None = None,
    matrix=None,
) -> list[list[tuple[int, float]]]:
    """For each text, up to `limit` (id, probability) pairs, most probable first.

    An agency (or topic) learned from fewer than `min_examples` appeals
    (ROUTING_MIN_EXAMPLES) is never put first; a text without letters, or with
    nothing the model knows, gets an empty list rather than a confident guess.
    `matrix`: the texts' features when the caller has them already.
    """
    classifier = bundle.agency if which == "agency" else bundle.topic
    counts = bundle.agency_counts if which == "agency" else bundle.topic_counts
    if classifier is None or not texts:
        return [[] for _text in texts]
    if min_examples is None:
        min_examples = settings.ROUTING_MIN_EXAMPLES
    if matrix is None:
        matrix = bundle.features.transform(texts)
    probabilities = classifier.predict_proba(matrix)
    classes = [int(value) for value in classifier.classes_]
    known = matrix.getnnz(axis=1)
    ranked = []
    for row, text in enumerate(texts):
        if not known[row] or not has_letters(text):
            ranked.append([])
            continue
        order = sorted(
            range(len(classes)), key=lambda column: -probabilities[row, column]
        )
        pairs = [(classes[c], float(probabilities[row, c])) for c in order]
        eligible = [pair for pair in pairs if counts.get(pair[0], 0) >= min_examples]
        if not eligible:
            ranked.append([])
            continue
        rest = [pair for pair in pairs if pair[0] != eligible[0][0]]
        ranked.append([eligible[0], *rest][:limit])
    return ranked


def figures(
    bundle: Bundle,
    texts: Sequence[str],
    truth: Sequence[int],
    *,
    which: str = "agency",
    min_examples: int | None = None,
    matrix=None,
) -> Figures:
    """How often the true id is the first suggestion, and among the first three."""
    ranked = rank(bundle, texts, which=which, min_examples=min_examples, matrix=matrix)
    top1 = top3 = 0
    for suggestions, expected in zip(ranked, truth, strict=True):
        ids = [value for value, _probability in suggestions]
        top1 += bool(ids) and ids[0] == expected
        top3 += expected in ids[:3]
    n = len(truth)
    return Figures(top1=top1 / n if n else 0.0, top3=top3 / n if n else 0.0, n=n)


@dataclass(frozen=True)
class Trained:
    bundle: Bundle
    agency: Figures
    topic: Figures | None
    trained_on: int


def train(examples: Sequence[Example]) -> Trained:
    """Measure on the most recent tenth (by registration date) with a model fitted on
    the older nine tenths, then fit the model that is kept on everything."""
    if len(examples) < MIN_TRAINING_EXAMPLES:
        raise TrainingError(
            _(
                "Only %(count)d routed or imported appeals with text to learn from; at "
                "least %(minimum)d are needed. No model was trained."
            )
            % {"count": len(examples), "minimum": MIN_TRAINING_EXAMPLES}
        )
    examples = sorted(examples, key=lambda example: (example.at, example.appeal_id))
    held_out = max(1, math.ceil(len(examples) * HELD_OUT_SHARE))
    older, recent = examples[:-held_out], examples[-held_out:]
    trial = fit(
        [e.text for e in older],
        [e.agency_id for e in older],
        [e.topic_id for e in older],
    )
    recent_texts = [e.text for e in recent]
    agency_figures = figures(trial, recent_texts, [e.agency_id for e in recent])
    topic_figures = None
    recent_with_topic = [e for e in recent if e.topic_id is not None]
    if trial.topic is not None and recent_with_topic:
        topic_figures = figures(
            trial,
            [e.text for e in recent_with_topic],
            [e.topic_id for e in recent_with_topic],
            which="topic",
        )
    bundle = fit(
        [e.text for e in examples],
        [e.agency_id for e in examples],
        [e.topic_id for e in examples],
    )
    return Trained(
        bundle=bundle,
        agency=agency_figures,
        topic=topic_figures,
        trained_on=len(examples),
    )


# --- Files and versions --------------------------------------------------------


def dumps(bundle: Bundle) -> bytes:
    import joblib  # comes with scikit-learn; deferred on purpose with it

    buffer = io.BytesIO()
    joblib.dump(bundle, buffer, compress=3)
    return buffer.getvalue()


def loads(data: bytes, *, sha256: str) -> Bundle:
    """Unpickle a file the portal wrote itself: a pickle runs code when loaded, so a
    file whose SHA-256 is not the one recorded when it was written is refused."""
    import joblib  # comes with scikit-learn; deferred on purpose with it

    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("the routing model file is not the one the portal wrote")
    bundle = joblib.load(io.BytesIO(data))  # noqa: S301 - our own file, hash checked
    if not isinstance(bundle, Bundle) or bundle.format != FORMAT:
        raise ValueError("the routing model file has another format")
    return bundle


@transaction.atomic
def store(trained: Trained) -> RoutingModel:
    """Write the file through the default storage (local disk or S3) and make it the
    current version; versions beyond ROUTING_MODEL_VERSIONS are removed, oldest first."""
    data = dumps(trained.bundle)
    now = timezone.now()
    name = default_storage.save(
        f"{STORAGE_DIR}/{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.joblib",
        ContentFile(data),
    )
    figures_data = {
        "agency": trained.agency.as_dict(),
        "topic": trained.topic.as_dict() if trained.topic else None,
        "agencies": len(trained.bundle.agency_counts),
        "topics": len(trained.bundle.topic_counts),
        "bytes": len(data),
        "sklearn": trained.bundle.sklearn_version,
    }
    RoutingModel.objects.select_for_update().filter(is_current=True).update(
        is_current=False
    )
    version = RoutingModel.objects.create(
        file_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        trained_at=now,
        trained_on=trained.trained_on,
        figures=figures_data,
        is_current=True,
    )
    for old in RoutingModel.objects.order_by("-trained_at", "-id")[
        max(settings.ROUTING_MODEL_VERSIONS, 2) :
    ]:
        file_name = old.file_name
        old.delete()
        transaction.on_commit(lambda name=file_name: _delete_file(name))
    return version


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # a file left behind costs space, never a wrong suggestion
        logger.warning("routing model file %s not removed", name, exc_info=True)


def train_and_store(*, since: dt.date | None = None) -> tuple[RoutingModel, Trained]:
    """The whole weekly retraining: read the register, fit, measure, keep."""
    trained = train(training_examples(since=since))
    return store(trained), trained


@transaction.atomic
def rollback() -> RoutingModel:
    """Make the version trained before the current one current again."""
    current = RoutingModel.objects.select_for_update().filter(is_current=True).first()
    older = RoutingModel.objects.select_for_update().order_by("-trained_at", "-id")
    if current is not None:
        older = older.filter(trained_at__lt=current.trained_at) | older.filter(
            trained_at=current.trained_at, id__lt=current.id
        )
    previous = older.first()
    if previous is None:
        raise TrainingError(_("There is no earlier routing model to go back to."))
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    previous.is_current = True
    previous.save(update_fields=["is_current"])
    return previous


@transaction.atomic
def make_current(version_id: int) -> RoutingModel:
    """Use a kept version (the admin's choice)."""
    version = RoutingModel.objects.select_for_update().get(pk=version_id)
    RoutingModel.objects.filter(is_current=True).exclude(pk=version.pk).update(
        is_current=False
    )
    version.is_current = True
    version.save(update_fields=["is_current"])
    return version


# The current version, loaded once per process and kept while it stays current.
_loaded: dict[str, object] = {}


def current() -> tuple[RoutingModel, Bundle] | None:
    """The model in use, or None (no model yet, or its file cannot be read: then the
    portal suggests by today's rule)."""
    version = RoutingModel.objects.filter(is_current=True).first()
    if version is None:
        return None
    if _loaded.get("id") == version.pk and _loaded.get("sha256") == version.sha256:
        bundle = _loaded["bundle"]
        return (version, bundle) if bundle is not None else None
    try:
        with default_storage.open(version.file_name, "rb") as file:
            bundle = loads(file.read(), sha256=version.sha256)
    except Exception:
        # Logged once per process and version: the pages show the rule meanwhile.
        logger.exception("routing model %s cannot be loaded", version.file_name)
        bundle = None
    _loaded.clear()
    _loaded.update(id=version.pk, sha256=version.sha256, bundle=bundle)
    return (version, bundle) if bundle is not None else None


def forget_loaded() -> None:
    _loaded.clear()
