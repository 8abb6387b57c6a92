"""PAdES signatures on the PDFs the portal issues (pyHanko) and their validation: whose
certificate signs (the agency's if configured, else the portal's), where its password
comes from (the environment, never the database), what the signature is checked against.

Configuration (portal/settings.py):
- PORTAL_SIGNING_P12 / PORTAL_SIGNING_PASSWORD: the portal's own certificate.
- SIGNING_CERTIFICATES = {"AGENCY_CODE": "path or storage:name"}, the agency's password
  in the environment variable SIGNING_PASSWORD_<AGENCY_CODE>.
- SIGNING_TRUST_ROOTS: PEM files of the roots a signature must chain to; SIGNING_CRLS:
  DER/PEM CRLs embedded with the signature (its long-term validation data).
- SIGNING_TSA_URL: an RFC 3161 time-stamping authority.
- With none of the portal's certificate configured and SIGNING_USE_DEMO (DEBUG), the
  demonstration authority under SIGNING_DEMO_DIR (portal.signing_demo) signs, with its
  own in-process time-stamping authority and CRL: PAdES B-LT, for demonstration.
"""

import asyncio
import concurrent.futures
import dataclasses
import functools
import hashlib
import io
import logging
import os
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


class _NoFetchingNotice(logging.Filter):
    """pyHanko warns at every signature that it may not fetch revocation data: the
    portal gives it the CRLs itself and never fetches (a closed network)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_NoFetchingNotice())

PDF_MAGIC = b"%PDF-"


class SigningError(Exception):
    """The document cannot be signed now (a missing certificate, a wrong password):
    the system's fault, never the citizen's; the document waits."""


class NotAPdf(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Signer:
    pyhanko_signer: object
    subject: str
    fingerprint: str  # SHA-256 of the certificate, hex
    source: str  # "agency:<code>", "portal" or "demo"


@dataclasses.dataclass(frozen=True)
class Verdict:
    signed: bool
    intact: bool = False  # the signed bytes are unchanged
    whole_file: bool = False  # nothing was appended after the signature
    trusted: bool = False  # the certificate chains to a trust root
    subject: str = ""
    fingerprint: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.whole_file and self.trusted


def _demo_in_use() -> bool:
    return not settings.PORTAL_SIGNING_P12 and settings.SIGNING_USE_DEMO


def _demo_dir() -> Path:
    return Path(settings.SIGNING_DEMO_DIR)


def _read(location: str) -> bytes:
    if location.startswith("storage:"):
        from django.core.files.storage import default_storage

        with default_storage.open(location.removeprefix("storage:"), "rb") as handle:
            return handle.read()
    return Path(location).read_bytes()


@functools.lru_cache(maxsize=32)
def _load(data: bytes, password: str, source: str) -> Signer:
    # pyHanko and asn1crypto load once per process, only where a PDF is signed.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.sign import signers

    try:
        _key, cert, _chain = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
        signer = signers.SimpleSigner.load_pkcs12_data(
            data, other_certs=[], passphrase=password.encode() if password else None
        )
    except ValueError as exc:
        raise SigningError(
            f"the signing certificate of {source} cannot be opened: wrong or missing "
            "password"
        ) from exc
    if cert is None:
        raise SigningError(f"the PKCS#12 file of {source} holds no certificate")
    return Signer(
        pyhanko_signer=signer,
        subject=cert.subject.rfc4514_string(),
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        source=source,
    )


def signer_for(agency_code: str | None) -> Signer:
    """The agency's certificate where configured, else the portal's; SigningError when
    the one that should sign cannot (never a silent fall-back from an agency's broken
    certificate to the portal's)."""
    configured = settings.SIGNING_CERTIFICATES
    if agency_code and agency_code in configured:
        variable = f"SIGNING_PASSWORD_{agency_code.upper()}"
        password = os.environ.get(variable)
        if password is None:
            raise SigningError(f"{variable} is not set for agency {agency_code}")
        return _load_from(configured[agency_code], password, f"agency:{agency_code}")
    if settings.PORTAL_SIGNING_P12:
        if not settings.PORTAL_SIGNING_PASSWORD:
            raise SigningError("PORTAL_SIGNING_PASSWORD is not set")
        return _load_from(
            settings.PORTAL_SIGNING_P12, settings.PORTAL_SIGNING_PASSWORD, "portal"
        )
    if settings.SIGNING_USE_DEMO:
        from portal import signing_demo

        directory = _demo_dir()
        codes = (agency_code,) if agency_code else ()
        signing_demo.ensure(directory, agency_codes=codes)
        path = signing_demo.agency_path(directory, agency_code) if agency_code else None
        if path is None or not path.exists():
            path = directory / "portal.p12"
        return _load_from(str(path), signing_demo.DEMO_PASSWORD, "demo")
    raise SigningError("no signing certificate is configured (PORTAL_SIGNING_P12)")


def _load_from(location: str, password: str, source: str) -> Signer:
    try:
        data = _read(location)
    except OSError as exc:
        raise SigningError(f"the signing certificate of {source} is missing") from exc
    return _load(data, password, source)


def _pem_or_der(data: bytes) -> list[bytes]:
    from asn1crypto import pem

    if pem.detect(data):
        return [der for _type, _headers, der in pem.unarmor(data, multiple=True)]
    return [data]


def _trust_roots() -> list:
    from asn1crypto import x509

    paths = list(settings.SIGNING_TRUST_ROOTS)
    if _demo_in_use():
        paths.append(str(_demo_dir() / "root.pem"))
    roots = []
    for location in paths:
        try:
            for der in _pem_or_der(_read(location)):
                roots.append(x509.Certificate.load(der))
        except OSError:
            logger.warning("signing trust root %s cannot be read", location)
    return roots


def _crls() -> list[bytes]:
    paths = list(settings.SIGNING_CRLS)
    if _demo_in_use():
        paths.append(str(_demo_dir() / "crl.der"))
    crls = []
    for location in paths:
        try:
            crls += _pem_or_der(_read(location))
        except OSError:
            logger.warning("signing CRL %s cannot be read", location)
    return crls


def _validation_context():
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=_trust_roots(),
        crls=_crls(),
        allow_fetching=False,  # the portal runs in a closed network
        revocation_mode="soft-fail",
    )


