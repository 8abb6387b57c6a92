"""The intake rollup: counts of counted appeals per month, kept by PostgreSQL triggers in
the transaction that writes the appeals, folded by a periodic compaction, checked and
rebuilt by `manage.py rebuild_intake_rollup`.

Each counted appeal (every status but submitted) contributes one row to each breakdown
of the report, keyed by the month of `received_on`, the registering and the lead
agency (the agency scope is "registered by OR led by"): `channel` (channel, form),
`kind`, `outcome` (outcome, state: open / on_time / late / closed without an answer
to time), `topic`; and each of its ratings one `rating` row (count, score, addressed).
The report never crosses two breakdowns, so one row per breakdown is exact, and the
table holds the sum of the breakdowns' sizes per (month, agencies) instead of their
product.

Writers only ever INSERT delta rows (+n for the new rows of a statement, -n for the
old ones, grouped, nothing when they cancel out): no row is updated in place, so two
transactions registering appeals at once never wait for each other. Readers sum
whatever rows there are; `compact()` folds the deltas of the months that have any.
Only on PostgreSQL: the SQLite demo counts everything live.
"""

from portal import deltas

TABLE = "reports_intakecount"
# Columns that make a row's key (everything but the counts).
KEY = (
    "month",
    "registering_agency_id",
    "lead_agency_id",
    "breakdown",
    "channel",
    "form",
    "kind",
    "outcome",
    "state",
    "topic_id",
)
COUNTS = ("appeals", "score_sum", "addressed")
# The appeal columns a contribution reads: an UPDATE that changes none of them writes
# nothing (status is here because it decides counted / open / closed).
APPEAL_KEY_COLUMNS = (
    "status",
    "received_on",
    "registering_agency_id",
    "lead_agency_id",
    "channel",
    "form",
    "kind",
    "outcome",
    "due_on",
    "closed_at",
    "topic_id",
)
# Serialises compaction and rebuild (any constant unique to this use).
ADVISORY_LOCK = 7_202_611

# The state of a counted appeal, as reports.selectors._timeliness defines it: answered
# (closed with an answer and a due date) on time when the Bishkek day of closing is no
# later than the due date, else late; closed otherwise (forwarded, left without
# consideration, archival records); open while registered, routed, in progress or in
# re-review.
_STATE = """
CASE
    WHEN a.status <> 'closed' THEN 'open'
    WHEN a.outcome IN ('supported', 'explained', 'not_supported')
         AND a.due_on IS NOT NULL THEN
        CASE WHEN (a.closed_at AT TIME ZONE 'Asia/Bishkek')::date <= a.due_on
             THEN 'on_time' ELSE 'late' END
    ELSE 'closed'
END"""


def appeal_contributions(source: str, sign: int) -> str:
    """SELECT of the rows (KEY + COUNTS) that the appeals in `source` (a table or a
    transition table, aliased `a`) contribute, each count multiplied by `sign`.
    Ratings are joined here too, so that moving an appeal moves its ratings."""
    return f"""
    SELECT date_trunc('month', a.received_on)::date AS month,
           a.registering_agency_id, a.lead_agency_id,
           b.breakdown, b.channel, b.form, b.kind, b.outcome, b.state, b.topic_id,
           {sign} AS appeals, 0 AS score_sum, 0 AS addressed
    FROM {source} a
    CROSS JOIN LATERAL (VALUES
        ('channel', a.channel, a.form, '', '', '', NULL::integer),
        ('kind', '', '', a.kind, '', '', NULL),
        ('outcome', '', '', '', a.outcome, {_STATE}, NULL),
        ('topic', '', '', '', '', '', a.topic_id)
    ) AS b (breakdown, channel, form, kind, outcome, state, topic_id)
    WHERE a.status <> 'submitted'
    UNION ALL
    SELECT date_trunc('month', a.received_on)::date,
           a.registering_agency_id, a.lead_agency_id,
           'rating', '', '', '', '', '', NULL,
           {sign}, {sign} * r.score, {sign} * r.addressed::integer
    FROM {source} a
    JOIN appeals_rating r ON r.appeal_id = a.id
    WHERE a.status <> 'submitted'"""


