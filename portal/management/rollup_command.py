"""The management command of a rollup kept by triggers (portal.deltas): recompute it
from its source tables, compare it with them (`--check`), or fold its delta rows
(`--compact`). Each command names its rollup and says its own messages."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class RollupCommand(BaseCommand):
    # A module with is_available(), differences(), compact() and rebuild().
    rollup = None
    # The command's own sentences (lazy): "unavailable", "differs" (%(count)d),
    # "matches", "rebuilt" (%(rows)d).
    messages: dict = {}

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--check",
            action="store_true",
            help="compare with a count of the source rows; exit 1 on a difference",
        )
        what.add_argument(
            "--compact", action="store_true", help="fold the delta rows together"
        )

    def handle(self, *args, check: bool, compact: bool, **options):
        if not self.rollup.is_available():
            raise CommandError(str(self.messages["unavailable"]))
        started = time.monotonic()
        if check:
            count, first = self.rollup.differences()
            if count:
                for key, kept, counted in first:
                    self.stderr.write(f"{key}: kept {kept}, counted {counted}")
                raise CommandError(str(self.messages["differs"]) % {"count": count})
            self.stdout.write(str(self.messages["matches"]))
        elif compact:
            result = self.rollup.compact()
            if result is None:
                self.stdout.write(_("Another compaction or rebuild is running."))
            else:
                self.stdout.write(
                    _("Compacted: %(before)d rows became %(after)d.")
                    % {"before": result[0], "after": result[1]}
                )
        else:
            rows = self.rollup.rebuild()
            self.stdout.write(str(self.messages["rebuilt"]) % {"rows": rows})
        if options["verbosity"] > 1:
            self.stdout.write(f"{time.monotonic() - started:.1f} s")
