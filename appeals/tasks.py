"""Celery tasks of appeals: they take ids and call the services."""

import logging

from celery import shared_task

from appeals.api.clients import forget_old_responses, prune_call_log
from appeals.casework import answering, inbox_rollup
from appeals.intake import filing
from appeals.notifications import outbox as notifications
from appeals.oversight import reminders
from appeals.privacy import retention
from appeals.suggestions import model as routing_model
from appeals.suggestions import routing as suggested_routing

logger = logging.getLogger(__name__)


@shared_task(name="appeals.tasks.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int:
    """Deliver every pending notification that is due (lost messages, retries)."""
    sent = 0
    for notification_id in notifications.due_ids():
        sent += notifications.deliver(notification_id)
    return sent


@shared_task(name="appeals.tasks.purge_stale_uploads", ignore_result=True)
def purge_stale_uploads() -> int:
    """Remove files of filing forms that were never sent."""
    return filing.purge_stale_uploads()


@shared_task(name="appeals.tasks.deadline_sweep", ignore_result=True)
def deadline_sweep() -> dict:
    """Reminders before deadlines; missed deadlines flagged and escalated."""
    return reminders.daily_sweep()


@shared_task(name="appeals.tasks.weekly_digest", ignore_result=True)
def weekly_digest() -> int:
    return reminders.weekly_digest()


@shared_task(name="appeals.tasks.remove_expired_personal_data", ignore_result=True)
def remove_expired_personal_data() -> int:
    """The retention period of personal data (appeals.privacy.retention)."""
    return retention.remove_expired_personal_data().appeals


@shared_task(name="appeals.tasks.forget_api_responses", ignore_result=True)
def forget_api_responses() -> int:
    """Drop the stored answers of API write calls older than the retry window, and
    call-log rows older than API_CALL_LOG_DAYS."""
    prune_call_log()
    return forget_old_responses()


@shared_task(name="appeals.tasks.compact_inbox_counts", ignore_result=True)
def compact_inbox_counts() -> None:
    """Fold the inbox counts' delta rows (appeals.casework.inbox_rollup.compact); nothing to do
    on a database without them. Safe to run twice: the second waits for nothing
    (advisory lock) and finds little to fold."""
    if inbox_rollup.is_available():
        inbox_rollup.compact()


@shared_task(name="appeals.tasks.retrain_routing_model", ignore_result=True)
def retrain_routing_model() -> int | None:
    """A new version of the routing suggestions' model from the register as it is now
    (appeals.suggestions.model); with nothing to learn from, the current one stays."""
    try:
        version, _trained = routing_model.train_and_store()
    except routing_model.TrainingError as error:
        logger.info("routing model not retrained: %s", error)
        return None
    return version.pk


@shared_task(name="appeals.tasks.route_by_suggestion", ignore_result=True)
def route_by_suggestion() -> int:
    """Route the newly registered appeals whose suggested agency opted in, above the
    threshold (appeals.suggestions.routing.sweep); one query while none opted in."""
    return suggested_routing.sweep()


@shared_task(name="appeals.tasks.sign_waiting_letters", ignore_result=True)
def sign_waiting_letters() -> int:
    """Sign and send the answer letters left waiting for a usable certificate; a
    missing or wrong password fails the task with its reason (and the metric
    portal_documents_waiting_for_signing stays above zero)."""
    return answering.sign_waiting_letters()
