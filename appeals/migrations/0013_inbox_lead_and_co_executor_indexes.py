"""Indexes of the agency inbox at scale (bench/README.md): the lead agency's open
appeals in registration order, and the co-executor assignments. Built CONCURRENTLY on
PostgreSQL so a live appeals table is not locked while they build; the SQLite demo
builds them plainly."""

from django.conf import settings
from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agencies", "0004_staffprofile"),
        ("appeals", "0012_api_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("status__in", ["routed", "in_progress"])),
                fields=["lead_agency", "registered_at", "id"],
                include=("status", "due_on"),
                name="appeal_inbox_lead_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="assignment",
            index=models.Index(
                condition=models.Q(("is_active", True), ("role", "co_executor")),
                fields=["agency", "appeal"],
                name="assignment_co_executor_idx",
            ),
        ),
    ]
