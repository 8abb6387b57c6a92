"""Consent as versioned data (issue 29, part 4): the version in effect is the one the
citizen accepts on every filing path, the staff card shows it, a later version never
changes what older appeals accepted, and the admin cannot rewrite an accepted text."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from agencies.models import Agency
from appeals.models import Appeal, ConsentVersion
from appeals.privacy.consent import consent_in_effect, consent_is_fixed
from tests.factories import (
    TopicFactory,
    filing_form,
    portal_submission,
    staff_member,
)
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db

FIRST = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=6)))


@pytest.fixture
def first():
    return ConsentVersion.objects.get(effective_from=FIRST)


@pytest.fixture
def root(django_user_model, client):
    user = django_user_model.objects.create_superuser("root", password="x" * 16)
    login_staff(client, user)
    return user


def publish(text: str, *, at: dt.datetime) -> ConsentVersion:
    return ConsentVersion.objects.create(
        effective_from=at,
        text=text,
        text_ky=f"{text} (ky)",
        text_ru=f"{text} (ru)",
        text_en=f"{text} (en)",
    )


def test_the_first_version_is_published_in_three_languages(first):
    texts = {first.text_ky, first.text_ru, first.text_en}
    assert len(texts) == 3 and all(len(text) > 200 for text in texts)
    assert "«Жеке мүнөздөгү маалымат жөнүндө»" in first.text_ky
    assert "«Об информации персонального характера»" in first.text_ru
    assert "On information of a personal nature" in first.text_en
    assert consent_in_effect() == first


def test_the_service_stores_the_version_in_effect(first):
    submission = portal_submission()
    # The returned appeal reads the version back from its row when asked.
    assert submission.appeal.consent_version == first
    assert Appeal.objects.get().consent_version == first


def test_the_version_is_the_one_in_effect_when_the_appeal_arrives(first):
    now = timezone.now()
    later = publish("Second version", at=now + dt.timedelta(days=1))
    before = portal_submission(received_at=now).appeal
    after = portal_submission(received_at=now + dt.timedelta(days=2)).appeal
    assert Appeal.objects.get(pk=before.pk).consent_version == first
    assert Appeal.objects.get(pk=after.pk).consent_version == later


def test_without_any_version_the_appeal_is_filed_without_one():
    ConsentVersion.objects.all().delete()
    appeal = portal_submission().appeal
    appeal.refresh_from_db()
    assert appeal.consent_version is None and appeal.consent_at is not None


def test_publishing_a_new_version_never_changes_older_appeals(first, client, root):
    older = portal_submission().appeal
    start = timezone.localtime() + dt.timedelta(minutes=1)
    response = client.post(
        "/en/admin/appeals/consentversion/add/",
        {
            "effective_from_0": start.date().isoformat(),
            "effective_from_1": start.strftime("%H:%M:%S"),
            "text_ky": "Жаңы макулдук",
            "text_ru": "Новое согласие",
            "text_en": "New consent",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = ConsentVersion.objects.get(text_en="New consent")
    newer = portal_submission(received_at=start + dt.timedelta(minutes=1)).appeal
    older.refresh_from_db()
    first.refresh_from_db()
    assert older.consent_version == first
    assert first.text_en.startswith("I consent to the state body")
    assert Appeal.objects.get(pk=newer.pk).consent_version == new


def test_the_web_form_stores_the_version_and_shows_its_text(first, client):
    topic = TopicFactory(code="roads")
    for lang, text in (
        ("ky", first.text_ky),
        ("ru", first.text_ru),
        ("en", first.text_en),
    ):
        html = client.get(f"/{lang}/appeal/").content.decode()
        assert text[:80] in html
        assert f'href="/{lang}/privacy/" target="_blank"' in html
        assert 'aria-describedby="id_consent_help"' in html
    response = client.post("/ru/appeal/", filing_form(topic.code))
    assert response.status_code == 302
    assert Appeal.objects.get().consent_version == first


def test_the_form_still_needs_the_tick(first, client):
    TopicFactory(code="roads")
    response = client.post("/en/appeal/", filing_form("roads", consent=""))
    assert response.status_code == 400
    assert "Without your consent" in response.content.decode()
    assert not Appeal.objects.exists()


def test_the_embedded_form_stores_the_version_and_shows_its_text(first):
    topic = TopicFactory(code="roads")
    client = Client()
    html = client.get("/en/embed/gov-apparatus/").content.decode()
    assert first.text_en[:80] in html and 'href="/en/privacy/"' in html
    data = filing_form(topic.code, addressee="gov-apparatus")
    assert client.post("/en/embed/gov-apparatus/", data).status_code == 200
    assert Appeal.objects.get().consent_version == first


def test_the_api_filing_stores_the_version(first, client):
    from agencies.defaults import ensure_government_apparatus
    from appeals.api.clients import create_api_client

    topic = TopicFactory(code="roads")
    issued = create_api_client(
        name="Test system",
        agency=ensure_government_apparatus(Agency),
        scopes=["file"],
    )
    response = client.post(
        "/api/v1/appeals/",
        {
            "applicant_name": "Бакыт Асанов",
            "applicant_email": "bakyt@example.kg",
            "kind": "complaint",
            "topic": topic.code,
            "text": "Биздин көчөдө жарык жок, үч айдан бери эч ким оңдобойт.",
            "language": "ky",
            "consent": True,
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_AUTHORIZATION=f"Api-Key {issued.key}",
    )
    assert response.status_code == 201, response.json()
    assert Appeal.objects.get().consent_version == first


def test_the_staff_card_shows_the_accepted_version(first, client):
    appeal = portal_submission(language="ru").appeal
    publish("Later", at=timezone.now() - dt.timedelta(minutes=1))
    login_staff(client, staff_member("clerk"))
    html = client.get(f"/en/staff/appeals/{appeal.pk}/").content.decode()
    assert 'id="consent-accepted"' in html
    with translation.override("en"):
        day = date_format(timezone.localtime(first.effective_from), "SHORT_DATE_FORMAT")
    assert f"Accepted the version in effect from {day}" in html
    # The text in the appeal's language, not the page's, and not the later version.
    assert first.text_ru[:60] in html
    assert "Later" not in html


# --- The admin -------------------------------------------------------------------


def test_an_accepted_version_is_read_only_in_the_admin(first, client, root):
    portal_submission()
    url = f"/en/admin/appeals/consentversion/{first.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="text_en"' not in page  # shown, not editable
    assert 'name="_save"' not in page
    assert first.text_en[:40] in page
    refused = client.post(
        url,
        {
            "effective_from_0": "2030-01-01",
            "effective_from_1": "00:00:00",
            "text_ky": "x",
            "text_ru": "x",
            "text_en": "Changed afterwards",
        },
    )
    assert refused.status_code == 403
    first.refresh_from_db()
    assert first.text_en.startswith("I consent") and first.effective_from == FIRST
    assert (
        client.post(
            f"/en/admin/appeals/consentversion/{first.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ConsentVersion.objects.filter(pk=first.pk).exists()


def test_a_version_in_effect_is_fixed_even_before_anyone_accepted_it(first):
    assert not Appeal.objects.exists()
    assert consent_is_fixed(first)


def test_a_future_version_nobody_accepted_can_be_corrected(first, client, root):
    start = timezone.localtime() + dt.timedelta(days=10)
    future = publish("Typo", at=start)
    assert not consent_is_fixed(future)
    response = client.post(
        f"/en/admin/appeals/consentversion/{future.pk}/change/",
        {
            "effective_from_0": start.date().isoformat(),
            "effective_from_1": start.strftime("%H:%M:%S"),
            "text_ky": "Оңдолгон",
            "text_ru": "Исправлено",
            "text_en": "Corrected",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    future.refresh_from_db()
    assert future.text_en == "Corrected"


def test_a_new_version_cannot_be_backdated(first, client, root):
    start = timezone.localtime() - dt.timedelta(days=3)
    response = client.post(
        "/en/admin/appeals/consentversion/add/",
        {
            "effective_from_0": start.date().isoformat(),
            "effective_from_1": "10:00:00",
            "text_ky": "a",
            "text_ru": "b",
            "text_en": "c",
        },
    )
    assert response.status_code == 200
    assert "choose a moment that has not passed" in response.content.decode()
    assert ConsentVersion.objects.count() == 1


def test_a_new_version_needs_every_language(first, client, root):
    start = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(
        "/en/admin/appeals/consentversion/add/",
        {
            "effective_from_0": start.date().isoformat(),
            "effective_from_1": "10:00:00",
            "text_ky": "Макулдук",
            "text_ru": "",
            "text_en": "Consent",
        },
    )
    assert response.status_code == 200
    assert "Give the text in every language." in response.content.decode()
    assert ConsentVersion.objects.count() == 1


def test_the_policy_is_edited_in_the_admin_in_three_languages(client, root):
    from appeals.models import ProcessingPolicy

    policy = ProcessingPolicy.objects.get()
    url = f"/en/admin/appeals/processingpolicy/{policy.pk}/change/"
    page = client.get(url).content.decode()
    assert all(f'name="body_{code}"' in page for code in ("ky", "ru", "en"))
    start = timezone.localtime(policy.effective_from)
    response = client.post(
        url,
        {
            "effective_from_0": start.date().isoformat(),
            "effective_from_1": start.strftime("%H:%M:%S"),
            "body_ky": "# Максаттар\nКайрылууларды кароо.",
            "body_ru": "# Цели\nРассмотрение обращений.",
            "body_en": "# Purposes\nConsidering appeals.",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    html = Client().get("/ru/privacy/").content.decode()
    assert ">Цели</h2>" in html and "Рассмотрение обращений." in html