def rating_contributions(source: str, sign: int) -> str:
    """The `rating` rows that the ratings in `source` (aliased `r`) contribute."""
    return f"""
    SELECT date_trunc('month', a.received_on)::date AS month,
           a.registering_agency_id, a.lead_agency_id,
           'rating' AS breakdown, '' AS channel, '' AS form, '' AS kind,
           '' AS outcome, '' AS state, NULL::integer AS topic_id,
           {sign} AS appeals, {sign} * r.score AS score_sum,
           {sign} * r.addressed::integer AS addressed
    FROM {source} r
    JOIN appeals_appeal a ON a.id = r.appeal_id
    WHERE a.status <> 'submitted'"""


ROLLUP = deltas.DeltaTable(
    table=TABLE, key=KEY, counts=COUNTS, partition="month", lock=ADVISORY_LOCK
)
SOURCES = {"appeals_appeal": "appeal", "appeals_rating": "rating"}
PREFIX = "reports_intake"


def _appeal_update_body() -> str:
    changed = deltas.changed_ids("old_rows", "new_rows", APPEAL_KEY_COLUMNS)
    old = f"(SELECT * FROM old_rows WHERE id IN {changed})"
    new = f"(SELECT * FROM new_rows WHERE id IN {changed})"
    return ROLLUP.insert_grouped(
        f"{appeal_contributions(old, -1)} UNION ALL {appeal_contributions(new, 1)}"
    )


def _rating_body(select: str, *, rows: str) -> str:
    # Lock the rated appeals against a concurrent change of their keys (route,
    # return, close), so the rating lands under the key the appeal keeps; the
    # services lock the appeal already, this holds for any other writer too.
    locked = deltas.lock_for_share("appeals_appeal", f"SELECT appeal_id FROM {rows}")
    return f"{locked};\n{ROLLUP.insert_grouped(select)}"


def install_sql() -> str:
    """Functions and statement-level triggers (one per event: PostgreSQL allows
    transition tables only on single-event triggers)."""
    function = deltas.plpgsql_function
    parts = [
        function(
            "reports_intake_appeal_insert",
            ROLLUP.insert_grouped(appeal_contributions("new_rows", 1)),
        ),
        function("reports_intake_appeal_update", _appeal_update_body()),
        function(
            "reports_intake_appeal_delete",
            ROLLUP.insert_grouped(appeal_contributions("old_rows", -1)),
        ),
        function(
            "reports_intake_rating_insert",
            _rating_body(rating_contributions("new_rows", 1), rows="new_rows"),
        ),
        function(
            "reports_intake_rating_update",
            _rating_body(
                rating_contributions("old_rows", -1)
                + " UNION ALL "
                + rating_contributions("new_rows", 1),
                rows="new_rows",
            ),
        ),
        function(
            "reports_intake_rating_delete",
            _rating_body(rating_contributions("old_rows", -1), rows="old_rows"),
        ),
        deltas.triggers_sql(PREFIX, SOURCES),
    ]
    return "\n".join(parts)


def uninstall_sql() -> str:
    return deltas.drop_triggers_sql(PREFIX, SOURCES)


def _all_contributions() -> str:
    return appeal_contributions("appeals_appeal", 1)


def rebuild_sql() -> str:
    """Recompute from the appeals: the writers wait (SHARE locks) so nothing written
    meanwhile is lost; readers go on and see the old rows until the commit."""
    return ROLLUP.rebuild_sql(
        _all_contributions(), lock=("appeals_appeal", "appeals_rating")
    )


is_available = deltas.is_available


def rebuild() -> int:
    """Recompute the rollup from the appeals in one transaction; rows written."""
    return ROLLUP.rebuild(rebuild_sql())


def compact() -> tuple[int, int] | None:
    """Fold the delta rows of every month that has any (portal.deltas); None when
    another compaction or rebuild is running."""
    return ROLLUP.compact()


def differences(limit: int = 20) -> tuple[int, list[tuple]]:
    """Keys whose summed rollup differs from a count of the appeals themselves, in one
    statement (one snapshot): (how many keys differ, the first `limit` of them as
    (key, (appeals, score_sum, addressed) in the rollup, the same counted live))."""
    return ROLLUP.differences(_all_contributions(), limit)
