"""The citizen adds a text and files to an open appeal: its own history entry and
time, seen by the staff beside the original, the executor and the head told, the
deadline unmoved; closed appeals refuse, and nothing typed or uploaded is lost."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from appeals.citizen import additions
from appeals.intake import filing
from appeals.models import Addition, Appeal, Attachment, Event, Notification, Status
from appeals.register import codes
from tests.factories import (
    answer_appeal,
    paper_appeal,
    route_and_assign,
)
from tests.files import pdf_bytes, png_bytes, upload
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db
CODE = "ADDED-CODE1-CODE2"
TEXT = "Прилагаю справку из ЖЭКа, полученную после подачи обращения."


@pytest.fixture
def in_work(people, health):
    appeal = paper_appeal(people["clerk"])
    Appeal.objects.filter(pk=appeal.pk).update(
        access_code_hash=codes.hash_access_code(CODE)
    )
    route_and_assign(appeal, people, health)
    appeal.refresh_from_db()
    return appeal


def _open(client, appeal, lang="ru"):
    client.post(
        f"/{lang}/track/",
        {"tracking_number": appeal.tracking_number, "access_code": CODE},
    )


def test_an_addition_is_its_own_entry_and_leaves_the_deadline(in_work, people):
    due = in_work.due_on
    addition = additions.add_to_appeal(
        appeal_id=in_work.pk,
        text=TEXT,
        files=[
            filing.NewAttachment(
                name="справка.pdf", content_type="application/pdf", content=pdf_bytes()
            )
        ],
    )
    in_work.refresh_from_db()
    assert in_work.due_on == due and in_work.status == Status.IN_PROGRESS
    event = Event.objects.get(appeal=in_work, type=Event.Type.ADDED_BY_CITIZEN)
    assert event.is_public and event.data == {"addition_id": addition.pk, "files": 1}
    assert event.at == addition.added_at
    assert addition.attachments.get().appeal_id == in_work.pk
    # The executor and the head are told, each in the staff outbox, once.
    told = set(
        Notification.objects.filter(template="staff_addition").values_list(
            "recipient", flat=True
        )
    )
    assert told == {"exec@mz.gov.kg", "head@mz.gov.kg"}


def test_nothing_to_add_is_refused(in_work):
    with pytest.raises(ValidationError):
        additions.add_to_appeal(appeal_id=in_work.pk, text="   ")
    assert not Addition.objects.exists()


def test_the_same_form_sent_twice_adds_once(in_work):
    key = uuid.uuid4()
    first = additions.add_to_appeal(appeal_id=in_work.pk, text=TEXT, submission_key=key)
    again = additions.add_to_appeal(appeal_id=in_work.pk, text=TEXT, submission_key=key)
    assert first.pk == again.pk and Addition.objects.count() == 1


def test_an_answered_appeal_refuses_additions(people, health):
    answered = paper_appeal(people["clerk"])
    answer_appeal(answered, people, health)
    with pytest.raises(ValidationError) as error:
        additions.add_to_appeal(appeal_id=answered.pk, text=TEXT)
    assert error.value.code == "closed"


def test_the_citizen_adds_from_the_tracking_page(client, in_work):
    _open(client, in_work)
    page = client.get(f"/ru/track/{in_work.tracking_number}/").content.decode()
    assert 'id="addition-form"' in page and "/withdraw/" in page
    response = client.post(
        f"/ru/track/{in_work.tracking_number}/add/",
        {
            "submission_key": str(uuid.uuid4()),
            "text": TEXT,
            "attachments": [upload("фото.png", png_bytes(3, 3), "image/png")],
        },
    )
    assert response.status_code == 302
    html = client.get(f"/ru/track/{in_work.tracking_number}/").content.decode()
    assert TEXT in html and "фото.png" in html
    attachment = Attachment.objects.get(addition__appeal=in_work)
    assert attachment.original_name == "фото.png"
    en = client.get(f"/en/track/{in_work.tracking_number}/").content.decode()
    assert "You added information and 1 file" in en


def test_adding_to_a_closed_appeal_keeps_the_text_and_files(client, in_work):
    _open(client, in_work, lang="en")
    Appeal.objects.filter(pk=in_work.pk).update(
        status=Status.CLOSED, outcome="withdrawn"
    )
    key = str(uuid.uuid4())
    response = client.post(
        f"/en/track/{in_work.tracking_number}/add/",
        {
            "submission_key": key,
            "text": TEXT,
            "attachments": [upload("scan.pdf", pdf_bytes(), "application/pdf")],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This appeal is closed, so nothing can be added to it." in html
    assert TEXT in html and "scan.pdf" in html  # typed text and staged file kept
    assert not Addition.objects.exists()


def test_without_the_access_code_the_page_reveals_nothing(client, in_work):
    response = client.post(
        f"/ru/track/{in_work.tracking_number}/add/",
        {"submission_key": str(uuid.uuid4()), "text": TEXT},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/ru/track/?number=")
    assert not Addition.objects.exists()


def test_staff_see_the_addition_beside_the_original(client, in_work, people):
    additions.add_to_appeal(appeal_id=in_work.pk, text=TEXT)
    login_staff(client, people["executor"])
    html = client.get(f"/ru/staff/inbox/{in_work.pk}/").content.decode()
    assert 'id="staff-additions"' in html and TEXT in html
    login_staff(client, people["clerk"])
    html = client.get(f"/ru/staff/appeals/{in_work.pk}/").content.decode()
    assert TEXT in html
