# Indexes for the API, built without locking the live appeals and notifications tables.

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agencies", "0005_api_clients_and_embed_origins"),
        ("appeals", "0011_api_requests_and_callbacks"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("api_client__isnull", False), ("state", "pending")),
                fields=["api_client", "appeal", "id"],
                name="notification_callback_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                fields=["received_at", "id"], name="appeal_received_at_idx"
            ),
        ),
    ]
