"""factory_boy factories for people and agencies; appeals are built through services."""

import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency, Membership, Topic
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Attachment
from tests.files import pdf_bytes


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"agency-{n}")
    code = factory.Sequence(lambda n: f"AG{n}")
    name_ky = factory.Sequence(lambda n: f"Агенттик {n}")
    name_ru = factory.Sequence(lambda n: f"Агентство {n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"topic-{n}")
    name_ky = factory.Sequence(lambda n: f"Тема ky {n}")
    name_ru = factory.Sequence(lambda n: f"Тема {n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Айгүл"
    last_name = "Сыдыкова"
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")


def staff_member(role: str, agency: Agency | None = None, **kwargs):
    """A user with one role in one agency (the Government Apparatus by default)."""
    user = UserFactory(**kwargs)
    user.save()
    agency = agency or Agency.objects.get(slug="gov-apparatus")
    Membership.objects.get_or_create(user=user, agency=agency, role=role)
    return user


# --- Appeals, built through the services as staff would act ----------------------

ANSWER = "Проверка проведена: пособие будет выплачено до конца месяца вместе с долгом."


def portal_submission(**fields) -> filing.Submission:
    """A citizen's appeal sent through the portal's service; `fields` override the
    defaults (a complaint in Kyrgyz, with an e-mail address for the receipt)."""
    values = {
        "submission_key": uuid.uuid4(),
        "applicant_name": "Асанов Бакыт",
        "applicant_email": "bakyt@example.kg",
        "text": "Биздин көчөдө жарык жок, үч айдан бери.",
        "language": "ky",
        "kind": "complaint",
        **fields,
    }
    return filing.submit_appeal(**values)


def paper_appeal(clerk, **fields):
    """A written appeal registered by a clerk of the Government Apparatus; `fields`
    override the defaults (a letter by post from a Russian-speaking citizen)."""
    values = {
        "agency": Agency.objects.get(slug="gov-apparatus"),
        "channel": "other",
        "delivery": "post",
        "form": "written",
        "kind": "statement",
        "applicant_name": "Иванова Мария",
        "applicant_email": "maria@example.kg",
        "text": "Третий месяц не выплачивают пособие по уходу за ребёнком.",
        "language": "ru",
        "received_at": timezone.now(),
        **fields,
    }
    return registration.register_paper_appeal(actor=clerk, **values)[0]


def route_and_assign(appeal, people: dict, lead: Agency, **route_fields) -> None:
    """The controller routes the appeal to `lead`; its head assigns the executor.
    `people` holds "controller", "head" and "executor"."""
    routing.route_appeal(
        appeal_id=appeal.pk, actor=people["controller"], lead=lead, **route_fields
    )
    routing.assign_executor(
        appeal_id=appeal.pk, actor=people["head"], executor=people["executor"]
    )


def submit_answer(appeal, people: dict, *, text: str = ANSWER, outcome="supported"):
    """The assigned executor submits the answer for the head's approval."""
    return answering.save_answer_draft(
        appeal_id=appeal.pk,
        actor=people["executor"],
        text=text,
        outcome=outcome,
        submit=True,
    )


def answer_appeal(appeal, people: dict, lead: Agency, **answer_fields):
    """Routed, assigned, answered and approved: the appeal closes with its letter."""
    route_and_assign(appeal, people, lead)
    submit_answer(appeal, people, **answer_fields)
    return answering.approve_answer(appeal_id=appeal.pk, actor=people["head"])


def filing_form(topic_code: str, **overrides) -> dict:
    """What the citizen's filing form posts (a complaint in Kyrgyz with a phone and an
    e-mail); `overrides` replace or add fields."""
    return {
        "submission_key": str(uuid.uuid4()),
        "addressee": "",
        "kind": "complaint",
        "topic": topic_code,
        "text": "Биздин көчөдө үч айдан бери жарык күйбөй жатат, жардам бериңиздер.",
        "applicant_name": "Асанов Бакыт",
        "applicant_address": "",
        "applicant_phone": "+996 555 123 456",
        "applicant_email": "bakyt@example.kg",
        "is_collective": "0",
        "signatories": "",
        "language": "ky",
        "consent": "on",
        "website": "",
        **overrides,
    }


def written_registration_form(**overrides) -> dict:
    """What the clerk's form for a written appeal posts (a letter forwarded by the
    Jogorku Kenesh, received today); `overrides` replace or add fields."""
    today = timezone.localdate().isoformat()
    return {
        "submission_key": str(uuid.uuid4()),
        "channel": "jogorku_kenesh",
        "delivery": "",
        "received_on": today,
        "backdate_reason": "",
        "cover_letter_number": "12-3/456",
        "cover_letter_date": today,
        "applicant_name": "Мамытов Эрлан",
        "applicant_address": "Ош ш., Ленин көч., 5",
        "applicant_phone": "",
        "applicant_email": "",
        "kind": "statement",
        "topic": "",
        "addressee": "",
        "text": "Жер участогун каттоо боюнча маселе чечилбей жатат.",
        "signatories": "1",
        "language": "ky",
        **overrides,
    }


def ministry_of_health() -> Agency:
    return AgencyFactory(
        slug="min-health",
        code="MZ",
        name_ky="Саламаттык сактоо министрлиги",
        name_ru="Министерство здравоохранения",
        name_en="Ministry of Health",
    )


def presidents_letter(clerk, name: str, **extra):
    """A complaint forwarded by the President's Office, registered by a clerk of the
    Government Apparatus today: (appeal, access code)."""
    return registration.register_paper_appeal(
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="president_office",
        form="written",
        kind="complaint",
        applicant_name=name,
        applicant_address="Бишкек, ул. Токтогула, 1",
        applicant_email="citizen@example.kg",
        text="Третий месяц не выплачивают пособие по уходу за ребёнком.",
        language="ru",
        received_at=timezone.now(),
        cover_letter_number="01-123",
        cover_letter_date=timezone.localdate(),
        **extra,
    )


def paper_scan(name: str = "скан.pdf") -> filing.NewAttachment:
    """A clerk's scan of a paper original: a real one-page PDF."""
    return filing.NewAttachment(
        name=name,
        content_type="application/pdf",
        content=pdf_bytes(),
        purpose=Attachment.Purpose.SCAN,
    )
