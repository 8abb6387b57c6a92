"""Migration operations that keep the appeals tables writable while they run."""

from django.contrib.postgres.operations import (
    AddIndexConcurrently as PostgresAddIndexConcurrently,
)
from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL: writes go on while the index is built
    (the migration must say atomic = False). Elsewhere (the SQLite demo) a plain
    CREATE INDEX, as AddIndex would do."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )
        return super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )
        return super().database_backwards(
            app_label, schema_editor, from_state, to_state
        )

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return "portal.migration_operations.AddIndexConcurrently", args, kwargs
