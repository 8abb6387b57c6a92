"""What is held about me: the document of one appeal's personal data (service), its
JSON keys and its PDF's text; the opening log by agency and role, never by name."""

import datetime as dt
import json
import re
import subprocess
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from agencies.models import ApiClient, ApiScope
from appeals.casework import routing
from appeals.models import (
    Addition,
    Appeal,
    Attachment,
    ConsentVersion,
    Event,
    PersonalDataAccess,
)
from appeals.privacy import subject_access
from appeals.register import state
from tests.factories import (
    ministry_of_health,
    paper_appeal,
    paper_scan,
    presidents_letter,
    staff_member,
)

pytestmark = pytest.mark.django_db

NAME = "Иванова Мария Петровна"


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "data.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text.replace("\xa0", " ")


@pytest.fixture
def office():
    clerk = staff_member("clerk", username="clerk-ga", first_name="Айгүл")
    controller = staff_member("controller", username="ctrl-ga", last_name="Контролёров")
    agency = ministry_of_health()
    head = staff_member("head", agency, username="head-mz", last_name="Начальников")
    appeal, _code = presidents_letter(
        clerk, NAME, applicant_phone="+996 555 123 456", files=[paper_scan("скан.pdf")]
    )
    routing.route_appeal(appeal_id=appeal.pk, actor=controller, lead=agency)
    return {
        "clerk": clerk,
        "controller": controller,
        "head": head,
        "agency": agency,
        "appeal": Appeal.objects.get(pk=appeal.pk),
    }


def test_document_holds_applicant_files_and_recipients(office):
    appeal = office["appeal"]
    document = subject_access.collect(appeal_id=appeal.pk)
    assert document["applicant"]["name"] == NAME
    assert document["applicant"]["phone"] == "+996 555 123 456"
    assert document["applicant"]["address"] == "Бишкек, ул. Токтогула, 1"
    assert [f["name"] for f in document["files"]] == ["скан.pdf"]
    assert document["files"][0]["size"] > 0
    assert document["files"][0]["purpose"] == "scan"
    agencies = [(a["code"], a["role"]) for a in document["recipients"]["agencies"]]
    assert agencies == [("GA", "registering"), ("MZ", "lead")]


def test_openings_show_agency_and_role_never_the_name(office):
    appeal = office["appeal"]
    state.record_personal_data_access(
        appeal=appeal, user=office["controller"], what="route", ip="10.0.0.1"
    )
    state.record_personal_data_access(
        appeal=appeal, user=office["head"], what="work", ip="10.0.0.2"
    )
    openings = subject_access.collect(appeal_id=appeal.pk)["openings"]
    assert [(o["agency"]["code"], o["role"], o["page"]) for o in openings] == [
        ("GA", "controller", "route"),
        ("MZ", "head", "work"),
    ]
    content = subject_access.as_json(subject_access.collect(appeal_id=appeal.pk))
    for person in ("Контролёров", "Начальников", "ctrl-ga", "head-mz", "10.0.0.1"):
        assert person.encode() not in content


def test_an_api_client_of_the_lead_agency_is_listed_as_a_reader(office):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("mz-system")
    ApiClient.objects.create(
        name="МЗ: документооборот",
        agency=office["agency"],
        user=user,
        scopes=[ApiScope.READ_STATUS],
        key_prefix="mzdoc",
        key_hash="0" * 64,
    )
    document = subject_access.collect(appeal_id=office["appeal"].pk)
    assert [(c["name"], c["how"]) for c in document["recipients"]["api_clients"]] == [
        ("МЗ: документооборот", ["may_read"])
    ]


def test_forwarded_body_is_listed(office):
    clerk, controller = office["clerk"], office["controller"]
    appeal, _code = presidents_letter(clerk, "Петров Иван")
    routing.forward_appeal(
        appeal_id=appeal.pk,
        actor=controller,
        body="Бишкекская городская прокуратура",
        letter_number="07-45",
    )
    forwarded = subject_access.collect(appeal_id=appeal.pk)["recipients"][
        "forwarded_to"
    ]
    assert [(f["body"], f["letter_number"]) for f in forwarded] == [
        ("Бишкекская городская прокуратура", "07-45")
    ]


def test_json_has_stable_keys(office):
    content = subject_access.issue(appeal_ids=[office["appeal"].pk], fmt="json")
    data = json.loads(content)
    assert set(data) == {
        "format",
        "generated_at",
        "language",
        "appeal",
        "personal_data_removed_at",
        "applicant",
        "consent",
        "text",
        "files",
        "additions",
        "your_words",
        "openings",
        "recipients",
    }
    assert data["format"] == subject_access.FORMAT
    assert set(data["applicant"]) == {
        "name",
        "address",
        "phone",
        "email",
        "is_collective",
        "signatories",
    }
    assert set(data["recipients"]) == {"agencies", "forwarded_to", "api_clients"}
    assert set(data["files"][0]) == {
        "name",
        "size",
        "content_type",
        "purpose",
        "purpose_label",
        "added_at",
    }
    dt.datetime.fromisoformat(data["generated_at"])


def test_issuing_records_a_private_event_in_the_same_transaction(office):
    appeal = office["appeal"]
    subject_access.issue(appeal_ids=[appeal.pk], fmt="json")
    event = Event.objects.get(appeal=appeal, type=Event.Type.PERSONAL_DATA_ISSUED)
    assert event.is_public is False
    assert event.data == {"format": "json", "channel": "portal"}