def _timestamper():
    if settings.SIGNING_TSA_URL:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(settings.SIGNING_TSA_URL)
    if _demo_in_use():
        return _demo_timestamper(str(_demo_dir()))
    return None


@functools.lru_cache(maxsize=2)
def _demo_timestamper(directory: str):
    from asn1crypto import keys, x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    from portal import signing_demo

    signing_demo.ensure(Path(directory))
    cert = x509.Certificate.load(
        _pem_or_der(Path(directory, "tsa.pem").read_bytes())[0]
    )
    key = keys.PrivateKeyInfo.load(
        _pem_or_der(Path(directory, "tsa-key.pem").read_bytes())[0]
    )
    root = x509.Certificate.load(
        _pem_or_der(Path(directory, "root.pem").read_bytes())[0]
    )
    return DummyTimeStamper(tsa_cert=cert, tsa_key=key, certs_to_embed=[root])


def sign_pdf(
    data: bytes,
    *,
    signer: Signer,
    reason: str = "",
    location: str = "",
    field_name: str = "Signature",
) -> bytes:
    """An invisible PAdES signature over the whole file, with the chain, the CRLs and a
    time-stamp when a TSA is configured (B-LT), else without (B-B with the CRLs)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    timestamper = _timestamper()
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        embed_validation_info=True,
        validation_context=_validation_context(),
    )
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer.pyhanko_signer, timestamper=timestamper
    )
    # A document the renderer did not make readable is the system's fault as well:
    # it waits like one with a broken certificate, and is never sent unsigned.
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise SigningError(
            f"the rendered document is not a readable PDF: {exc}"
        ) from exc
    try:
        output = _outside_event_loop(pdf_signer.sign_pdf, writer)
    except Exception as exc:  # pyHanko's own errors: a chain or TSA problem
        raise SigningError(f"signing failed: {exc}") from exc
    return output.getvalue()


def _outside_event_loop(function, *args):
    """pyHanko's synchronous calls run their own event loop (asyncio.run), which
    fails in a thread that already runs one (an async caller, Playwright in tests):
    there the call runs in a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page_count(data: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])


def validate_pdf(data: bytes) -> Verdict:
    """The last signature of the file, checked against the trust roots. NotAPdf for
    anything that does not parse as a PDF."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if not data.startswith(PDF_MAGIC):
        raise NotAPdf
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise NotAPdf from exc
    if not signatures:
        return Verdict(signed=False)
    try:
        status = _outside_event_loop(
            validate_pdf_signature, signatures[-1], _validation_context()
        )
    except Exception:  # a malformed signature is simply not a valid one
        logger.info("signature could not be validated", exc_info=True)
        return Verdict(signed=True)
    cert = status.signing_cert
    return Verdict(
        signed=True,
        intact=bool(status.intact and status.valid),
        # B-LT appends the validation data after the signature: allowed, nothing else.
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and status.modification_level == ModificationLevel.LTA_UPDATES
        ),
        trusted=bool(status.trusted),
        subject=cert.subject.human_friendly if cert is not None else "",
        fingerprint=cert.sha256.hex() if cert is not None else "",
    )
