"""Signed documents (issue 31): what signing adds to an answer letter's rendering
(target: under 300 ms) and the verification page's p95, for a GET of the page and for
an upload of the issued file checked against its signature. Uses the demonstration CA
(created under a temporary directory); the records are made in one transaction that is
rolled back. Prints, asserts none.

    createdb -h 127.0.0.1 -U postgres signing_bench
    .venv/bin/python bench/signing.py \\
        --database-url postgres://postgres@127.0.0.1:5432/signing_bench

The database is migrated first (an empty one is fine).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _figures(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(
        f"{label:<44} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms"
        f"   (n={len(ms)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--letters", type=int, default=30)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ["SIGNING_DEMO_DIR"] = tempfile.mkdtemp(prefix="signing-bench-")
    os.environ["SIGNING_USE_DEMO"] = "1"
    os.environ.pop("PORTAL_SIGNING_P12", None)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from agencies.models import Agency
    from appeals.casework import letters
    from appeals.models import Answer, Appeal, IssuedDocument
    from appeals.register import issuing
    from portal import signing

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "track_client": (10**9, 900),
    }

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            agency = Agency.objects.get(slug="gov-apparatus")
            head = get_user_model()(username="bench-head", first_name="Айгүл")
            appeal = Appeal(
                registration_number="GA-2026-999999",
                applicant_name="Асанов Бакыт",
                applicant_address="Бишкек, Чүй проспекти 1",
                received_on=timezone.localdate(),
                language="ky",
            )
            answer = Answer(
                appeal=appeal,
                agency=agency,
                text="Текшерүү жүргүзүлдү: жөлөкпул ушул айдын аягына чейин "
                "төлөнөт. ң ө ү\n" * 20,
                outcome="supported",
                approved_by=head,
                approved_at=timezone.now(),
            )
            signer = signing.signer_for(agency.code)
            signing.sign_pdf(  # warm-up: pyHanko's imports, the demo TSA
                letters.render_answer_letter(appeal=appeal, answer=answer),
                signer=signer,
            )
            rendering, signing_only = [], []
            signed = b""
            for _ in range(args.letters):
                document = issuing.reserve(
                    kind=IssuedDocument.Kind.ANSWER_LETTER,
                    agency=agency,
                    registration_number=appeal.registration_number,
                    language="ky",
                )
                started = time.perf_counter()
                content = letters.render_answer_letter(
                    appeal=appeal, answer=answer, document=document
                )
                rendered = time.perf_counter()
                signed = issuing.sign(document, content, store=lambda _signed: "")
                done = time.perf_counter()
                rendering.append(rendered - started)
                signing_only.append(done - rendered)
            print(f"Answer letter, {len(signed) // 1024} KiB signed, PAdES with a")
            print("time-stamp and the CRLs embedded (demo CA, in-process TSA):")
            _figures("rendering (PDF/A, QR code)", rendering)
            _figures("signing added (sign, hash, record)", signing_only)

            client = Client()
            url = f"/ky/verify/{document.code}/"
            gets, posts = [], []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(url)
                gets.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
            for _ in range(max(10, args.requests // 4)):
                upload = SimpleUploadedFile("letter.pdf", signed, "application/pdf")
                started = time.perf_counter()
                response = client.post(url, {"file": upload})
                posts.append(time.perf_counter() - started)
                assert b'data-result="genuine"' in response.content
            print("Verification page (Django test client, one process):")
            _figures("GET /ky/verify/<code>/", gets)
            _figures("POST the issued file (hash + signature)", posts)
            raise Rollback
    except Rollback:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
