"""Demo data for `make run`: agencies, topics, one user per role, a few hundred appeals.

Everything is created through the same services the portal uses, and loading twice
changes nothing.
"""

import base64
import datetime as dt
import random
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Agency, ApiClient, ApiScope, Membership, Topic
from appeals.accounts import two_factor
from appeals.api.clients import hash_key, sync_clerk_role
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Appeal, Channel, Delivery, Form, Kind

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 (printed for the demo, never deployed)
# Two-factor login of the demo's controller, head and admin (appeals.accounts.two_factor): one
# fixed authenticator key (base32, for any TOTP app) and fixed backup codes, put back
# each time the demo is loaded. Published in the README: the demo only.
DEMO_TOTP_SECRET = "KYRG YZDE MOPO RTAL 2FA3 SECR ETKE Y234"  # noqa: S105
DEMO_BACKUP_CODES = [f"demo-2026-{n}" for n in range(1, 6)]
DEMO_TWO_FACTOR_USERS = ("controller", "head", "admin")
# The demo API client's key (prefix "demo0000"), printed by load_demo like the logins.
DEMO_API_KEY = "demo0000.demo-api-key-2026-never-deployed"  # noqa: S105

AGENCIES = [
    # slug, code, kind, ky, ru, en, phone, email
    (
        "min-education",
        "MON",
        "ministry",
        "Кыргыз Республикасынын Билим берүү жана илим министрлиги",
        "Министерство образования и науки Кыргызской Республики",
        "Ministry of Education and Science of the Kyrgyz Republic",
        "+996 312 66 24 42",
        "info@edu.gov.kg",
    ),
    (
        "min-health",
        "MZ",
        "ministry",
        "Кыргыз Республикасынын Саламаттык сактоо министрлиги",
        "Министерство здравоохранения Кыргызской Республики",
        "Ministry of Health of the Kyrgyz Republic",
        "+996 312 62 26 80",
        "mz@med.kg",
    ),
    (
        "min-interior",
        "MVD",
        "ministry",
        "Кыргыз Республикасынын Ички иштер министрлиги",
        "Министерство внутренних дел Кыргызской Республики",
        "Ministry of Internal Affairs of the Kyrgyz Republic",
        "+996 312 26 60 27",
        "info@mvd.gov.kg",
    ),
    (
        "min-labour",
        "MT",
        "ministry",
        "Кыргыз Республикасынын Эмгек, социалдык камсыздоо жана миграция министрлиги",
        "Министерство труда, социального обеспечения и миграции Кыргызской Республики",
        "Ministry of Labour, Social Security and Migration of the Kyrgyz Republic",
        "+996 312 62 14 05",
        "mlsp@mlsp.gov.kg",
    ),
    (
        "min-transport",
        "MTK",
        "ministry",
        "Кыргыз Республикасынын Транспорт жана коммуникациялар министрлиги",
        "Министерство транспорта и коммуникаций Кыргызской Республики",
        "Ministry of Transport and Communications of the Kyrgyz Republic",
        "+996 312 31 41 52",
        "mtk@mtc.gov.kg",
    ),
    (
        "social-fund",
        "SF",
        "agency",
        "Кыргыз Республикасынын Социалдык фонду",
        "Социальный фонд Кыргызской Республики",
        "Social Fund of the Kyrgyz Republic",
        "+996 312 61 30 44",
        "info@socfond.kg",
    ),
    (
        "bishkek-mayor",
        "BSM",
        "mayors_office",
        "Бишкек шаарынын мэриясы",
        "Мэрия города Бишкек",
        "Bishkek City Hall",
        "+996 312 30 09 50",
        "info@meria.kg",
    ),
]

