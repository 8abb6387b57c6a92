"""Celery tasks of reports: the quarterly archive."""

from celery import shared_task
from django.utils import timezone

from reports import rollup

from . import archive


@shared_task(name="reports.tasks.archive_quarter", ignore_result=True)
def archive_quarter() -> int:
    """Archive the reports of the quarter that just ended (by today's date in
    Bishkek). Safe to run twice: what exists is skipped."""
    return len(archive.archive_quarter(today=timezone.localdate()))


@shared_task(name="reports.tasks.compact_intake_rollup", ignore_result=True)
def compact_intake_rollup() -> None:
    """Fold the intake rollup's delta rows (reports.rollup.compact); nothing to do on
    a database without the rollup. Safe to run twice: the second waits for nothing
    (advisory lock) and finds little to fold."""

    if rollup.is_available():
        rollup.compact()
