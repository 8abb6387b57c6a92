"""The routing model: what it learns from, train / evaluate / rollback, its files in the
default storage, and the rule when there is no model. Registers are small and built
through the real services (registration, routing, returning, import)."""

import datetime as dt
import io
import random
import re

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import Workbook

from appeals.casework import routing
from appeals.models import RoutingModel
from appeals.suggestions import model, suggest
from appeals.tasks import retrain_routing_model
from tests.engines import s3
from tests.factories import AgencyFactory, TopicFactory, paper_appeal, staff_member

pytestmark = pytest.mark.django_db

s3_server = s3.s3_server
object_storage = s3.object_storage

LINE = re.compile(r"^top1 (\d\.\d{3}) top3 (\d\.\d{3}) n (\d+)$")
TOPIC_LINE = re.compile(r"^topic top1 (\d\.\d{3}) top3 (\d\.\d{3}) n (\d+)$")

# Each agency's words in Kyrgyz, Russian and English; the shared phrases of every appeal.
WORDS = {
    "health": "оорукана дарыгер дары больница врач лекарство hospital doctor medicine",
    "school": "мектеп мугалим окуучу школа учитель ученик school teacher pupil",
    "roads": "жол көпүрө автобус дорога мост автобус road bridge bus",
}
SHARED = "сурайм жардам прошу помочь please help уважаемые көп жолу"


def text_for(kind: str, rng: random.Random) -> str:
    words = rng.choices(WORDS[kind].split(), k=5) + rng.choices(SHARED.split(), k=4)
    rng.shuffle(words)
    return " ".join(words)


@pytest.fixture(autouse=True)
def _small_register(settings):
    settings.ROUTING_MIN_EXAMPLES = 1  # a test's register has a few appeals per agency
    model.forget_loaded()
    yield
    model.forget_loaded()


@pytest.fixture
def bodies():
    return {
        kind: AgencyFactory(slug=f"min-{kind}", code=kind[:2].upper() + "X")
        for kind in WORDS
    }


@pytest.fixture
def topics(bodies):
    return {kind: TopicFactory(code=f"topic-{kind}") for kind in WORDS}


@pytest.fixture
def people():
    return {"clerk": staff_member("clerk"), "controller": staff_member("controller")}


def register_and_route(people, text, lead, topic=None):
    appeal = paper_appeal(people["clerk"], text=text, topic=topic)
    routing.route_appeal(appeal_id=appeal.pk, actor=people["controller"], lead=lead)
    return appeal


