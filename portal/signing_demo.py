"""The demonstration certificate authority: a root, a time-stamping certificate, the
portal's signing certificate and one per agency code, all marked "FOR DEMONSTRATION
ONLY" in their subject, created once in a directory and reused."""

import datetime as dt
import fcntl
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The demo's PKCS#12 files are encrypted with this published password: they protect
# nothing, which is the point of saying so in every subject.
DEMO_PASSWORD = "demonstration"  # noqa: S105
DEMO_MARK = "FOR DEMONSTRATION ONLY"
VALIDITY = dt.timedelta(days=3650)
CRL_VALIDITY = dt.timedelta(days=365)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Appeals Portal"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_MARK),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} (DEMO)"),
        ]
    )


def _key() -> ec.EllipticCurvePrivateKey:
    # P-256: a signature costs well under a millisecond, the PDF stays small.
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(
    *,
    subject: x509.Name,
    key,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool = False,
    usage: list | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=True)
    if not ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes) -> None:
    """Atomically: two processes creating the demo at once leave whole files."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def _load_root(directory: Path):
    root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
    key = serialization.load_pem_private_key(
        (directory / "root-key.pem").read_bytes(), password=None
    )
    return root, key


def _p12(
    path: Path, name: str, *, root: x509.Certificate, root_key, label: str
) -> None:
    key = _key()
    cert = _certificate(
        subject=_name(label),
        key=key,
        issuer=root.subject,
        issuer_key=root_key,
        usage=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
    )
    data = pkcs12.serialize_key_and_certificates(
        name.encode(),
        key,
        cert,
        [root],
        serialization.BestAvailableEncryption(DEMO_PASSWORD.encode()),
    )
    _write(path, data)


def agency_path(directory: Path, code: str) -> Path:
    return directory / f"agency-{code.lower()}.p12"


def ensure(directory: Path, *, agency_codes: tuple[str, ...] = ()) -> list[Path]:
    """Creates what is missing under `directory`; returns the files it created. A
    lock file keeps two processes from making two roots at once."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(directory, agency_codes)


def _ensure(directory: Path, agency_codes: tuple[str, ...]) -> list[Path]:
    created: list[Path] = []
    if not (directory / "root.pem").exists():
        key = _key()
        name = _name("Appeals Portal Demo Root CA")
        root = _certificate(subject=name, key=key, issuer=name, issuer_key=key, ca=True)
        _write(directory / "root-key.pem", _pem_key(key))
        _write(directory / "root.pem", root.public_bytes(serialization.Encoding.PEM))
        created += [directory / "root-key.pem", directory / "root.pem"]
    root, root_key = _load_root(directory)
    if not (directory / "crl.der").exists():
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(root.subject)
            .last_update(now)
            .next_update(now + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(1), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        _write(directory / "crl.der", crl.public_bytes(serialization.Encoding.DER))
        created.append(directory / "crl.der")
    if not (directory / "tsa.pem").exists():
        # pyHanko's in-process TSA signs with RSA only.
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa = _certificate(
            subject=_name("Portal Demo Time-Stamping Authority"),
            key=key,
            issuer=root.subject,
            issuer_key=root_key,
            usage=[ExtendedKeyUsageOID.TIME_STAMPING],
        )
        _write(directory / "tsa-key.pem", _pem_key(key))
        _write(directory / "tsa.pem", tsa.public_bytes(serialization.Encoding.PEM))
        created += [directory / "tsa-key.pem", directory / "tsa.pem"]
    if not (directory / "portal.p12").exists():
        _p12(
            directory / "portal.p12",
            "portal",
            root=root,
            root_key=root_key,
            label="Appeals Portal of the Kyrgyz Republic",
        )
        created.append(directory / "portal.p12")
    for code in agency_codes:
        path = agency_path(directory, code)
        if not path.exists():
            _p12(path, code, root=root, root_key=root_key, label=f"Agency {code}")
            created.append(path)
    return created
