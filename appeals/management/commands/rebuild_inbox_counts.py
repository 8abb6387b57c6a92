"""`python manage.py rebuild_inbox_counts`: recompute the inbox counts from the
appeals and assignments (repair, after a bulk load with triggers off), compare them
with those (`--check`), or fold their delta rows (`--compact`, what the hourly task
does)."""

from django.utils.translation import gettext_lazy as _

from appeals.casework import inbox_rollup
from portal.management.rollup_command import RollupCommand


class Command(RollupCommand):
    help = (
        "Recompute the inbox counts (the agency heads' tab counts, which PostgreSQL "
        "keeps with triggers) from the appeals and assignments, in one transaction: "
        "writes to them wait until it commits, inboxes go on. --check compares the "
        "counts with the appeals and exits with 1 when they differ; --compact folds "
        "the rows written since the last compaction. PostgreSQL only."
    )
    rollup = inbox_rollup

    messages = {
        "unavailable": _(
            "The inbox counts exist only on PostgreSQL; here the inbox counts live."
        ),
        "differs": _(
            "The inbox counts differ from the appeals in %(count)d keys: "
            "run rebuild_inbox_counts."
        ),
        "matches": _("The inbox counts match the appeals."),
        "rebuilt": _("The inbox counts were rebuilt: %(rows)d rows."),
    }