def examples_for(bodies, n, *, seed=1, shuffle_labels=False):
    rng = random.Random(seed)
    start = timezone.now() - dt.timedelta(days=n)
    kinds = [rng.choice(list(WORDS)) for _ in range(n)]
    labels = list(kinds)
    if shuffle_labels:
        rng.shuffle(labels)
    return [
        model.Example(
            text=text_for(kind, rng),
            agency_id=bodies[label].pk,
            topic_id=None,
            at=start + dt.timedelta(days=index),
            appeal_id=index + 1,
        )
        for index, (kind, label) in enumerate(zip(kinds, labels, strict=True))
    ]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("routing_model", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines(), err.getvalue()


def test_train_learns_routed_appeals_and_prints_the_held_out_line(
    people, bodies, topics
):
    rng = random.Random(3)
    for index in range(36):
        kind = list(WORDS)[index % 3]
        register_and_route(people, text_for(kind, rng), bodies[kind], topics[kind])

    lines, _err = run("train")

    top1, top3, n = LINE.match(lines[-1]).groups()
    assert int(n) == 4  # the most recent 10 % of 36, rounded up
    assert float(top1) >= 0.75 and float(top3) == 1.0
    assert TOPIC_LINE.match(lines[-2])
    version = RoutingModel.objects.get(is_current=True)
    assert version.trained_on == 36
    assert version.figures["agency"]["n"] == 4
    assert default_storage.exists(version.file_name)


def test_separable_agencies_are_learned_and_random_labels_are_not(bodies):
    separable = model.train(examples_for(bodies, 300))
    random_labels = model.train(examples_for(bodies, 300, shuffle_labels=True))

    assert separable.agency.top1 >= 0.9
    assert random_labels.agency.top1 <= 0.6  # about 1/3 by chance
    assert separable.agency.n == random_labels.agency.n == 30


def test_held_out_appeals_are_the_most_recent_not_a_random_sample(bodies):
    examples = examples_for(bodies, 100)
    # The newest tenth is all about roads, learned as the health ministry's: a model
    # measured on a random sample would score well; on the newest appeals it cannot.
    rng = random.Random(5)
    for example in examples[-10:]:
        examples[examples.index(example)] = model.Example(
            text=text_for("roads", rng),
            agency_id=bodies["health"].pk,
            topic_id=None,
            at=example.at,
            appeal_id=example.appeal_id,
        )

    trained = model.train(examples)

    assert trained.agency.n == 10
    assert trained.agency.top1 == 0.0


def test_a_returned_routing_is_not_learned(people, bodies):
    head = staff_member("head", bodies["health"])
    rerouted = register_and_route(people, "оорукана дарыгер", bodies["health"])
    routing.return_appeal(appeal_id=rerouted.pk, actor=head, reason="Не наше.")
    routing.route_appeal(
        appeal_id=rerouted.pk, actor=people["controller"], lead=bodies["school"]
    )
    waiting = register_and_route(people, "мектеп мугалим", bodies["health"])
    routing.return_appeal(appeal_id=waiting.pk, actor=head, reason="Не наше.")
    kept = register_and_route(people, "жол көпүрө", bodies["roads"])

    learned = {e.appeal_id: e.agency_id for e in model.training_examples()}

    assert learned == {rerouted.pk: bodies["school"].pk, kept.pk: bodies["roads"].pk}


def test_imported_appeals_are_learned_with_their_agency(tmp_path, bodies):
    path = tmp_path / "old.csv"
    path.write_text(
        "received_on,channel,form,agency,applicant,text\n"
        "2024-03-01,other,written,min-school,Асанов Бакыт,мектеп мугалим окуучу\n"
        "2024-03-02,other,written,min-roads,Петрова Анна,\n",
        encoding="utf-8",
    )
    call_command("import_appeals", str(path), stdout=io.StringIO())

    learned = [(e.text, e.agency_id) for e in model.training_examples()]

    assert learned == [("мектеп мугалим окуучу", bodies["school"].pk)]  # no text: out


def test_an_empty_register_trains_no_model():
    with pytest.raises(CommandError, match="at least 20 are needed"):
        run("train")
    assert retrain_routing_model() is None
    assert not RoutingModel.objects.exists()


def test_without_a_model_the_rule_suggests(people, bodies):
    appeal = paper_appeal(
        people["clerk"], text="оорукана дарыгер", addressee=bodies["health"]
    )

    suggestions = suggest.for_appeal(appeal)

    assert suggestions.agencies == []
    assert suggestions.rule == bodies["health"]


def test_suggestions_name_three_agencies_and_the_words_that_weighed(bodies):
    model.store(model.train(examples_for(bodies, 120)))

    suggestions = suggest.for_text("Прошу помочь: школа, учитель не ходит, мектеп")

    assert [s.agency for s in suggestions.agencies][0] == bodies["school"]
    assert len(suggestions.agencies) == 3
    assert suggestions.first.probability > suggestions.agencies[1].probability
    assert set(suggestions.top_words[:3]) == {"школа", "учитель", "мектеп"}


def test_text_without_words_gets_no_suggestion(bodies):
    model.store(model.train(examples_for(bodies, 60)))

    assert suggest.for_text("12345 / 678 ... !!!").agencies == []


def test_an_agency_with_too_few_examples_is_never_first(settings, bodies):
    rare = bodies["roads"].pk
    examples = [e for e in examples_for(bodies, 150) if e.agency_id != rare]
    examples += [e for e in examples_for(bodies, 60) if e.agency_id == rare][:5]
    settings.ROUTING_MIN_EXAMPLES = 6
    model.store(model.train(examples))

    suggestions = suggest.for_text("жол көпүрө дорога мост road bridge")

    assert suggestions.first.agency != bodies["roads"]
    assert bodies["roads"] in [s.agency for s in suggestions.agencies]


def test_rollback_restores_the_previous_model(bodies):
    first = model.store(model.train(examples_for(bodies, 60, seed=1)))
    second = model.store(model.train(examples_for(bodies, 60, seed=2)))
    assert model.current()[0] == second

    lines, _err = run("rollback")

    assert RoutingModel.objects.get(is_current=True) == first
    assert model.current()[0] == first
    assert "is in use again" in lines[-1]
    with pytest.raises(CommandError, match="no earlier routing model"):
        run("rollback")


def test_only_the_newest_versions_are_kept(settings, bodies):
    settings.ROUTING_MODEL_VERSIONS = 2
    versions = [model.store(model.train(examples_for(bodies, 40))) for _ in range(3)]

    assert list(RoutingModel.objects.all()) == versions[:0:-1]


def test_a_model_file_changed_outside_the_portal_is_not_loaded(bodies):
    version = model.store(model.train(examples_for(bodies, 60)))
    default_storage.delete(version.file_name)
    default_storage.save(version.file_name, io.BytesIO(b"not the portal's pickle"))

    assert model.current() is None
    assert suggest.for_text("мектеп мугалим").agencies == []


@pytest.mark.slow
def test_the_model_file_is_kept_in_object_storage(object_storage, bodies):
    version = model.store(model.train(examples_for(bodies, 60)))

    assert object_storage.keys("routing-models/") == [version.file_name]
    model.forget_loaded()
    assert model.current()[0] == version


def _evaluation_rows(bodies, topics):
    rng = random.Random(9)
    return [
        (text_for(kind, rng), bodies[kind].slug, topics[kind].code)
        for kind in list(WORDS) * 5
    ]


@pytest.fixture
def trained(bodies, topics):
    examples = [
        model.Example(
            text=e.text,
            agency_id=e.agency_id,
            topic_id=topics[next(k for k in bodies if bodies[k].pk == e.agency_id)].pk,
            at=e.at,
            appeal_id=e.appeal_id,
        )
        for e in examples_for(bodies, 90)
    ]
    return model.store(model.train(examples))


def test_evaluate_a_csv_file(tmp_path, trained, bodies, topics):
    path = tmp_path / "check.csv"
    lines = ["text;agency;topic"] + [
        ";".join(row) for row in _evaluation_rows(bodies, topics)
    ]
    path.write_text("\n".join(lines), encoding="utf-8-sig")

    out, _err = run("evaluate", str(path))

    top1, _top3, n = LINE.match(out[-1]).groups()
    assert (float(top1), int(n)) >= (0.8, 15)
    assert TOPIC_LINE.match(out[-2]).group(3) == "15"


def test_evaluate_an_xlsx_file_without_topics(tmp_path, trained, bodies, topics):
    book = Workbook()
    book.active.append(["agency", "text"])
    for text, slug, _code in _evaluation_rows(bodies, topics):
        book.active.append([slug, text])
    path = tmp_path / "check.xlsx"
    book.save(path)

    out, _err = run("evaluate", str(path))

    assert LINE.match(out[-1]).group(3) == "15"
    assert not any(TOPIC_LINE.match(line) for line in out)


def test_evaluate_refuses_unknown_agencies_line_by_line(tmp_path, trained):
    path = tmp_path / "bad.csv"
    path.write_text(
        "text,agency\nмектеп,min-school\nжол,min-nowhere\n,min-roads\n",
        encoding="utf-8",
    )

    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as error:
        call_command("routing_model", "evaluate", str(path), stdout=out, stderr=err)

    assert error.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 3: unknown agency “min-nowhere”",
        "line 4: the text is empty",
    ]
    assert out.getvalue() == ""


def test_evaluate_refuses_a_file_without_the_agency_column(tmp_path, trained):
    path = tmp_path / "bad.csv"
    path.write_text("text\nмектеп\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("routing_model", "evaluate", str(path), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 1: required column “agency” is missing"
    ]


def test_train_since_a_date_learns_only_appeals_received_since(people, bodies):
    register_and_route(people, "оорукана дарыгер", bodies["health"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    assert len(model.training_examples(since=timezone.localdate())) == 1
    assert model.training_examples(since=tomorrow) == []
    with pytest.raises(CommandError, match="Only 0 routed"):
        run("train", "--since", tomorrow.isoformat())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("train", "--since", "yesterday")
