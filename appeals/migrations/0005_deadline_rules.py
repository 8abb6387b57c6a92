"""The table of time limits of the law on citizens' appeals, with its default rows.

The rows are the law as it stands; a change of law is a new row with a later
applies_from (added by an admin or a later data migration), never an edit of these.
"""

import datetime as dt

from django.db import migrations, models

LAW = "Law No. 67 of 4 May 2007 «On the procedure for considering citizens' appeals»"
# The law's date. The portal computes deadlines only for appeals registered through it
# (imported archival records have none), so the wordings the law had before its
# current one are not modelled: each row holds the current wording from this date.
LAW_DATE = dt.date(2007, 5, 4)

DEFAULT_RULES = [
    {
        "code": "registration",
        "value": 1,
        "unit": "working_days",
        "source": f"{LAW}, art. 8 (paragraph to verify)",
        "note": (
            "A written or electronic appeal is registered within one working day of "
            "receipt. Value as given by the summaries of the law on mfa.gov.kg "
            "(consular department, “Written (electronic) appeal processing time”), "
            "tandoo.gov.kg and bga.kg; the article's text itself was not at hand: "
            "check the paragraph on cbd.minjust.gov.kg."
        ),
    },
    {
        "code": "review",
        "value": 14,
        "unit": "working_days",
        "source": f"{LAW}, art. 8",
        "note": (
            "Reviewed within 14 working days from the date of registration. Art. 8 "
            "holds this period (24.kg, 2026: the bill to cut it amends art. 8). "
            "A bill cutting it to 10 working days passed its first reading in the "
            "Jogorku Kenesh on 12 March 2026 (24.kg, kaktus.media); it was not found "
            "signed or in force, so it has no row: when it takes effect, add a "
            "review row with its start date."
        ),
    },
    {
        "code": "forwarding",
        "value": 5,
        "unit": "working_days",
        "source": f"{LAW} (provisional value, to verify)",
        "note": (
            "An appeal outside the body's competence is sent to the competent body, "
            "and the citizen is told. The number of days was not found in the "
            "sources searched (the law's text was not available): 5 working days is "
            "provisional. Check it on cbd.minjust.gov.kg and correct this row."
        ),
    },
    {
        "code": "extension",
        "value": 30,
        "unit": "calendar_days",
        "source": f"{LAW} (provisional value, to verify)",
        "note": (
            "The longest extension of the review: in exceptional cases, once, with a "
            "reason, and the citizen is told. The limit was not found in the sources "
            "searched (the law's text was not available): 30 calendar days is "
            "provisional. Check it on cbd.minjust.gov.kg and correct this row."
        ),
    },
]


def create_default_rules(apps, schema_editor):
    DeadlineRule = apps.get_model("appeals", "DeadlineRule")
    for rule in DEFAULT_RULES:
        DeadlineRule.objects.get_or_create(
            code=rule["code"],
            applies_from=LAW_DATE,
            defaults={k: v for k, v in rule.items() if k != "code"},
        )


def delete_default_rules(apps, schema_editor):
    DeadlineRule = apps.get_model("appeals", "DeadlineRule")
    DeadlineRule.objects.filter(applies_from=LAW_DATE).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0004_journal_indexes")]

    operations = [
        migrations.CreateModel(
            name="DeadlineRule",
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
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="created"),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, verbose_name="updated"),
                ),
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("registration", "registration after receipt"),
                            ("forwarding", "forwarding to the competent body"),
                            ("review", "review after registration"),
                            ("extension", "extension of the review (at most)"),
                        ],
                        max_length=16,
                        verbose_name="time limit",
                    ),
                ),
                ("value", models.PositiveSmallIntegerField(verbose_name="value")),
                (
                    "unit",
                    models.CharField(
                        choices=[
                            ("working_days", "working days"),
                            ("calendar_days", "calendar days"),
                        ],
                        max_length=16,
                        verbose_name="unit",
                    ),
                ),
                (
                    "applies_from",
                    models.DateField(
                        help_text=(
                            "Appeals whose period starts on or after this day use "
                            "this rule."
                        ),
                        verbose_name="applies from",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        help_text=(
                            "Article and law, e.g. “Law No. 67 of 4 May 2007, art. 8”."
                        ),
                        max_length=300,
                        verbose_name="source",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
            ],
            options={
                "verbose_name": "deadline rule",
                "verbose_name_plural": "deadline rules",
                "ordering": ["code", "-applies_from"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("code", "applies_from"),
                        name="deadline_rule_one_per_start",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "code__in",
                                ["registration", "forwarding", "review", "extension"],
                            )
                        ),
                        name="deadline_rule_code_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("unit__in", ["working_days", "calendar_days"])
                        ),
                        name="deadline_rule_unit_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_default_rules, delete_default_rules),
    ]
