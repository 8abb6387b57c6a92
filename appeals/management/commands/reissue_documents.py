"""`python manage.py reissue_documents`: signs issued documents again in bulk (an
archive asks for it after a certificate was rotated or revoked), keeping each earlier
signature and its record."""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from appeals.models import IssuedDocument
from appeals.register import issuing
from portal.signing import SigningError


class Command(BaseCommand):
    help = (
        "Sign issued documents again with the current certificates (the agency's or "
        "the portal's) and a fresh time-stamp, as an added signature on the issued "
        "file; each earlier signature and record stays, and the earlier verification "
        "code accepts the new file. Receipts are never stored and are skipped, and so "
        "is a document whose latest signature is already by the current certificate: "
        "running it twice signs nothing more."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=IssuedDocument.Kind.values)
        parser.add_argument("--agency", metavar="CODE", help="one agency's documents")
        parser.add_argument(
            "--issued-before",
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="only documents issued before this day (e.g. the rotation's)",
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, kind, agency, issued_before, dry_run, **options):
        from tqdm import tqdm  # only this command draws a progress bar

        documents = issuing.reissuable()
        if kind:
            documents = documents.filter(kind=kind)
        if agency:
            documents = documents.filter(agency__code=agency)
        if issued_before:
            documents = documents.filter(issued_at__date__lt=issued_before)
        total = documents.count()
        if dry_run:
            self.stdout.write(f"{total} documents would be signed again.")
            return
        done = skipped = 0
        with tqdm(total=total, unit="doc", file=sys.stderr) as bar:
            for document in documents.iterator(chunk_size=200):
                try:
                    if issuing.signed_by_current_certificate(document):
                        skipped += 1
                    else:
                        issuing.reissue(document)
                        done += 1
                except SigningError as exc:
                    raise CommandError(
                        f"stopped after {done} of {total}: {exc}; run it again once "
                        "the certificate can be used (what is done stays done)"
                    ) from exc
                bar.update()
        self.stdout.write(
            f"{done} documents signed again; {skipped} already signed by the current "
            "certificate."
        )
