"""The open appeals of a period by day received and due date, with the registering and
lead agency: the intake report counts them live (open and overdue depend on today)
while its other figures come from reports' rollup. Built CONCURRENTLY on PostgreSQL;
the SQLite demo builds it plainly."""

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0013_inbox_lead_and_co_executor_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["registered", "routed", "in_progress", "re_review"])
                ),
                fields=["received_on", "due_on"],
                include=("registering_agency", "lead_agency"),
                name="appeal_open_intake_idx",
            ),
        ),
    ]
