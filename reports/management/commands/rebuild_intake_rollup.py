"""`python manage.py rebuild_intake_rollup`: recompute the intake rollup from the
appeals (repair, after a bulk load with triggers off), compare it with them
(`--check`), or fold its delta rows (`--compact`, what the hourly task does)."""

from django.utils.translation import gettext_lazy as _

from portal.management.rollup_command import RollupCommand
from reports import rollup


class Command(RollupCommand):
    help = (
        "Recompute the intake rollup (the report's monthly counts, which PostgreSQL "
        "keeps with triggers) from the appeals, in one transaction: writes to appeals "
        "and ratings wait until it commits, reports go on. --check compares the rollup "
        "with the appeals and exits with 1 when they differ; --compact folds the "
        "rows written since the last compaction. PostgreSQL only."
    )
    rollup = rollup

    messages = {
        "unavailable": _(
            "The intake rollup exists only on PostgreSQL; here reports count live."
        ),
        "differs": _(
            "The intake rollup differs from the appeals in %(count)d keys: "
            "run rebuild_intake_rollup."
        ),
        "matches": _("The intake rollup matches the appeals."),
        "rebuilt": _("The intake rollup was rebuilt: %(rows)d rows."),
    }
