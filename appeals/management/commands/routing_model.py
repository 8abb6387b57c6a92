"""`python manage.py routing_model train|evaluate|rollback`: the routing suggestions'
model (appeals.suggestions)."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from appeals.suggestions import evaluation, model


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("Give the date as YYYY-MM-DD, not “%(value)s”.") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "The routing suggestions' model. `train [--since DATE]` learns from the "
        "register's routed appeals (the lead agency of the last routing not returned) "
        "and imported ones, measures a model fitted on the older 90 % on the most "
        "recent 10 % by registration date, keeps a model fitted on everything as the "
        "current version and prints, as its last lines, `topic top1 0.NNN top3 0.NNN "
        "n N` (when appeals have topics) and `top1 0.NNN top3 0.NNN n N` for the "
        "agency. `evaluate FILE` measures the current model on a CSV or XLSX file "
        "with the columns text, agency (slug) and optionally topic (code) and prints "
        "the same lines, the agency's last; a bad file prints `line N: reason` to "
        "stderr (exit code 1) and measures nothing. `rollback` makes the version "
        "trained before the current one current again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--lang",
            choices=["ky", "ru", "en"],
            default="en",
            help="language of the messages (default: en)",
        )
        actions = parser.add_subparsers(dest="action", required=True)
        train = actions.add_parser("train", help="train a new version and use it")
        train.add_argument(
            "--since", type=_date, help="learn only from appeals received since DATE"
        )
        check = actions.add_parser("evaluate", help="measure the current model")
        check.add_argument("file", help="the CSV or XLSX file")
        actions.add_parser("rollback", help="go back to the previous version")

    def handle(self, *args, action: str, **options):
        with translation.override(options["lang"]):
            getattr(self, f"_{action}")(**options)

    def _train(self, *, since: dt.date | None = None, **options):
        try:
            version, trained = model.train_and_store(since=since)
        except model.TrainingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Trained on %(count)d appeals, %(agencies)d agencies; stored as "
                "%(file)s (%(size)d bytes). Measured on the most recent 10 %%:"
            )
            % {
                "count": trained.trained_on,
                "agencies": len(trained.bundle.agency_counts),
                "file": version.file_name,
                "size": version.figures["bytes"],
            }
        )
        if trained.topic is not None:
            self.stdout.write(trained.topic.line("topic"))
        self.stdout.write(trained.agency.line())

    def _evaluate(self, *, file: str, **options):
        if not Path(file).is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        try:
            rows = evaluation.read(file)
        except evaluation.EvaluationFileError as error:
            for row_error in error.errors:
                self.stderr.write(str(row_error))
            raise CommandError(
                _("The file has errors; nothing was measured."), returncode=1
            ) from None
        loaded = model.current()
        if loaded is None:
            raise CommandError(
                _("There is no routing model yet: run `routing_model train` first.")
            )
        agency, topic = evaluation.evaluate(loaded[1], rows)
        if topic is not None:
            self.stdout.write(topic.line("topic"))
        self.stdout.write(agency.line())

    def _rollback(self, **options):
        try:
            version = model.rollback()
        except model.TrainingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("The routing model trained at %(at)s is in use again.")
            % {"at": f"{version.trained_at:%Y-%m-%d %H:%M}"}
        )
