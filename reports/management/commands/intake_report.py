"""`python manage.py intake_report`: the intake report of a period as PDF, XLSX, CSV or
JSON, to a file or to stdout."""

import importlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import Agency
from portal.periods import parse_period
from reports.render import render_json
from reports.render.layout import FORMATS
from reports.selectors import build_intake_report

LANGUAGES = ("ky", "ru", "en")


class Command(BaseCommand):
    help = (
        "Write the intake report of a period beside the same period a year earlier. "
        "PERIOD is 2020-Q1 (to Q4), 2020-H1, 2020-H2, 2020-9M, 2020, or a range of days "
        "2020-01-01..2020-02-15 (both ends inclusive; days in Asia/Bishkek). Without "
        "--agency the figures cover every agency. The report and these messages are "
        "in --lang (default ky). `-o -` writes to stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="e.g. 2020-Q1")
        parser.add_argument(
            "--agency",
            metavar="SLUG",
            help="one agency: the appeals it registered or was routed as lead agency",
        )
        parser.add_argument(
            "--with-subordinates",
            action="store_true",
            help="with --agency: include its subordinate bodies at every level",
        )
        parser.add_argument(
            "--lang",
            choices=LANGUAGES,
            default="ky",
            help="language of the report and of these messages (default: ky)",
        )
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument(
            "-o",
            "--output",
            required=True,
            metavar="FILE",
            help="the file to write, or - for stdout",
        )

    def handle(self, *args, **options):
        with translation.override(options["lang"]):
            self._handle(**options)

    def _handle(self, **options):
        try:
            period = parse_period(options["period"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        agency = options["agency"]
        if options["with_subordinates"] and not agency:
            raise CommandError(_("--with-subordinates needs --agency."), returncode=1)
        fmt = options["format"]
        renderer = render_json if fmt == "json" else self._renderer(fmt)
        try:
            report = build_intake_report(
                period=period,
                agency_slug=agency,
                with_subordinates=options["with_subordinates"],
                language=options["lang"],
            )
        except Agency.DoesNotExist as exc:
            raise CommandError(
                _("There is no agency with the slug “%(slug)s”.") % {"slug": agency},
                returncode=1,
            ) from exc
        self._write(renderer(report), options["output"], binary=fmt != "json")

    def _renderer(self, fmt: str):
        # Imported only when asked for: WeasyPrint and openpyxl are heavy to load.
        module = f"reports.render.{fmt}"
        try:
            return importlib.import_module(module).render
        except ModuleNotFoundError as exc:
            if exc.name not in (module, "reports.render"):
                raise  # a library the renderer needs is missing: show it as it is
            raise CommandError(
                _("The %(format)s report is not available: %(module)s is missing.")
                % {"format": fmt.upper(), "module": module},
                returncode=1,
            ) from exc

    def _write(self, data: bytes, output: str, *, binary: bool) -> None:
        if output != "-":
            try:
                Path(output).write_bytes(data)
            except OSError as exc:
                raise CommandError(
                    _("Cannot write %(path)s: %(error)s")
                    % {"path": output, "error": exc},
                    returncode=1,
                ) from exc
            return
        if not binary:
            self.stdout.write(data.decode(), ending="")
            return
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            raise CommandError(
                _("This output cannot take a binary file; write it with -o FILE."),
                returncode=1,
            )
        self.stdout.flush()
        buffer.write(data)
        buffer.flush()
