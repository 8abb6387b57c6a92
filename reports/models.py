"""Archived reports: the files and figures of each quarter, kept as they were made."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency


def archive_path(instance: "ArchivedReport", filename: str) -> str:
    # Private media: no URL serves this folder; reports.views.archived_file does,
    # after the permission check.
    return f"reports/{instance.period.replace('..', '_')}/{filename}"


class ArchivedReport(models.Model):
    """One report file of a period, made once by the quarterly archive and never
    changed afterwards: a later correction of the register does not rewrite what
    was published. `figures` is the report's JSON (`IntakeReport.as_json()`)."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "XLSX"
        JSON = "json", "JSON"

    period = models.CharField(_("period"), max_length=32)  # a label: 2020-Q1
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("last day"))
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="archived_reports",
        help_text=_("Empty: all state bodies."),
    )
    language = models.CharField(_("language"), max_length=2, choices=settings.LANGUAGES)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    file = models.FileField(_("file"), upload_to=archive_path, max_length=255)
    figures = models.JSONField(_("figures"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("archived report")
        verbose_name_plural = _("archived reports")
        ordering = ["-period_end", "agency__name", "language", "format"]
        constraints = [
            # Two constraints, because NULLs are distinct in a unique index: the
            # government-wide reports (agency NULL) need their own.
            models.UniqueConstraint(
                fields=["period", "agency", "language", "format"],
                condition=models.Q(agency__isnull=False),
                name="archived_report_unique_agency",
            ),
            models.UniqueConstraint(
                fields=["period", "language", "format"],
                condition=models.Q(agency__isnull=True),
                name="archived_report_unique_all",
            ),
        ]
        indexes = [
            # The managers' page lists one scope's archive, newest period first.
            models.Index(
                fields=["agency", "-period_end"], name="archived_report_scope"
            ),
        ]

    def __str__(self) -> str:
        scope = self.agency.code if self.agency_id else "all"
        return f"{self.period} · {scope} · {self.language} · {self.format}"


class IntakeCount(models.Model):
    """Rows of the intake rollup (reports.rollup): how many counted appeals one month,
    one registering and one lead agency contribute to one value of one breakdown of
    the report. Written only by the database's triggers, the compaction and the
    rebuild; several rows may share a key (deltas not folded yet): readers sum them.
    Agency and topic ids are plain numbers, not foreign keys: the rows are derived
    data, and a key check would lock the agency row on every registration."""

    class Breakdown(models.TextChoices):
        # Never shown to a person: no translated labels.
        CHANNEL = "channel"  # channel, form
        KIND = "kind"
        OUTCOME = "outcome"  # outcome, state
        TOPIC = "topic"
        RATING = "rating"  # appeals = ratings, score_sum, addressed

    month = models.DateField()  # the first day of the month of received_on
    registering_agency_id = models.IntegerField(null=True)
    lead_agency_id = models.IntegerField(null=True)
    breakdown = models.CharField(max_length=8, choices=Breakdown.choices)
    channel = models.CharField(max_length=32, blank=True)
    form = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    # open, on_time, late, closed (without an answer due by a date)
    state = models.CharField(max_length=8, blank=True)
    topic_id = models.IntegerField(null=True)
    appeals = models.BigIntegerField()  # ratings, in rating rows
    score_sum = models.BigIntegerField()
    addressed = models.BigIntegerField()
    compacted = models.BooleanField()

    class Meta:
        indexes = [
            # The report: the rows of a period's whole months.
            models.Index(fields=["month"], name="intake_count_month_idx"),
            # The compaction: the months that have delta rows.
            models.Index(
                fields=["month"],
                name="intake_count_delta_idx",
                condition=models.Q(compacted=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.breakdown}: {self.appeals}"
