"""Schema: the routing model's versions and the suggestions shown to controllers (issue
30)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0022_consent_and_policy_texts"),
        ("agencies", "0007_agency_routes_by_suggestion"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoutingModel",
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
                (
                    "file_name",
                    models.CharField(max_length=300, unique=True, verbose_name="file"),
                ),
                ("sha256", models.CharField(editable=False, max_length=64)),
                (
                    "trained_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="trained at"
                    ),
                ),
                (
                    "trained_on",
                    models.PositiveIntegerField(verbose_name="appeals learned from"),
                ),
                (
                    "figures",
                    models.JSONField(
                        blank=True, default=dict, verbose_name="evaluation figures"
                    ),
                ),
                (
                    "is_current",
                    models.BooleanField(default=False, verbose_name="in use"),
                ),
            ],
            options={
                "verbose_name": "routing model",
                "verbose_name_plural": "routing models",
                "ordering": ["-trained_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_current", True)),
                        fields=("is_current",),
                        name="routing_model_one_current",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RoutingSuggestion",
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
                (
                    "suggestions",
                    models.JSONField(
                        blank=True, default=list, verbose_name="suggestions"
                    ),
                ),
                (
                    "top_words",
                    models.JSONField(
                        blank=True, default=list, verbose_name="words that weighed most"
                    ),
                ),
                (
                    "probability",
                    models.FloatField(
                        blank=True, null=True, verbose_name="probability of the first"
                    ),
                ),
                (
                    "automatic",
                    models.BooleanField(
                        default=False, verbose_name="routed by suggestion"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="at"
                    ),
                ),
                (
                    "appeal",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="routing_suggestions",
                        to="appeals.appeal",
                    ),
                ),
                (
                    "chosen_agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="agencies.agency",
                        verbose_name="agency chosen",
                    ),
                ),
                (
                    "model",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="appeals.routingmodel",
                        verbose_name="routing model",
                    ),
                ),
                (
                    "rule_agency",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="agencies.agency",
                        verbose_name="suggested by the rule",
                    ),
                ),
            ],
            options={
                "verbose_name": "routing suggestion",
                "verbose_name_plural": "routing suggestions",
                "indexes": [
                    models.Index(
                        fields=["appeal", "at"], name="routing_suggestion_appeal_idx"
                    ),
                    models.Index(fields=["at"], name="routing_suggestion_at_idx"),
                ],
            },
        ),
    ]
