"""Routing suggestions' model (issue 30, part 6): training time and peak memory, the
prediction time per appeal (p95; the target is under 20 ms) and the model file's size.

    .venv/bin/python bench/routing_model.py --appeals 100000

Synthetic but realistic appeals, generated in memory (no database: the fit is what
costs): Kyrgyz, Russian and English texts, some mixing two languages, each built from
the vocabulary of its competent agency (a ministry's words, a region's names), the
phrases every appeal shares, and in one appeal out of six words of a neighbouring
agency, so agencies overlap as real ones do. Sizes skewed like a register: one large
ministry, a long tail. The full recipe of `routing_model train` is timed: the trial fit
on the older 90 %, the figures on the recent 10 %, the fit that is kept on everything.
Prints figures; asserts nothing. Peak memory is the process's maximum resident size.
"""

import argparse
import datetime as dt
import hashlib
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

# The words of each kind of body, in ky / ru / en.
DOMAINS = {
    "health": (
        "оорукана дарыгер дары бейтап медициналык",
        "больница врач лекарство поликлиника медицинский пациент",
        "hospital doctor medicine clinic patient treatment",
    ),
    "education": (
        "мектеп мугалим окуучу бала бакча билим",
        "школа учитель ученик детский сад образование класс",
        "school teacher pupil kindergarten education classroom",
    ),
    "labour": (
        "пенсия жөлөкпул эмгек акы жумуш",
        "пенсия пособие зарплата работа трудовой стаж выплата",
        "pension benefit salary job employment payment",
    ),
    "interior": (
        "милиция кылмыш уурулук участковый",
        "милиция полиция кража преступление участковый заявление",
        "police theft crime officer robbery investigation",
    ),
    "land": (
        "жер участок кадастр мүлк документ",
        "земля участок кадастр собственность межевание госакт",
        "land plot cadastre property boundary title",
    ),
    "transport": (
        "жол автобус унаа көпүрө ремонт",
        "дорога автобус транспорт мост ремонт маршрут",
        "road bus transport bridge repair route",
    ),
    "energy": (
        "электр жарык свет ток эсептегич",
        "электричество свет отключение счётчик тариф подстанция",
        "electricity power outage meter tariff substation",
    ),
    "water": (
        "суу ичүүчү суу канализация кудук",
        "вода водопровод канализация колодец питьевая",
        "water supply sewage well drinking pipe",
    ),
    "tax": (
        "салык патент декларация төлөм",
        "налог патент декларация налоговая задолженность",
        "tax patent declaration arrears return",
    ),
    "justice": (
        "сот адвокат нотариус юридикалык",
        "суд адвокат нотариус юридическая помощь решение",
        "court lawyer notary legal aid ruling",
    ),
    "migration": (
        "паспорт мигрант жаран документ каттоо",
        "паспорт мигрант гражданство прописка регистрация",
        "passport migrant citizenship residence registration",
    ),
    "housing": (
        "үй батир турак жай кезек",
        "жильё квартира общежитие очередь аварийный дом",
        "housing flat dormitory queue apartment",
    ),
}
REGIONS = (
    "Бишкек Ош Нарын Талас Баткен Жалал-Абад Каракол Токмок Балыкчы Кара-Балта "
    "Кант Өзгөн Кызыл-Кыя Сузак Ат-Башы Чолпон-Ата Кочкор Аламүдүн"
).split()
SHARED = {
    "ky": "сурайм жардам бериңиздер көп жолу кайрылдым чечилбей жатат урматтуу",
    "ru": "прошу помочь неоднократно обращался вопрос не решается уважаемые",
    "en": "please help repeatedly asked problem not solved dear sirs",
}
LANGUAGES = ("ky", "ru", "en")


