"""The inbox's tab counts for an agency head, kept by PostgreSQL triggers (issue 11).

Counting a large agency's open appeals on every inbox page cost more than the rest of
the page at ten million appeals (60,000 open appeals, 21-26 ms index-only). Instead,
each appeal in an agency's inbox contributes one row here, keyed by the agency, its
part of the inbox (lead agency, or co-executor: casework.worklists._inbox_parts), whether it
is new there (lead: status routed; co-executor: no executor yet) and its due date; the
tabs are sums over a few hundred rows (due soon and overdue are ranges of due dates,
which is why the date is a key and not the tab: the tabs move every day).

The triggers (portal.deltas) fire on appeals (status, due date, lead agency) and on
assignments (agency, role, executor, active). An assignment's row depends on its
appeal's status and due date and the other way round, so each trigger joins the other
table as it stands: the services lock the appeal first, and the assignment's triggers
lock it FOR SHARE too, so the two never miss each other. Only on PostgreSQL: the
SQLite demo counts live (casework.worklists.inbox_counts).
"""

from appeals.models import Assignment, Status
from portal import deltas

TABLE = "appeals_inboxcount"
KEY = ("agency_id", "part", "is_new", "due_on")
PREFIX = "appeals_inbox"
SOURCES = {"appeals_appeal": "appeal", "appeals_assignment": "assignment"}
COUNTS_TABLE = deltas.DeltaTable(
    table=TABLE,
    key=KEY,
    counts=("appeals",),
    partition="agency_id",
    lock=7_202_612,
)
# The columns a contribution reads: an UPDATE that changes none of them writes nothing.
APPEAL_COLUMNS = ("status", "due_on", "lead_agency_id")
ASSIGNMENT_COLUMNS = ("appeal_id", "agency_id", "role", "executor_id", "is_active")

_OPEN = f"('{Status.ROUTED.value}', '{Status.IN_PROGRESS.value}')"
_CO = f"s.is_active AND s.role = '{Assignment.Role.CO_EXECUTOR.value}'"


def _co_executors(appeals: str, assignments: str, sign: int) -> str:
    return f"""
    SELECT s.agency_id, 'co' AS part, s.executor_id IS NULL AS is_new, a.due_on,
           {sign} AS appeals
    FROM {appeals} a JOIN {assignments} s ON s.appeal_id = a.id
    WHERE a.status IN {_OPEN} AND {_CO}"""


def appeal_contributions(source: str, sign: int) -> str:
    """The rows (KEY, appeals) the appeals in `source` (aliased `a`) contribute: to
    their lead agency's inbox, and to each co-executor's."""
    return f"""
    SELECT a.lead_agency_id AS agency_id, 'lead' AS part,
           a.status = '{Status.ROUTED.value}' AS is_new, a.due_on, {sign} AS appeals
    FROM {source} a
    WHERE a.status IN {_OPEN} AND a.lead_agency_id IS NOT NULL
    UNION ALL {_co_executors(source, "appeals_assignment", sign)}"""


def assignment_contributions(source: str, sign: int) -> str:
    """The rows the co-executor assignments in `source` contribute."""
    return _co_executors("appeals_appeal", source, sign)


def _update_select(contributions, columns: tuple[str, ...]) -> str:
    changed = deltas.changed_ids("old_rows", "new_rows", columns)
    old = f"(SELECT * FROM old_rows WHERE id IN {changed})"
    new = f"(SELECT * FROM new_rows WHERE id IN {changed})"
    return f"{contributions(old, -1)} UNION ALL {contributions(new, 1)}"


def _assignment_body(select: str, rows: str) -> str:
    # The appeals whose status and due date the rows read, locked (portal.deltas).
    locked = deltas.lock_for_share("appeals_appeal", f"SELECT appeal_id FROM {rows}")
    return f"{locked};\n{COUNTS_TABLE.insert_grouped(select)}"


def install_sql() -> str:
    function = deltas.plpgsql_function
    grouped = COUNTS_TABLE.insert_grouped
    return "\n".join(
        [
            function(
                "appeals_inbox_appeal_insert",
                grouped(appeal_contributions("new_rows", 1)),
            ),
            function(
                "appeals_inbox_appeal_update",
                grouped(_update_select(appeal_contributions, APPEAL_COLUMNS)),
            ),
            function(
                "appeals_inbox_appeal_delete",
                grouped(appeal_contributions("old_rows", -1)),
            ),
            function(
                "appeals_inbox_assignment_insert",
                _assignment_body(assignment_contributions("new_rows", 1), "new_rows"),
            ),
            function(
                "appeals_inbox_assignment_update",
                _assignment_body(
                    _update_select(assignment_contributions, ASSIGNMENT_COLUMNS),
                    "new_rows",
                ),
            ),
            function(
                "appeals_inbox_assignment_delete",
                _assignment_body(assignment_contributions("old_rows", -1), "old_rows"),
            ),
            deltas.triggers_sql(PREFIX, SOURCES),
        ]
    )


def uninstall_sql() -> str:
    return deltas.drop_triggers_sql(PREFIX, SOURCES)


def _all_contributions() -> str:
    return appeal_contributions("appeals_appeal", 1)


def rebuild_sql() -> str:
    return COUNTS_TABLE.rebuild_sql(
        _all_contributions(), lock=("appeals_appeal", "appeals_assignment")
    )


is_available = deltas.is_available


def rebuild() -> int:
    """Recompute the counts from the appeals and assignments; rows written."""
    return COUNTS_TABLE.rebuild(rebuild_sql())


def compact() -> tuple[int, int] | None:
    """Fold the delta rows of every agency that has any; None when another
    compaction or rebuild is running."""
    return COUNTS_TABLE.compact()


def differences(limit: int = 20) -> tuple[int, list[tuple]]:
    """Keys whose summed counts differ from a count of the appeals and assignments
    (portal.deltas.DeltaTable.differences)."""
    return COUNTS_TABLE.differences(_all_contributions(), limit)
