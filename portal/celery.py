"""The Celery app: configuration from Django settings, tasks autodiscovered per app."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic task of the portal, in one place.
app.conf.beat_schedule = {
    # Every minute: proves to the readiness check that a worker takes tasks.
    "worker-heartbeat": {
        "task": "portal.tasks.record_heartbeat",
        "schedule": 60.0,
    },
    # Every five minutes: signs and sends the answer letters waiting for a usable
    # signing certificate (a password set or corrected since).
    "sign-waiting-letters": {
        "task": "appeals.tasks.sign_waiting_letters",
        "schedule": 300.0,
    },
    # Every minute: sends notifications that are due (retries, lost task messages).
    "sweep-notifications": {
        "task": "appeals.tasks.sweep_notifications",
        "schedule": 60.0,
    },
    # Every day at 07:00 Bishkek time, before the offices open: reminders 3 and 1
    # working days before deadlines; missed deadlines flagged and escalated.
    "deadline-sweep": {
        "task": "appeals.tasks.deadline_sweep",
        "schedule": crontab(hour=7, minute=0),
    },
    # Mondays at 08:00: the weekly digest for agency heads.
    "weekly-digest": {
        "task": "appeals.tasks.weekly_digest",
        "schedule": crontab(hour=8, minute=0, day_of_week=1),
    },
    # At 03:00 on the first day of January, April, July and October: archives the
    # reports of the quarter that has just ended (skips what is archived already).
    "archive-quarter": {
        "task": "reports.tasks.archive_quarter",
        "schedule": crontab(minute=0, hour=3, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # Every hour at minute 17: folds the rows the intake rollup's triggers wrote since
    # the last time, so the reports sum a few rows per key (reports.rollup).
    "compact-intake-rollup": {
        "task": "reports.tasks.compact_intake_rollup",
        "schedule": crontab(minute=17),
    },
    # Every hour at minute 47: the same for the inbox counts (appeals.casework.inbox_rollup),
    # so an agency head's tabs sum a few rows per due date.
    "compact-inbox-counts": {
        "task": "appeals.tasks.compact_inbox_counts",
        "schedule": crontab(minute=47),
    },
    # Every night at 02:30: removes expired sessions from the database.
    "clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=30),
    },
    # Sundays at 04:00, when nobody works: removes the personal data of appeals
    # closed longer ago than the retention period (PERSONAL_DATA_RETENTION_DAYS).
    "remove-expired-personal-data": {
        "task": "appeals.tasks.remove_expired_personal_data",
        "schedule": crontab(hour=4, minute=0, day_of_week=0),
    },
    # Every night at 03:30: drops the stored answers (with access codes) of API write
    # calls older than API_IDEMPOTENCY_DAYS; a retry after that gets 410.
    "forget-api-responses": {
        "task": "appeals.tasks.forget_api_responses",
        "schedule": crontab(hour=3, minute=30),
    },
    # Sundays at 05:00, after the retention sweep: retrains the routing suggestions'
    # model on the register as it is (appeals.suggestions); the previous one is kept.
    "retrain-routing-model": {
        "task": "appeals.tasks.retrain_routing_model",
        "schedule": crontab(hour=5, minute=0, day_of_week=0),
    },
    # Every minute: routes newly registered appeals without a person where the
    # suggested agency opted in and the suggestion is probable enough (off by default).
    "route-by-suggestion": {
        "task": "appeals.tasks.route_by_suggestion",
        "schedule": 60.0,
    },
    # Every hour: removes files of filing forms that were never sent (after a day).
    "purge-stale-uploads": {
        "task": "appeals.tasks.purge_stale_uploads",
        "schedule": 3600.0,
    },
}