def agencies(count: int) -> list[dict]:
    """Ministries first (one per domain), then regional administrations whose words
    are their region's names and a domain's, to reach `count`."""
    made = []
    domains = list(DOMAINS)
    for index in range(count):
        domain = domains[index % len(domains)]
        region = REGIONS[index // len(domains) - 1] if index >= len(domains) else ""
        made.append({"id": index + 1, "domain": domain, "region": region})
    return made


def text_of(agency: dict, rng: random.Random, neighbour: dict | None) -> str:
    language = rng.choice(LANGUAGES)
    words = DOMAINS[agency["domain"]][LANGUAGES.index(language)].split()
    parts = rng.choices(words, k=rng.randint(3, 8))
    parts += rng.choices(SHARED[language].split(), k=rng.randint(3, 7))
    if agency["region"]:
        parts += [agency["region"]] * rng.randint(1, 2)
    if rng.random() < 0.15:  # a second language mixed in
        other = rng.choice(LANGUAGES)
        parts += rng.choices(SHARED[other].split(), k=3)
    if neighbour is not None:
        parts += rng.choices(
            DOMAINS[neighbour["domain"]][LANGUAGES.index(language)].split(), k=2
        )
        if neighbour["region"]:
            parts.append(neighbour["region"])
    parts += [str(rng.randint(1, 300)) for _ in range(rng.randint(0, 2))]
    rng.shuffle(parts)
    return " ".join(parts).capitalize() + "."


def generate(n: int, agency_count: int, seed: int = 7):
    """n examples (text, agency id, topic id), in registration order."""
    rng = random.Random(seed)
    bodies = agencies(agency_count)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(bodies))]
    weights[0] *= 3  # the one large ministry
    domains = list(DOMAINS)
    texts, labels, topics = [], [], []
    for _ in range(n):
        agency = rng.choices(bodies, weights)[0]
        neighbour = rng.choice(bodies) if rng.random() < 1 / 6 else None
        texts.append(text_of(agency, rng, neighbour))
        labels.append(agency["id"])
        topics.append(domains.index(agency["domain"]) + 1)
    return texts, labels, topics


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appeals", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=40)
    parser.add_argument("--predictions", type=int, default=1000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from appeals.suggestions import model

    started = time.perf_counter()
    texts, labels, topics = generate(args.appeals, args.agencies)
    print(f"generated {args.appeals} appeals in {time.perf_counter() - started:.1f} s")
    at = 0
    examples = []
    for text, label, topic in zip(texts, labels, topics, strict=True):
        at += 1
        examples.append(
            model.Example(
                text=text,
                agency_id=label,
                topic_id=topic,
                at=dt.datetime.fromtimestamp(1_700_000_000 + at, tz=dt.UTC),
                appeal_id=at,
            )
        )
    del texts, labels, topics
    before = peak_mb()
    started = time.perf_counter()
    trained = model.train(examples)
    seconds = time.perf_counter() - started
    print(
        f"training (trial fit on 90 %, figures, fit on 100 %): {seconds:.1f} s, "
        f"peak resident memory {peak_mb():.0f} MB (before training {before:.0f} MB)"
    )
    print(f"held-out agency: {trained.agency.line()}")
    if trained.topic:
        print(f"held-out topic:  {trained.topic.line('topic')}")
    data = model.dumps(trained.bundle)
    print(
        f"model file: {len(data) / 1e6:.1f} MB compressed; "
        f"{trained.bundle.word_features} word features, "
        f"{len(trained.bundle.features.transformer_list[1][1].vocabulary_)} character "
        f"features, {len(trained.bundle.agency_counts)} agencies"
    )
    started = time.perf_counter()
    bundle = model.loads(data, sha256=hashlib.sha256(data).hexdigest())
    print(f"model load: {time.perf_counter() - started:.2f} s")
    rng = random.Random(11)
    probes = [
        examples[rng.randrange(len(examples))].text for _ in range(args.predictions)
    ]
    timings = []
    for text in probes:
        started = time.perf_counter()
        model.rank(bundle, [text], min_examples=settings.ROUTING_MIN_EXAMPLES)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = timings[len(timings) // 2]
    p95 = timings[int(len(timings) * 0.95)]
    print(
        f"prediction per appeal ({args.predictions}): p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms (target p95 < 20 ms)"
    )


if __name__ == "__main__":
    main()