TOPICS = [
    # code, ky, ru, en, default agency slug
    ("education", "Билим берүү", "Образование", "Education", "min-education"),
    ("health", "Саламаттык сактоо", "Здравоохранение", "Health care", "min-health"),
    (
        "pensions",
        "Пенсиялар жана социалдык жөлөкпулдар",
        "Пенсии и социальные пособия",
        "Pensions and social benefits",
        "social-fund",
    ),
    (
        "employment",
        "Эмгек жана жумуш менен камсыз кылуу",
        "Труд и занятость",
        "Labour and employment",
        "min-labour",
    ),
    (
        "public-order",
        "Коомдук тартип",
        "Общественный порядок",
        "Public order",
        "min-interior",
    ),
    (
        "roads",
        "Жолдор жана транспорт",
        "Дороги и транспорт",
        "Roads and transport",
        "min-transport",
    ),
    (
        "housing",
        "Турак жай жана коммуналдык кызматтар",
        "Жильё и коммунальные услуги",
        "Housing and utilities",
        "bishkek-mayor",
    ),
    ("other", "Башка маселелер", "Другие вопросы", "Other matters", None),
]

USERS = [
    # username, role, agency slug, first name, last name
    ("clerk", Membership.Role.CLERK, "gov-apparatus", "Айгүл", "Сыдыкова"),
    ("controller", Membership.Role.CONTROLLER, "gov-apparatus", "Бакыт", "Осмонов"),
    ("executor", Membership.Role.EXECUTOR, "min-health", "Нурлан", "Жумабеков"),
    ("head", Membership.Role.HEAD, "min-health", "Динара", "Абдыкадырова"),
    ("manager", Membership.Role.MANAGER, "gov-apparatus", "Эрмек", "Токтосунов"),
]

NAMES = [
    "Асанов Бакыт Талантбекович",
    "Иванова Мария Петровна",
    "Жээнбекова Гүлнара Асылбековна",
    "Мамытов Эрлан Кубанычбекович",
    "Ким Ольга Викторовна",
    "Турдубаев Нурбек Маратович",
    "Сулайманова Айпери Бекболотовна",
    "Петров Сергей Иванович",
]
TEXTS = {
    "ky": "Биздин айылдагы мектептин чатыры агып жатат, оңдоп берүүңүздөрдү суранабыз.",
    "ru": "Прошу разобраться с задержкой выплаты пособия по уходу за ребёнком.",
    "en": "The street lights on our street have not worked for three months.",
}
# A few portal submissions the clerks' flags point at (appeals.intake.flags): every
# eighth one and the one two after it, in the clerk's queue and the controllers'.
FLAGGED_TEXTS = [
    "БИЗДИН КӨЧӨДӨ ҮЧ АЙДАН БЕРИ ЖАРЫК ЖОК, ЖАРДАМ БЕРИҢИЗДЕР!",
    "Zdravstvuyte! Ya ne mogu poluchit pensiyu uzhe tri mesyatsa, pomogite pozhaluysta.",
]
# Written appeals by channel, roughly as in the chancellery's published figures.
CHANNEL_WEIGHTS = {
    Channel.PRESIDENT_OFFICE: 16,
    Channel.JOGORKU_KENESH: 19,
    Channel.PUBLIC_RECEPTION: 18,
    Channel.OTHER: 37,
}


def load(*, appeals: int = 300, seed: int = 2026) -> dict:
    """Create what is missing; return what was created, for the command to print."""
    created = {"agencies": 0, "topics": 0, "users": 0, "appeals": 0}
    with transaction.atomic():
        agencies = {"gov-apparatus": Agency.objects.get(slug="gov-apparatus")}
        for slug, code, kind, ky, ru, en, phone, email in AGENCIES:
            agency, new = Agency.objects.get_or_create(
                slug=slug,
                defaults={
                    "code": code,
                    "kind": kind,
                    "parent": agencies["gov-apparatus"],
                    "name_ky": ky,
                    "name_ru": ru,
                    "name_en": en,
                    "phone": phone,
                    "email": email,
                    "address_ky": "Бишкек ш.",
                    "address_ru": "г. Бишкек",
                    "address_en": "Bishkek",
                },
            )
            agencies[slug] = agency
            created["agencies"] += new
        topics = []
        for code, ky, ru, en, agency_slug in TOPICS:
            topic, new = Topic.objects.get_or_create(
                code=code,
                defaults={
                    "name_ky": ky,
                    "name_ru": ru,
                    "name_en": en,
                    "default_agency": agencies.get(agency_slug),
                },
            )
            topics.append(topic)
            created["topics"] += new
        users = _users(agencies, created)
        _second_factor(users)
        _api_client(agencies["gov-apparatus"])
    if not Appeal.objects.exists():
        created["appeals"] = _appeals(appeals, seed, agencies, topics, users)
    return created


