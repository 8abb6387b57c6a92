"""Counts kept by PostgreSQL triggers as delta rows: what the intake rollup
(reports.rollup) and the inbox counts (appeals.casework.inbox_rollup) share.

A `DeltaTable` is a table of a key and counts. Statement-level triggers on the tables
the counts come from INSERT what a statement changed (+n for its new rows, -n for its
old ones, grouped by key, nothing when they cancel out); no row is updated in place,
so two transactions writing at once never wait for each other on a count. Readers sum
whatever rows there are; `compact()` folds the delta rows of the partitions (a key
column) that have any into one row per key; `rebuild()` recomputes everything from the
source tables; `differences()` compares the sums with a live count.
"""

from dataclasses import dataclass

from django.db import connection, migrations, transaction

# The whole-table passes (rebuild, check) group millions of rows: in memory, not in
# temporary files.
WORK_MEM = "256MB"
TRIGGER_EVENTS = (
    ("INSERT", "NEW TABLE AS new_rows"),
    ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("DELETE", "OLD TABLE AS old_rows"),
)


def is_available() -> bool:
    return connection.vendor == "postgresql"


def install_operation(rollup) -> migrations.RunPython:
    """The migration step that installs a rollup module's triggers (`install_sql`,
    `uninstall_sql`) and fills it (`rebuild_sql`), on PostgreSQL only: the SQLite demo
    counts live. A later change to the module's SQL comes with a migration that runs
    this again (CREATE OR REPLACE) and rebuilds."""

    def install(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(rollup.uninstall_sql())
            cursor.execute(rollup.install_sql())
            cursor.execute(rollup.rebuild_sql())

    def uninstall(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(rollup.uninstall_sql())

    return migrations.RunPython(install, uninstall, elidable=False)


def plpgsql_function(name: str, body: str) -> str:
    """A trigger function running `body` (statements, the last without `;`)."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body};
RETURN NULL;
END $$;"""


def changed_ids(old: str, new: str, columns: tuple[str, ...]) -> str:
    """A sub-select of the ids whose `columns` differ between the transition tables
    `old` and `new`: an UPDATE that changes none of them writes no delta."""
    listed = ", ".join(f"{{t}}.{c}" for c in columns)
    return f"""(SELECT o.id FROM {old} o JOIN {new} n ON n.id = o.id
        WHERE ({listed.format(t="o")}) IS DISTINCT FROM ({listed.format(t="n")}))"""


def lock_for_share(table: str, ids: str) -> str:
    """Lock the rows of `table` whose id is in the sub-select `ids` (FOR SHARE, in id
    order): a trigger reading their columns keeps them until its transaction ends, so
    a concurrent change of those columns comes after, and its own trigger sees this
    statement's rows."""
    return f"PERFORM 1 FROM {table} WHERE id IN ({ids}) ORDER BY id FOR SHARE"


@dataclass(frozen=True)
class DeltaTable:
    table: str
    key: tuple[str, ...]
    counts: tuple[str, ...]
    # The key column compaction folds by: the partitions with a delta row.
    partition: str
    # Serialises compaction and rebuild (any constant unique to the table).
    lock: int

    @property
    def _key(self) -> str:
        return ", ".join(self.key)

    @property
    def _columns(self) -> str:
        return f"{self._key}, {', '.join(self.counts)}"

    @property
    def _sums(self) -> str:
        return ", ".join(f"sum({c})" for c in self.counts)

    @property
    def _nonzero(self) -> str:
        return " OR ".join(f"sum({c}) <> 0" for c in self.counts)

    def insert_grouped(self, select: str, *, compacted: bool = False) -> str:
        """INSERT the rows of `select` (key and counts columns) grouped by key."""
        return f"""
    INSERT INTO {self.table} ({self._columns}, compacted)
    SELECT {self._key}, {self._sums}, {"true" if compacted else "false"}
    FROM ({select}) AS delta
    GROUP BY {self._key}
    HAVING {self._nonzero}"""

    def rebuild_sql(self, live: str, *, lock: tuple[str, ...]) -> str:
        """Recompute from `live` (the contributions of every source row): the writers
        of the `lock` tables wait (SHARE locks) so nothing written meanwhile is lost;
        readers go on and see the old rows until the commit."""
        return f"""
    SET LOCAL work_mem = '{WORK_MEM}';
    LOCK TABLE {", ".join(lock)} IN SHARE MODE;
    DELETE FROM {self.table};
    {self.insert_grouped(live, compacted=True)};
    ANALYZE {self.table};"""

    def rebuild(self, sql: str) -> int:
        """Run `sql` (rebuild_sql) in one transaction; the rows it left."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self.lock])
            cursor.execute(sql)
            cursor.execute(f"SELECT count(*) FROM {self.table}")
            return cursor.fetchone()[0]

    def compact(self) -> tuple[int, int] | None:
        """Fold the delta rows of every partition that has any into one row per key.

        Returns (rows before, rows after) for those partitions, or None when another
        compaction or rebuild holds the lock (it will do the work). Rows that writers
        commit meanwhile are not in this statement's snapshot: they stay, and are
        summed like the rest until the next compaction.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [self.lock])
            if not cursor.fetchone()[0]:
                return None
            part = self.partition
            cursor.execute(
                f"""
                WITH gone AS (
                    DELETE FROM {self.table}
                    WHERE {part} IN (
                        SELECT DISTINCT {part} FROM {self.table} WHERE NOT compacted
                    )
                    RETURNING {self._columns}
                ), folded AS (
                    INSERT INTO {self.table} ({self._columns}, compacted)
                    SELECT {self._key}, {self._sums}, true FROM gone
                    GROUP BY {self._key}
                    HAVING {self._nonzero}
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM folded)"""
            )
            return cursor.fetchone()

    def differences(self, live: str, limit: int = 20) -> tuple[int, list[tuple]]:
        """Keys whose summed counts differ from `live` (the contributions of every
        source row) in one statement (one snapshot): (how many keys differ, the first
        `limit` as (key, the counts kept, the counts counted live))."""
        sums = ", ".join(f"s{n}" for n in range(len(self.counts)))
        kept = ", ".join(f"coalesce(r.s{n}, 0)" for n in range(len(self.counts)))
        counted = kept.replace("r.", "l.")
        grouped = f"SELECT ROW({self._key})::text AS k, {self._sums} FROM"
        sql = f"""
        WITH r (k, {sums}) AS ({grouped} {self.table} GROUP BY {self._key}),
             l (k, {sums}) AS ({grouped} ({live}) c GROUP BY {self._key})
        SELECT coalesce(r.k, l.k), ({kept}), ({counted})
        FROM r FULL JOIN l ON r.k = l.k
        WHERE ({kept}) <> ({counted})
        ORDER BY 1"""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            cursor.execute(sql)
            rows = cursor.fetchall()
        return len(rows), rows[:limit]


def triggers_sql(prefix: str, sources: dict[str, str]) -> str:
    """CREATE TRIGGER, one per source table (`sources`: table -> the short name in
    `prefix_{short}_{event}`, the function that must exist) and event: PostgreSQL
    allows transition tables only on single-event triggers."""
    parts = []
    for table, what in sources.items():
        for event, referencing in TRIGGER_EVENTS:
            name = f"{prefix}_{what}_{event.lower()}"
            parts.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {name}();"
            )
    return "\n".join(parts)


def drop_triggers_sql(prefix: str, sources: dict[str, str]) -> str:
    parts = []
    for table, what in sources.items():
        for event, _referencing in TRIGGER_EVENTS:
            name = f"{prefix}_{what}_{event.lower()}"
            parts.append(f"DROP TRIGGER IF EXISTS {name} ON {table};")
            parts.append(f"DROP FUNCTION IF EXISTS {name}();")
    return "\n".join(parts)
