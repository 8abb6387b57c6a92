"""A small portal with an appeal in every state, built through the real services, so
that every page the accessibility checks open has something on it."""

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from django.utils import timezone

from agencies.models import Agency
from appeals.casework import answering, routing
from appeals.intake import filing, registration
from appeals.models import Appeal, DataSubjectRequest
from appeals.privacy import subject_access
from appeals.register import codes
from tests.factories import (
    AgencyFactory,
    TopicFactory,
    ministry_of_health,
    paper_scan,
    presidents_letter,
    staff_member,
)

ROLES = ("clerk", "controller", "head", "executor", "manager")


@dataclass
class World:
    submitted: Appeal  # a portal appeal waiting for the clerk
    registered: Appeal  # in the controllers' queue
    in_work: Appeal  # routed to the ministry, executor assigned, with a scan
    answered: Appeal  # answered and closed
    answered_code: str
    data_request: DataSubjectRequest | None = None  # overdue: in_work and answered

    @property
    def quarter(self) -> str:
        return quarter_of(timezone.localdate())


def quarter_of(day: dt.date) -> str:
    """The report form's period code of the quarter a day falls in: Q1..Q4."""
    return f"Q{math.ceil(day.month / 3)}"


def build_world() -> World:
    ministry = ministry_of_health()
    topic = TopicFactory(
        code="social",
        name_ky="Социалдык коргоо",
        name_ru="Социальная защита",
        name_en="Social protection",
    )
    users = {
        role: staff_member(
            role, ministry if role in ("head", "executor") else None, username=role
        )
        for role in ROLES
    }

    def register(name: str, **extra) -> tuple[Appeal, str]:
        return presidents_letter(users["clerk"], name, topic=topic, **extra)

    registered, _ = register("Сыдыков Марат")
    in_work, _ = register(
        "Иванова Мария Петровна",
        files=[paper_scan()],
    )
    answered, answered_code = register("Петров Иван Сергеевич")
    for appeal in (in_work, answered):
        routing.route_appeal(
            appeal_id=appeal.pk, actor=users["controller"], lead=ministry
        )
        routing.assign_executor(
            appeal_id=appeal.pk, actor=users["head"], executor=users["executor"]
        )
    answering.save_answer_draft(
        appeal_id=answered.pk,
        actor=users["executor"],
        text="Проверка проведена: пособие будет выплачено до конца месяца.",
        outcome="supported",
        submit=True,
    )
    answering.approve_answer(appeal_id=answered.pk, actor=users["head"])
    submitted = filing.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө түнкүсүн жарык жок.",
        language="ky",
        kind="complaint",
        topic=topic,
    ).appeal
    for appeal in (registered, in_work, answered):
        appeal.refresh_from_db()
    data_request = subject_access.record_request(
        actor=users["clerk"],
        agency=in_work.registering_agency,
        requester_name="Иванова Мария Петровна",
        requester_contact="Бишкек, ул. Токтогула, 1",
        appeals=[in_work, answered],
        received_on=timezone.localdate() - dt.timedelta(days=10),
    )
    return World(
        submitted=submitted,
        registered=registered,
        in_work=in_work,
        answered=answered,
        answered_code=answered_code,
        data_request=data_request,
    )


def pension_appeal_in_work(access_code: str) -> tuple[Appeal, dict]:
    """A citizen's complaint about her pension, heard at the public reception, routed
    to the Social Fund and assigned, that opens with `access_code`: (appeal, the
    Social Fund's head and executor)."""
    agency = AgencyFactory(
        slug="social-fund",
        code="SF",
        name_ky="Социалдык фонд",
        name_ru="Социальный фонд",
        name_en="Social Fund",
    )
    clerk, controller = staff_member("clerk"), staff_member("controller")
    head, executor = staff_member("head", agency), staff_member("executor", agency)
    appeal, _ = registration.register_paper_appeal(
        actor=clerk,
        agency=Agency.objects.get(slug="gov-apparatus"),
        channel="public_reception",
        form="written",
        kind="complaint",
        applicant_name="Сулайманова Айпери",
        applicant_phone="+996 700 111 222",
        text="Пенсиямды кайра эсептеп берүүнү суранам: эмгек стажым толук эсептелген жок.",
        language="ky",
        received_at=timezone.now(),
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code(access_code)
    )
    routing.route_appeal(appeal_id=appeal.pk, actor=controller, lead=agency)
    routing.assign_executor(appeal_id=appeal.pk, actor=head, executor=executor)
    return appeal, {"head": head, "executor": executor}