def _api_client(agency: Agency) -> None:
    """A client with every scope and the known demo key; the Apparatus's filing form
    may be framed by a page on the developer's machine."""

    if not agency.embed_origins:
        agency.embed_origins = "http://localhost:8000\nhttp://127.0.0.1:8080"
        agency.save(update_fields=["embed_origins"])
    if ApiClient.objects.filter(key_prefix="demo0000").exists():
        return
    user = get_user_model().objects.create_user(
        username="api-demo0000", first_name="Demo system"
    )
    client = ApiClient.objects.create(
        name="Demo: Jogorku Kenesh document system",
        agency=agency,
        user=user,
        scopes=list(ApiScope.values),
        key_prefix="demo0000",
        key_hash=hash_key(DEMO_API_KEY),
        callback_secret="demo-callback-secret",  # noqa: S106
    )
    sync_clerk_role(client=client)


def _users(agencies: dict, created: dict) -> dict:
    User = get_user_model()
    users = {}
    for username, role, agency_slug, first, last in USERS:
        user, new = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": False},
        )
        if new:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created["users"] += 1
        Membership.objects.get_or_create(
            user=user, agency=agencies[agency_slug], role=role
        )
        users[username] = user
    admin, new = User.objects.get_or_create(
        username="admin",
        defaults={"is_staff": True, "is_superuser": True, "first_name": "Admin"},
    )
    if new:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        created["users"] += 1
    users["admin"] = admin
    return users


def _second_factor(users: dict) -> None:
    key = base64.b32decode(DEMO_TOTP_SECRET.replace(" ", "")).hex()
    for username in DEMO_TWO_FACTOR_USERS:
        user = users[username]
        TOTPDevice.objects.update_or_create(
            user=user,
            name="demo authenticator",
            defaults={"key": key, "confirmed": True},
        )
        two_factor.issue_backup_codes(user=user, codes=DEMO_BACKUP_CODES)


