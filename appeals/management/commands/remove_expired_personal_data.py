"""`python manage.py remove_expired_personal_data`: the retention period of personal
data (appeals.privacy.retention); the weekly task runs the same."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from appeals.privacy import retention


class Command(BaseCommand):
    help = (
        "Remove the personal data (applicant, text, files, the citizen's own words, "
        "old records of staff opening personal data) of appeals closed longer ago "
        "than the retention period; the register, the answers and every figure of "
        "the reports stay. Default period: PERSONAL_DATA_RETENTION_DAYS days. "
        "Works in batches; safe to stop and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="the retention period in days (default: "
            f"PERSONAL_DATA_RETENTION_DAYS, now {settings.PERSONAL_DATA_RETENTION_DAYS})",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would be removed and change nothing",
        )
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
        parser.add_argument("--lang", choices=["ky", "ru", "en"], default="en")

    def handle(self, *args, older_than_days, dry_run, batch_size, lang, **options):
        if older_than_days is not None and older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = retention.remove_expired_personal_data(
            older_than_days=older_than_days, dry_run=dry_run, batch_size=batch_size
        )
        with translation.override(lang):
            figures = {
                "appeals": result.appeals,
                "files": result.files,
                "records": result.access_records,
                "date": formats.date_format(
                    timezone.localtime(result.cutoff), "SHORT_DATE_FORMAT"
                ),
            }
            if dry_run:
                message = _(
                    "Dry run, nothing changed. Appeals closed before %(date)s whose "
                    "personal data would be removed: %(appeals)s; files: %(files)s; "
                    "records of opening personal data: %(records)s."
                )
            else:
                message = _(
                    "Personal data removed from appeals closed before %(date)s: "
                    "%(appeals)s appeals; files deleted: %(files)s; records of "
                    "opening personal data removed: %(records)s."
                )
            self.stdout.write(message % figures)
