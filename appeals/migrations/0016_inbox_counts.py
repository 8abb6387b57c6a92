"""The inbox counts (appeals.inbox_rollup): their table, and on PostgreSQL the triggers
that keep them in the transaction of every write to appeals and assignments, and their
first contents computed from the open appeals (one grouped pass; on a production
upgrade writes to appeals and assignments wait for it, SHARE lock)."""

from django.db import migrations, models

from appeals.casework import inbox_rollup
from portal import deltas


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0015_fewer_appeal_indexes_for_writes"),
    ]

    operations = [
        migrations.CreateModel(
            name="InboxCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("agency_id", models.IntegerField()),
                (
                    "part",
                    models.CharField(
                        choices=[("lead", "Lead"), ("co", "Co Executor")], max_length=4
                    ),
                ),
                ("is_new", models.BooleanField()),
                ("due_on", models.DateField(null=True)),
                ("appeals", models.BigIntegerField()),
                ("compacted", models.BooleanField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["agency_id", "is_new", "due_on", "appeals"],
                        name="inbox_count_agency_idx",
                    )
                ],
            },
        ),
        deltas.install_operation(inbox_rollup),
    ]
