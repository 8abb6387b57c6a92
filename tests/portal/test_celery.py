"""A real Celery worker takes a task from the broker and its effect is committed."""

import uuid

import pytest

from portal.models import WorkerHeartbeat
from portal.tasks import record_heartbeat
from tests.helpers import celery_worker, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_worker,
    pytest.mark.slow,
]


def test_real_worker_runs_a_task_and_commits_its_effect():
    name = f"test-{uuid.uuid4().hex[:8]}"
    with celery_worker() as queue:
        record_heartbeat.apply_async(kwargs={"worker": name}, queue=queue)
        seen = wait_for(
            lambda: WorkerHeartbeat.objects.filter(worker=name).first(), timeout=60
        )
    assert seen is not None, "the worker did not run the task within 60 s"
    assert seen.seen_at is not None


def test_periodic_tasks_are_registered_with_the_worker_app():
    from portal.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
