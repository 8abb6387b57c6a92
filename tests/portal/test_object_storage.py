"""Files in an S3-compatible bucket (STORAGE_URL): citizens' attachments, answer letters
and quarantined files are stored there and read back only through the portal's
permission-checked views; a missing bucket or an unreachable endpoint fails readiness,
never loses a citizen's text, and a vanished object is a 404, not a 500. Against a real
S3 endpoint (moto in server mode, tests/engines/s3.py)."""

import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage, storages
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from agencies.models import Membership, Topic
from appeals.intake.scanning import Verdict
from appeals.models import Answer, Appeal, Attachment, StagedUpload
from portal import filestore, health
from portal.periods import parse_period
from reports import archive
from tests.engines import s3
from tests.engines.s3 import storages_with
from tests.factories import (
    answer_appeal,
    filing_form,
    ministry_of_health,
    presidents_letter,
    staff_member,
)
from tests.files import pdf_bytes, png_bytes, upload
from tests.helpers import free_port, login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# The engine's fixtures (a session's moto server; a fresh bucket for one test).
s3_server = s3.s3_server
object_storage = s3.object_storage
s3_server_checking_keys = s3.s3_server_checking_keys

TEXT = "Биздин көчөдө үч айдан бери жарык күйбөй жатат, жардам бериңиздер."


class RefusingScanner:
    """A scanner that finds a threat in every file (the quarantine is the subject)."""

    name = "test-refuses-all"

    def scan(self, stream):
        return Verdict(infected=True, signature="Test-Signature")


def _stored_on_disk(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _file_an_appeal(client, **files):
    topic, _ = Topic.objects.get_or_create(
        code="roads", defaults={"name_ky": "Жолдор", "name_en": "Roads"}
    )
    return client.post("/en/appeal/", filing_form(topic.code, text=TEXT, **files))


@pytest.fixture
def people():
    return {
        "clerk": staff_member("clerk"),
        "controller": staff_member("controller"),
        "head": staff_member("head", ministry_of_health()),
        "executor": staff_member("executor", ministry_of_health()),
    }


# --- settings -----------------------------------------------------------------------


def test_storage_url_gives_private_s3_options_with_its_keys_region_and_encryption():
    options = filestore.s3_options(
        "s3://AKIA123:se%2Fcr%2Bet@appeal-files/portal?endpoint_url="
        "https%3A%2F%2Fminio.gov.kg%3A9000&region=kg-1&sse=aws:kms&sse_kms_key_id=k1",
        {},
    )
    assert options["bucket_name"] == "appeal-files"
    assert options["access_key"] == "AKIA123" and options["secret_key"] == "se/cr+et"
    assert options["endpoint_url"] == "https://minio.gov.kg:9000"
    assert options["region_name"] == "kg-1" and options["location"] == "portal"
    assert options["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "k1",
    }
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}


