"""Retention of personal data: when an appeal's applicant data was removed, the event
that says so, and the index of the weekly sweep.

Safe on a live table: the column is nullable with no default (no rewrite), and on
PostgreSQL the index is built CONCURRENTLY (outside a transaction), so filing and
registration go on while it builds. SQLite (the demo) builds it the ordinary way.
"""

from django.conf import settings
from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agencies", "0004_staffprofile"),
        ("appeals", "0009_report_and_figures_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="personal_data_removed_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="personal data removed at",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="type",
            field=models.CharField(
                choices=[
                    ("submitted", "submitted through the portal"),
                    ("registered", "registered"),
                    ("left_without_consideration", "left without consideration"),
                    ("imported", "imported from an old register"),
                    ("linked_repeat", "linked as a repeated appeal"),
                    ("grouped", "grouped with a mass appeal"),
                    ("routed", "sent to the agency"),
                    ("forwarded", "forwarded to another body"),
                    ("assigned", "executor assigned"),
                    ("returned", "returned as outside the agency's competence"),
                    ("contributed", "co-executor's input sent"),
                    ("answer_submitted", "answer submitted for approval"),
                    ("answer_sent_back", "answer sent back for revision"),
                    ("extended", "deadline extended"),
                    ("overdue", "deadline missed"),
                    ("answered", "answered"),
                    ("re_review_requested", "re-review requested"),
                    ("rated", "answer rated by the citizen"),
                    ("notified", "citizen notified"),
                    (
                        "personal_data_removed",
                        "personal data removed under the retention period",
                    ),
                ],
                max_length=40,
                verbose_name="event",
            ),
        ),
        AddIndexConcurrently(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(
                    ("personal_data_removed_at__isnull", True), ("status", "closed")
                ),
                fields=["closed_at"],
                name="appeal_retention_idx",
            ),
        ),
    ]
