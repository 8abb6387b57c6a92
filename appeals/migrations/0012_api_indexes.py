# Indexes for the API, built without locking the live appeals and notifications tables.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """CONCURRENTLY on PostgreSQL; a plain index on the SQLite demo."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )
        return super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )
        return super().database_backwards(
            app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agencies", "0005_api_clients_and_embed_origins"),
        ("appeals", "0011_api_requests_and_callbacks"),
    ]

    operations = [
        AddIndexOnline(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("api_client__isnull", False), ("state", "pending")),
                fields=["api_client", "appeal", "id"],
                name="notification_callback_idx",
            ),
        ),
        AddIndexOnline(
            model_name="appeal",
            index=models.Index(
                fields=["received_at", "id"], name="appeal_received_at_idx"
            ),
        ),
    ]
