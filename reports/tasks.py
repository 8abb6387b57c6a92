"""Celery tasks of reports: the quarterly archive."""

from celery import shared_task
from django.utils import timezone

from . import archive


@shared_task(name="reports.tasks.archive_quarter", ignore_result=True)
def archive_quarter() -> int:
    """Archive the reports of the quarter that just ended (by today's date in
    Bishkek). Safe to run twice: what exists is skipped."""
    return len(archive.archive_quarter(today=timezone.localdate()))
