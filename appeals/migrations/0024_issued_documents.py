"""Schema: the signed documents the portal issues and their verification codes (issue
31)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0007_agency_routes_by_suggestion"),
        ("appeals", "0023_routing_suggestions"),
    ]

    operations = [
        migrations.CreateModel(
            name="IssuedDocument",
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
                    "kind",
                    models.CharField(
                        choices=[
                            ("answer_letter", "answer letter"),
                            ("receipt", "filing receipt"),
                            (
                                "left_without_consideration",
                                "letter leaving an appeal without consideration",
                            ),
                            ("report", "quarterly report"),
                        ],
                        max_length=32,
                        verbose_name="document",
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        max_length=16, unique=True, verbose_name="verification code"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("waiting", "waiting for signing"),
                            ("issued", "issued"),
                        ],
                        default="waiting",
                        max_length=16,
                        verbose_name="state",
                    ),
                ),
                (
                    "registration_number",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="registration number"
                    ),
                ),
                ("language", models.CharField(blank=True, max_length=8)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "issued_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="issued at"
                    ),
                ),
                (
                    "pages",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="pages"
                    ),
                ),
                (
                    "sha256",
                    models.CharField(
                        blank=True,
                        max_length=64,
                        verbose_name="SHA-256 of the issued file",
                    ),
                ),
                (
                    "signer_subject",
                    models.CharField(
                        blank=True, max_length=500, verbose_name="signed by"
                    ),
                ),
                (
                    "certificate_fingerprint",
                    models.CharField(blank=True, max_length=64),
                ),
                ("file_name", models.CharField(blank=True, max_length=300)),
                ("signing_error", models.CharField(blank=True, max_length=500)),
                (
                    "agency",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="agencies.agency",
                    ),
                ),
                (
                    "answer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="issued_documents",
                        to="appeals.answer",
                    ),
                ),
                (
                    "appeal",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="issued_documents",
                        to="appeals.appeal",
                    ),
                ),
                (
                    "previous",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reissued_as",
                        to="appeals.issueddocument",
                    ),
                ),
            ],
            options={
                "verbose_name": "issued document",
                "verbose_name_plural": "issued documents",
                "indexes": [
                    models.Index(
                        condition=models.Q(("state", "waiting")),
                        fields=["created_at"],
                        name="issued_document_waiting_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("state", "waiting"),
                            models.Q(
                                models.Q(("sha256", ""), _negated=True),
                                ("issued_at__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="issued_document_has_hash",
                    )
                ],
            },
        ),
    ]