def test_a_failed_rendering_records_nothing(office, monkeypatch):
    def broken(documents):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(subject_access, "as_pdf", broken)
    with pytest.raises(RuntimeError):
        subject_access.issue(appeal_ids=[office["appeal"].pk], fmt="pdf")
    assert not Event.objects.filter(type=Event.Type.PERSONAL_DATA_ISSUED).exists()


def test_pdf_text_carries_the_data_in_the_appeals_language(office, tmp_path):
    appeal = office["appeal"]  # Russian
    state.record_personal_data_access(
        appeal=appeal, user=office["head"], what="work", ip=None
    )
    content = subject_access.issue(appeal_ids=[appeal.pk], fmt="pdf")
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert NAME in text
    assert "+996 555 123 456" in text
    assert "скан.pdf" in text
    assert "Министерство здравоохранения" in text
    assert "Начальников" not in text
    assert appeal.tracking_number in text


def test_large_appeal_renders_paginated(office, tmp_path):
    """100 files and 1,000 openings: the PDF renders in pages (the figure is printed;
    bench/personal_data.py measures it)."""
    appeal = office["appeal"]
    now = timezone.now()
    Attachment.objects.bulk_create(
        Attachment(
            appeal=appeal,
            purpose=Attachment.Purpose.CITIZEN,
            file=f"appeals/bench/{n}.pdf",
            original_name=f"документ-{n:03}.pdf",
            content_type="application/pdf",
            size=1000 + n,
            sha256="0" * 64,
        )
        for n in range(100)
    )
    users = [office["clerk"], office["controller"], office["head"]]
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            appeal=appeal,
            user=users[n % 3],
            at=now - dt.timedelta(minutes=n),
            what=("card", "route", "work")[n % 3],
        )
        for n in range(1000)
    )
    started = time.perf_counter()
    content = subject_access.issue(appeal_ids=[appeal.pk], fmt="pdf")
    elapsed = time.perf_counter() - started
    print(f"personal data PDF, 101 files, 1000 openings: {elapsed:.2f} s")
    text = pdf_text(content, tmp_path)
    assert "документ-099.pdf" in text
    pages = text.count("\f")
    assert pages >= 3
    assert re.search(rf"\b{pages}\s*/\s*{pages}\b", text)  # the footer's "n / N"
    # Every opening is listed: grouped by agency, role and page, each time kept.
    groups = subject_access.opening_groups(
        subject_access.collect(appeal_id=appeal.pk)["openings"]
    )
    assert sum(group["count"] for group in groups) == 1000
    assert sum(len(day["times"]) for g in groups for day in g["days"]) == 1000
    oldest = timezone.localtime(now - dt.timedelta(minutes=999))
    assert oldest.strftime("%H:%M") in text


def test_consent_time_and_the_version_accepted_are_listed(office):
    version = ConsentVersion.objects.create(
        text_ky="Макулмун.",
        text_ru="Согласен на обработку моих данных.",
        text_en="I agree.",
        effective_from=timezone.now() - dt.timedelta(days=30),
    )
    given = timezone.now() - dt.timedelta(days=1)
    Appeal.objects.filter(pk=office["appeal"].pk).update(
        consent_at=given, consent_version=version
    )
    with translation.override("ru"):
        consent = subject_access.collect(appeal_id=office["appeal"].pk)["consent"]
    assert consent["given_at"] == given
    assert consent["version"]["text"] == "Согласен на обработку моих данных."


def test_additions_with_their_files_are_listed_apart(office):
    appeal = office["appeal"]
    addition = Addition.objects.create(appeal=appeal, text="Прилагаю справку.")
    Attachment.objects.create(
        appeal=appeal,
        addition=addition,
        file="appeals/x/added.pdf",
        original_name="справка.pdf",
        content_type="application/pdf",
        size=2048,
        sha256="0" * 64,
    )
    document = subject_access.collect(appeal_id=appeal.pk)
    assert [f["name"] for f in document["files"]] == ["скан.pdf"]
    assert document["additions"][0]["text"] == "Прилагаю справку."
    assert document["additions"][0]["files"][0]["name"] == "справка.pdf"
    assert document["additions"][0]["files"][0]["size"] == 2048
    assert document["additions"][0]["files"][0]["purpose"] == "addition"


def test_a_combined_pdf_has_each_appeal_in_its_own_language(office, tmp_path):
    clerk = office["clerk"]
    kyrgyz = paper_appeal(clerk, applicant_name="Асанов Бакыт", language="ky")
    content = subject_access.issue(
        appeal_ids=[office["appeal"].pk, kyrgyz.pk], fmt="pdf", actor=clerk
    )
    text = pdf_text(content, tmp_path)
    assert "Фамилия, имя, отчество" in text  # the Russian appeal
    assert "Аты-жөнү" in text  # the Kyrgyz one
    assert Event.objects.filter(type=Event.Type.PERSONAL_DATA_ISSUED).count() == 2


def test_only_a_clerk_of_the_agency_records_or_answers_a_request(office):
    appeal, clerk = office["appeal"], office["clerk"]
    with pytest.raises(PermissionDenied):
        subject_access.record_request(
            actor=office["controller"],
            agency=appeal.registering_agency,
            requester_name=NAME,
            requester_contact="",
            appeals=[appeal],
            received_on=timezone.localdate(),
        )
    item = subject_access.record_request(
        actor=clerk,
        agency=appeal.registering_agency,
        requester_name=NAME,
        requester_contact="",
        appeals=[appeal],
        received_on=dt.date(2026, 12, 28),
    )
    assert item.due_on == dt.date(2027, 1, 4)  # calendar days, holidays included
    with pytest.raises(PermissionDenied):
        subject_access.mark_answered(request_id=item.pk, actor=office["head"])
    item.refresh_from_db()
    assert item.answered_on is None
