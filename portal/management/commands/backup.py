"""manage.py backup: the database and the uploaded files in one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, create_backup, default_archive_name


class Command(BaseCommand):
    help = (
        "Write one tar.gz archive with a dump of the database (pg_dump -Fc, or a copy of "
        "the SQLite file), every stored file (MEDIA_ROOT, or the bucket of STORAGE_URL "
        "without its quarantine prefix) and a manifest (versions, applied "
        "migrations, row counts, checksums). Default: BACKUP_DIR/portal-<time>.tar.gz. "
        "The archive holds personal data: it is written readable by its owner only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o", "--output", type=Path, help="where to write the archive"
        )

    def handle(self, *args, output: Path | None = None, **options):
        output = output or default_archive_name()
        try:
            manifest = create_backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(
            f"{key} {value}" for key, value in manifest["counts"].items()
        )
        self.stdout.write(
            f"{output}: database ({manifest['database']['vendor']}), "
            f"{len(manifest['media'])} files; {counts}"
        )
