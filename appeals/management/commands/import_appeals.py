"""`python manage.py import_appeals FILE`: an old register (CSV or XLSX), all or nothing."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appeals.intake import importing

MAX_PRINTED_ERRORS = 1000


def _plain(message: str) -> str:
    return message  # progress is not an error: not in the error style on a terminal


class Command(BaseCommand):
    help = (
        "Import a register kept before the portal (CSV in UTF-8 with `,` or `;`, or "
        "XLSX, first sheet) as closed archival appeals. Line 1 is the header: "
        f"{', '.join(importing.REQUIRED_COLUMNS)}, and optionally "
        f"{', '.join(importing.OPTIONAL_COLUMNS)}; any order. Every row is checked "
        "first: either every row is imported, or nothing is and each bad row is "
        "printed to stderr as `line N: reason` (exit code 1). Rows without a "
        "registration_number get the next number of their agency and year. "
        "Importing the same file twice is refused row by row when its rows carry "
        "registration numbers (they are already in the register); rows without "
        "numbers are imported a second time."
    )

    # Django's system checks load every URLconf and view (WeasyPrint among them): 2 s
    # of every run, and nothing the import relies on (the schema is the migrations').
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or XLSX file")
        parser.add_argument(
            "--lang",
            choices=["ky", "ru", "en"],
            default="en",
            help="language of the messages (default: en)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report errors, import nothing",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="print progress to stderr (the default when stderr is a terminal)",
        )

    def handle(self, *args, file: str, dry_run: bool, progress: bool, **options):
        with translation.override(options["lang"]):
            return self._import(
                file=file, dry_run=dry_run, progress=progress, **options
            )

    def _import(self, *, file: str, dry_run: bool, progress: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        timed = options["verbosity"] >= 2
        report = progress or self.stderr.isatty()
        started = time.monotonic()
        try:
            raw = list(importing.parse(path))
            good, errors = importing.validate(
                raw,
                progress=self._progress(_("validated %(done)d/%(total)d rows"))
                if report
                else None,
            )
            del raw  # the checked rows keep what they need
        except importing.ImportFileError as exc:
            good, errors = [], exc.errors
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": file, "error": exc}
            ) from exc
        if timed:
            self._timing(_("validated in %(seconds).1f s"), started)
        if errors:
            self._fail(errors)
        if dry_run:
            self.stdout.write(
                ngettext(
                    "%(count)d row checked, no errors; nothing imported (dry run).",
                    "%(count)d rows checked, no errors; nothing imported (dry run).",
                    len(good),
                )
                % {"count": len(good)}
            )
            return
        started = time.monotonic()
        try:
            count = importing.import_rows(
                good,
                source=path.name,
                progress=self._progress(_("imported %(done)d/%(total)d rows"))
                if report
                else None,
            )
        except IntegrityError as exc:
            # Checked a moment ago, so someone registered a clashing number meanwhile.
            raise CommandError(
                _(
                    "The register changed while importing (%(error)s); nothing was "
                    "imported. Run the import again."
                )
                % {"error": exc},
                returncode=1,
            ) from exc
        if timed:
            self._timing(_("imported in %(seconds).1f s"), started)
        self.stdout.write(
            ngettext("Imported %(count)d appeal.", "Imported %(count)d appeals.", count)
            % {"count": count}
        )

    def _progress(self, message: str):
        def show(done: int, total: int) -> None:
            self.stderr.write(message % {"done": done, "total": total}, _plain)

        return show

    def _timing(self, message: str, started: float) -> None:
        self.stderr.write(message % {"seconds": time.monotonic() - started}, _plain)

    def _fail(self, errors: list[importing.RowError]) -> None:
        for error in errors[:MAX_PRINTED_ERRORS]:
            self.stderr.write(str(error))
        if len(errors) > MAX_PRINTED_ERRORS:
            self.stderr.write(
                _("... and %(count)d more")
                % {"count": len(errors) - MAX_PRINTED_ERRORS}
            )
        bad = len({error.line for error in errors})
        raise CommandError(
            ngettext(
                "%(count)d line has errors; nothing was imported.",
                "%(count)d lines have errors; nothing was imported.",
                bad,
            )
            % {"count": bad},
            returncode=1,
        )