def test_s3_variables_override_the_url_and_alone_configure_a_bucket():
    environ = {"S3_BUCKET": "other", "S3_SSE": "AES256", "S3_SECRET_ACCESS_KEY": "x"}
    options = filestore.s3_options("s3://k:s@files", environ)
    assert options["bucket_name"] == "other" and options["secret_key"] == "x"
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    # No endpoint: a cloud bucket, addressed as boto3 chooses.
    assert options["client_config"].s3 == {"addressing_style": "auto"}
    assert filestore.s3_options("", {"S3_BUCKET": "b"})["bucket_name"] == "b"
    assert filestore.s3_options("", {}) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://bucket", "must start with s3://"),
        ("s3://k:s@", "names no bucket"),
        ("s3://b?endpoint=http://x", "unknown option 'endpoint'"),
        ("s3://b?sse=DES", "sse must be one of AES256, aws:kms"),
    ],
)
def test_a_wrong_storage_url_stops_the_start_with_the_reason(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        filestore.s3_options(url, {})


# --- files in the bucket -------------------------------------------------------------


def test_a_citizens_attachment_is_stored_in_the_bucket_and_not_on_the_disk(
    client, settings, object_storage
):
    response = _file_an_appeal(client, attachments=upload("scan.png", png_bytes(3, 3)))
    assert response.status_code == 302
    attachment = Appeal.objects.get().attachments.get()
    assert object_storage.keys() == [attachment.file.name]
    assert object_storage.read(attachment.file.name) == png_bytes(3, 3)
    assert _stored_on_disk(settings) == []
    # The object is private: its ACL grants no one but the owner.
    acl = object_storage.client.get_object_acl(
        Bucket=object_storage.name, Key=attachment.file.name
    )
    assert [grant["Grantee"].get("URI") for grant in acl["Grants"]] == [None]


def test_staff_download_an_attachment_from_the_bucket_through_the_view(
    client, object_storage
):
    _file_an_appeal(client, attachments=upload("скан.pdf", pdf_bytes()))
    attachment = Attachment.objects.get()
    login_staff(client, staff_member("clerk"))
    response = client.get(f"/en/staff/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]


def test_the_answer_letter_is_rendered_into_the_bucket_and_the_citizen_downloads_it(
    client, object_storage, people
):
    appeal, code = presidents_letter(people["clerk"], "Иванова Мария")
    answer = answer_appeal(appeal, people, ministry_of_health())
    assert answer.letter.name in object_storage.keys("letters/")
    stored = object_storage.read(answer.letter.name)
    assert stored.startswith(b"%PDF")
    client.post(
        "/en/track/", {"tracking_number": appeal.tracking_number, "access_code": code}
    )
    response = client.get(f"/en/track/{appeal.tracking_number}/answer.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored


def test_archived_reports_are_kept_in_the_bucket_and_served_to_managers(
    client, object_storage, monkeypatch, caplog
):
    # The rendering is not the subject: stand-in bytes for every format.
    monkeypatch.setattr(
        archive, "render", lambda report, fmt: f"{fmt} {report}".encode()
    )
    created = archive.archive_period(period=parse_period("2020-Q1"))
    assert len(created) == 18  # all bodies and the Apparatus; ky, ru, en; 3 formats
    keys = object_storage.keys("reports/2020-Q1/")
    assert sorted(record.file.name for record in created) == keys
    record = created[0]
    login_staff(client, staff_member(Membership.Role.MANAGER))
    address = f"/en/statistics/archive/{record.pk}/{record.format}/"
    response = client.get(address)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == object_storage.read(record.file.name)
    object_storage.client.delete_object(Bucket=object_storage.name, Key=keys[0])
    gone = next(r for r in created if r.file.name == keys[0])
    with caplog.at_level(logging.ERROR, logger="portal.filestore"):
        response = client.get(f"/en/statistics/archive/{gone.pk}/{gone.format}/")
    assert response.status_code == 404
    assert f"stored file missing: archived report {gone.pk}" in caplog.text


def test_a_refused_file_goes_to_the_quarantine_prefix_and_nothing_else(
    client, settings, object_storage, tmp_path
):
    settings.UPLOAD_SCANNER = "tests.portal.test_object_storage.RefusingScanner"
    settings.QUARANTINE_DIR = tmp_path / "quarantine"
    response = _file_an_appeal(client, attachments=upload("report.pdf", pdf_bytes()))
    assert response.status_code == 400
    assert "was refused: our virus check found a threat" in response.content.decode()
    keys = object_storage.keys()
    assert len(keys) == 2 and all(key.startswith("quarantine/") for key in keys)
    (kept,) = [key for key in keys if key.endswith(".quarantined")]
    (record,) = [key for key in keys if key.endswith(".json")]
    assert object_storage.read(kept) == pdf_bytes()
    assert json.loads(object_storage.read(record))["signature"] == "Test-Signature"
    assert not settings.QUARANTINE_DIR.exists()
    assert not StagedUpload.objects.exists() and not Appeal.objects.exists()


def test_a_row_naming_a_quarantined_object_is_not_served(client, object_storage):
    _file_an_appeal(client, attachments=upload("scan.pdf", pdf_bytes()))
    attachment = Attachment.objects.get()
    default_storage.save("quarantine/x.quarantined", upload("x", pdf_bytes()))
    Attachment.objects.filter(pk=attachment.pk).update(file="quarantine/x.quarantined")
    login_staff(client, staff_member("clerk"))
    assert client.get(f"/en/staff/attachments/{attachment.pk}/").status_code == 404


def test_the_test_storage_is_switched_back_after_a_test():
    # Runs after the tests above in this module: the cached storage was dropped.
    assert not filestore.is_object_storage(storages["default"])


# --- faults -------------------------------------------------------------------------


def test_readiness_passes_when_the_bucket_answers(client, object_storage):
    assert health.check_storage() is None
    response = client.get("/readyz?check=storage")
    assert response.status_code == 200
    assert response.json()["checks"] == {"storage": {"ok": True}}


def test_readiness_fails_with_the_reason_when_the_bucket_is_missing(
    client, settings, s3_server
):
    settings.STORAGES = storages_with(settings, s3_server.storage_url("no-such-bucket"))
    reason = health.check_storage()
    assert (
        reason == f"bucket 'no-such-bucket' at {s3_server.endpoint_url}: no such bucket"
    )
    response = client.get("/readyz?check=storage")
    assert response.status_code == 503
    assert response.json()["checks"] == {"storage": {"ok": False}}


def test_check_deploy_stops_on_a_missing_bucket_with_the_reason(settings, s3_server):
    settings.STORAGES = storages_with(settings, s3_server.storage_url("no-such-bucket"))
    with pytest.raises(SystemCheckError, match="no such bucket"):
        call_command("check", "--deploy", "--tag", "storage")
    settings.STORAGES = storages_with(settings, s3_server.storage_url(s3_server.bucket))
    call_command("check", "--deploy", "--tag", "storage")


def test_readiness_fails_with_the_reason_when_the_keys_are_wrong(
    client, settings, s3_server_checking_keys
):
    server = s3_server_checking_keys
    settings.STORAGES = storages_with(settings, server.storage_url(server.bucket))
    assert health.check_storage() is None  # the right keys: ready
    wrong = server.storage_url(server.bucket, secret_key="not-the-secret")
    settings.STORAGES = storages_with(settings, wrong)
    assert health.check_storage() == (
        f"bucket '{server.bucket}' at {server.endpoint_url}: "
        "access denied (HTTP 403): wrong keys or no permission"
    )
    assert client.get("/readyz?check=storage").status_code == 503


def test_readiness_fails_with_the_reason_when_the_endpoint_is_unreachable(settings):
    port = free_port()  # nothing listens there
    url = (
        f"s3://k:s@files?endpoint_url=http%3A%2F%2F127.0.0.1%3A{port}&connect_timeout=1"
    )
    settings.STORAGES = storages_with(settings, url)
    reason = health.check_storage()
    assert reason.startswith(f"bucket 'files' at http://127.0.0.1:{port}: ")
    assert "EndpointConnectionError" in reason


def test_filing_while_the_bucket_is_missing_keeps_the_text_and_asks_to_try_again(
    client, settings, s3_server, caplog
):
    settings.STORAGES = storages_with(settings, s3_server.storage_url("gone-bucket"))
    response = _file_an_appeal(client, attachments=upload("scan.png", png_bytes()))
    assert response.status_code == 400
    html = response.content.decode()
    assert TEXT in html
    assert "We could not store the file scan.png just now. Your text is kept" in html
    assert not Appeal.objects.exists() and not StagedUpload.objects.exists()
    assert "staging an upload failed" in caplog.text
    # The bucket is back: the same form goes through with the file chosen again.
    bucket = s3_server.client()
    bucket.create_bucket(Bucket="gone-bucket")
    try:
        again = _file_an_appeal(client, attachments=upload("scan.png", png_bytes()))
        assert again.status_code == 302
        assert Appeal.objects.get().attachments.count() == 1
    finally:
        for item in bucket.list_objects_v2(Bucket="gone-bucket").get("Contents", []):
            bucket.delete_object(Bucket="gone-bucket", Key=item["Key"])
        bucket.delete_bucket(Bucket="gone-bucket")


def test_an_attachment_gone_from_the_bucket_is_a_404_page_and_an_error_log_line(
    client, object_storage, caplog
):
    _file_an_appeal(client, attachments=upload("scan.pdf", pdf_bytes()))
    attachment = Attachment.objects.get()
    object_storage.client.delete_object(
        Bucket=object_storage.name, Key=attachment.file.name
    )
    login_staff(client, staff_member("clerk"))
    with caplog.at_level(logging.ERROR, logger="portal.filestore"):
        response = client.get(f"/ru/staff/attachments/{attachment.pk}/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()
    (line,) = [r for r in caplog.records if r.name == "portal.filestore"]
    assert line.levelname == "ERROR"
    assert line.getMessage() == (
        f"stored file missing: attachment {attachment.pk} {attachment.file.name}"
    )


def test_a_letter_gone_from_the_bucket_is_a_404_page_and_an_error_log_line(
    client, object_storage, people, caplog
):
    appeal, code = presidents_letter(people["clerk"], "Иванова Мария")
    answer = answer_appeal(appeal, people, ministry_of_health())
    object_storage.client.delete_object(
        Bucket=object_storage.name, Key=answer.letter.name
    )
    client.post(
        "/ru/track/", {"tracking_number": appeal.tracking_number, "access_code": code}
    )
    with caplog.at_level(logging.ERROR, logger="portal.filestore"):
        response = client.get(f"/ru/track/{appeal.tracking_number}/answer.pdf")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()
    assert f"stored file missing: answer letter {answer.pk}" in caplog.text
    assert Answer.objects.get(pk=answer.pk).letter.name == answer.letter.name
