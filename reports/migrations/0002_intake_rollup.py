"""The intake rollup (reports.rollup): its table, and on PostgreSQL the triggers that
keep it in the transaction of every write to appeals and ratings, and its first
contents computed from the appeals there are (one grouped pass; on a production upgrade
the appeals and ratings tables wait for it, SHARE lock)."""

from django.db import migrations, models

from portal import deltas
from reports import rollup


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("appeals", "0014_open_intake_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="IntakeCount",
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
                ("month", models.DateField()),
                ("registering_agency_id", models.IntegerField(null=True)),
                ("lead_agency_id", models.IntegerField(null=True)),
                (
                    "breakdown",
                    models.CharField(
                        choices=[
                            ("channel", "Channel"),
                            ("kind", "Kind"),
                            ("outcome", "Outcome"),
                            ("topic", "Topic"),
                            ("rating", "Rating"),
                        ],
                        max_length=8,
                    ),
                ),
                ("channel", models.CharField(blank=True, max_length=32)),
                ("form", models.CharField(blank=True, max_length=16)),
                ("kind", models.CharField(blank=True, max_length=16)),
                ("outcome", models.CharField(blank=True, max_length=32)),
                ("state", models.CharField(blank=True, max_length=8)),
                ("topic_id", models.IntegerField(null=True)),
                ("appeals", models.BigIntegerField()),
                ("score_sum", models.BigIntegerField()),
                ("addressed", models.BigIntegerField()),
                ("compacted", models.BooleanField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["month"], name="intake_count_month_idx"),
                    models.Index(
                        condition=models.Q(("compacted", False)),
                        fields=["month"],
                        name="intake_count_delta_idx",
                    ),
                ],
            },
        ),
        deltas.install_operation(rollup),
    ]
