"""`python manage.py rebuild_intake_rollup`: recompute the intake rollup from the
appeals (repair, after a bulk load with triggers off), compare it with them
(`--check`), or fold its delta rows (`--compact`, what the hourly task does)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports import rollup


class Command(BaseCommand):
    help = (
        "Recompute the intake rollup (the report's monthly counts, which PostgreSQL "
        "keeps with triggers) from the appeals, in one transaction: writes to appeals "
        "and ratings wait until it commits, reports go on. --check compares the rollup "
        "with the appeals and exits with 1 when they differ; --compact folds the "
        "rows written since the last compaction. PostgreSQL only."
    )

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--check",
            action="store_true",
            help="compare with a count of the appeals; exit 1 on a difference",
        )
        what.add_argument(
            "--compact", action="store_true", help="fold the delta rows together"
        )

    def handle(self, *args, check: bool, compact: bool, **options):
        if not rollup.is_available():
            raise CommandError(
                _(
                    "The intake rollup exists only on PostgreSQL; here reports count live."
                )
            )
        started = time.monotonic()
        if check:
            count, first = rollup.differences()
            if count:
                for key, kept, counted in first:
                    self.stderr.write(f"{key}: rollup {kept}, appeals {counted}")
                raise CommandError(
                    _(
                        "The intake rollup differs from the appeals in %(count)d keys: "
                        "run rebuild_intake_rollup."
                    )
                    % {"count": count}
                )
            self.stdout.write(_("The intake rollup matches the appeals."))
        elif compact:
            result = rollup.compact()
            if result is None:
                self.stdout.write(_("Another compaction or rebuild is running."))
            else:
                self.stdout.write(
                    _("Compacted: %(before)d rows became %(after)d.")
                    % {"before": result[0], "after": result[1]}
                )
        else:
            rows = rollup.rebuild()
            self.stdout.write(
                _("The intake rollup was rebuilt: %(rows)d rows.") % {"rows": rows}
            )
        if options["verbosity"] > 1:
            self.stdout.write(f"{time.monotonic() - started:.1f} s")
