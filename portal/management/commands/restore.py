"""manage.py restore FILE: a backup archive back into an empty database and storage."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore an archive made by `manage.py backup` into the database of "
        "DATABASE_URL and into the files' storage (MEDIA_ROOT, or the bucket of "
        "STORAGE_URL). Both must be empty (a new database with no "
        "tables, no files) unless --force, which first DROPS every table and deletes "
        "every file there. Checksums and row counts are checked. If the archive comes "
        "from an older version, run `manage.py migrate` afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database and storage that are not empty",
        )

    def handle(self, *args, archive: Path, force: bool, **options):
        if not archive.is_file():
            raise CommandError(f"{archive} does not exist")
        try:
            result = restore_backup(archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
        self.stdout.write(
            f"restored {archive} (made {result.manifest['created_at']}): "
            f"{result.files} files; {counts}"
        )
        self.stdout.write("next: manage.py migrate (applies what the archive lacks)")