def _appeals(total: int, seed: int, agencies: dict, topics: list, users: dict) -> int:
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    clerk = users["clerk"]
    apparatus = agencies["gov-apparatus"]
    now = timezone.now()
    count = 0

    def applicant(i: int) -> dict:
        return {
            "applicant_name": NAMES[i % len(NAMES)],
            "applicant_address": "Бишкек ш., Манас пр., 1",
            "applicant_phone": f"+996 555 {100000 + i:06d}",
            "applicant_email": f"citizen{i}@example.kg" if i % 3 else "",
        }

    portal_count = total // 5
    for i in range(portal_count):
        language = rng.choice(["ky", "ky", "ru", "en"])
        submission = filing.submit_appeal(
            submission_key=uuid.UUID(int=rng.getrandbits(128)),
            text=FLAGGED_TEXTS[i % 8 // 2] if i % 8 in (0, 2) else TEXTS[language],
            language=language,
            kind=rng.choice(Kind.values),
            topic=rng.choice(topics),
            addressee=rng.choice([None, *agencies.values()]),
            received_at=now - dt.timedelta(hours=rng.randint(1, 24 * 20)),
            **applicant(i),
        )
        count += 1
        # Most portal submissions have been registered by the clerk by now.
        if i % 4 == 0:
            continue
        if i % 10 == 1:
            registration.leave_without_consideration(
                appeal_id=submission.appeal.pk,
                actor=clerk,
                ground="no_name_or_address",
                reason="Кайрылууда арыз ээсинин дареги жана байланыш маалыматы жок.",
            )
        else:
            registration.register_appeal(
                appeal_id=submission.appeal.pk, actor=clerk, agency=apparatus
            )

    channels = list(CHANNEL_WEIGHTS)
    weights = list(CHANNEL_WEIGHTS.values())
    for i in range(portal_count, total - total // 5):
        oral = i % 12 == 0
        channel = (
            Channel.PUBLIC_RECEPTION if oral else rng.choices(channels, weights)[0]
        )
        language = rng.choice(["ky", "ky", "ru"])
        received_at = now - dt.timedelta(
            days=rng.randint(0, 60), hours=rng.randint(0, 8)
        )
        forwarded = channel in (Channel.PRESIDENT_OFFICE, Channel.JOGORKU_KENESH)
        registration.register_paper_appeal(
            actor=clerk,
            agency=apparatus,
            channel=channel,
            delivery=rng.choice(Delivery.values) if channel == Channel.OTHER else "",
            form=Form.ORAL if oral else Form.WRITTEN,
            kind=rng.choice(Kind.values),
            topic=rng.choice(topics),
            language=language,
            received_at=received_at,
            backdate_reason="Демо: архивдик маалымат"
            if received_at < now - dt.timedelta(days=1)
            else "",
            cover_letter_number=f"{rng.randint(1, 999)}/{received_at:%y}"
            if forwarded
            else "",
            cover_letter_date=received_at.date() if forwarded else None,
            received_by=clerk if oral else None,
            text=TEXTS[language],
            **applicant(i),
        )
        count += 1

    _work_on_registered(rng, agencies, users)

    # Last year's register, as an import of archival records would bring it.
    last_year = now.year - 1
    for i in range(total // 5):
        channel = rng.choices([*channels, Channel.PORTAL], [*weights, 10])[0]
        registration.import_archival_appeal(
            agency=apparatus,
            received_on=dt.date(last_year, rng.randint(1, 12), rng.randint(1, 28)),
            channel=channel,
            delivery=rng.choice(Delivery.values) if channel == Channel.OTHER else "",
            form=Form.WRITTEN,
            kind=rng.choice(Kind.values),
            applicant_name=NAMES[i % len(NAMES)],
        )
        count += 1
    return count


ANSWERS = {
    "ky": "Кайрылууңуз каралды. Мектептин чатырын оңдоо иштери кийинки айда башталат.",
    "ru": "Ваше обращение рассмотрено. Пособие будет выплачено до конца месяца.",
    "en": "Your appeal has been considered. The street lights will be repaired this month.",
}


def _work_on_registered(rng, agencies: dict, users: dict) -> None:
    """Route most registered appeals the way controllers would; the Ministry of Health's
    head and executor work on theirs, and a few get an approved answer."""
    controller, head, executor = users["controller"], users["head"], users["executor"]
    health = agencies["min-health"]
    bodies = [agency for slug, agency in agencies.items() if slug != "gov-apparatus"]
    registered = list(
        Appeal.objects.filter(status="registered")
        .select_related("topic")
        .order_by("id")
    )
    answered = 0
    for index, appeal in enumerate(registered):
        if index % 5 == 0:
            continue  # waits in the controllers' queue
        lead = health if index % 3 == 0 else rng.choice(bodies)
        routing.route_appeal(
            appeal_id=appeal.pk,
            actor=controller,
            lead=lead,
            co_executors=[rng.choice(bodies)] if index % 7 == 0 else [],
            cover_note="Кароо үчүн жиберилди.",
        )
        if lead != health or index % 2:
            continue
        routing.assign_executor(appeal_id=appeal.pk, actor=head, executor=executor)
        if answered < 8:
            answering.save_answer_draft(
                appeal_id=appeal.pk,
                actor=executor,
                text=ANSWERS[appeal.language],
                outcome=rng.choice(["supported", "explained", "not_supported"]),
                submit=True,
            )
            answering.approve_answer(appeal_id=appeal.pk, actor=head)
            answered += 1
