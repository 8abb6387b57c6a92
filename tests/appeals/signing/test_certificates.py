"""Where the signing certificate comes from: the demo CA's command, a PKCS#12 in the
storage, the password from the environment and clear errors without it."""

import io

import pytest
from cryptography import x509
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from portal import signing, signing_demo


def test_demo_ca_command_creates_once_and_marks_every_subject(settings, tmp_path):
    settings.SIGNING_DEMO_DIR = tmp_path
    out = io.StringIO()
    call_command("signing_demo_ca", stdout=out)
    assert "created" in out.getvalue() and "FOR DEMONSTRATION ONLY" in out.getvalue()
    files = {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    assert {"root.pem", "portal.p12", "agency-ga.p12", "tsa.pem", "crl.der"} <= set(
        files
    )
    for name in ("root.pem", "tsa.pem"):
        cert = x509.load_pem_x509_certificate((tmp_path / name).read_bytes())
        assert "FOR DEMONSTRATION ONLY" in cert.subject.rfc4514_string()
    out = io.StringIO()
    call_command("signing_demo_ca", stdout=out)
    assert "already" in out.getvalue()
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files


@pytest.mark.django_db
def test_portal_certificate_from_the_storage(settings, demo_ca_dir, monkeypatch):
    signing_demo.ensure(demo_ca_dir)
    name = default_storage.save(
        "keys/portal.p12", ContentFile((demo_ca_dir / "portal.p12").read_bytes())
    )
    settings.PORTAL_SIGNING_P12 = f"storage:{name}"
    settings.PORTAL_SIGNING_PASSWORD = signing_demo.DEMO_PASSWORD
    settings.SIGNING_TRUST_ROOTS = [str(demo_ca_dir / "root.pem")]
    settings.SIGNING_CRLS = [str(demo_ca_dir / "crl.der")]
    signer = signing.signer_for(None)
    assert signer.source == "portal"
    assert "Appeals Portal of the Kyrgyz Republic" in signer.subject


def test_portal_certificate_without_its_password_is_a_clear_error(settings, tmp_path):
    settings.PORTAL_SIGNING_P12 = str(tmp_path / "portal.p12")
    settings.PORTAL_SIGNING_PASSWORD = ""
    with pytest.raises(signing.SigningError, match="PORTAL_SIGNING_PASSWORD"):
        signing.signer_for(None)


def test_agency_without_its_password_variable_is_a_clear_error(
    settings, demo_ca_dir, monkeypatch
):
    signing_demo.ensure(demo_ca_dir, agency_codes=("MZ",))
    settings.SIGNING_CERTIFICATES = {
        "MZ": str(signing_demo.agency_path(demo_ca_dir, "MZ"))
    }
    monkeypatch.delenv("SIGNING_PASSWORD_MZ", raising=False)
    with pytest.raises(signing.SigningError, match="SIGNING_PASSWORD_MZ"):
        signing.signer_for("MZ")


def test_missing_certificate_file_is_a_clear_error(settings, tmp_path, monkeypatch):
    settings.SIGNING_CERTIFICATES = {"MZ": str(tmp_path / "gone.p12")}
    monkeypatch.setenv("SIGNING_PASSWORD_MZ", "x")
    with pytest.raises(signing.SigningError, match="missing"):
        signing.signer_for("MZ")


def test_nothing_configured_outside_the_demo_is_a_clear_error(settings):
    settings.SIGNING_USE_DEMO = False
    with pytest.raises(signing.SigningError, match="PORTAL_SIGNING_P12"):
        signing.signer_for(None)
