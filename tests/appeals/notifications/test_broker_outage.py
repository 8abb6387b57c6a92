"""The broker goes down during a change, then comes back: the notification arrives
exactly once. The test runs its own redis-server on another port (never the machine's
shared one) and a real Celery worker on it."""

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from appeals.models import Appeal, Notification
from tests.helpers import (
    ROOT,
    celery_worker,
    database_url_for_tests,
    free_port,
    private_redis,
    wait_for,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def _manage_shell(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_change_made_while_the_broker_is_down_notifies_once_it_is_back(tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"filemail://{mail_dir}",
    }
    # 1. The broker is down: a citizen sends an appeal (through the real service).
    key = uuid.uuid4()
    made = _manage_shell(
        "import uuid; from appeals.intake import filing; "
        f"filing.submit_appeal(submission_key=uuid.UUID('{key}'), "
        "applicant_name='Асанов Бакыт', applicant_email='bakyt@example.kg', "
        "text='Биздин көчөдө жарык жок, үч айдан бери.', language='ky', kind='complaint')",
        env,
    )
    assert made.returncode == 0, made.stderr
    assert "the sweep will send it" in made.stderr  # the enqueue failed, nothing lost
    notification = Notification.objects.get(appeal__submission_key=key)
    assert notification.state == Notification.State.PENDING

    # 2. The broker comes back with a worker; the periodic sweep runs (twice).
    with private_redis(tmp_path, port):
        with celery_worker(queue="celery", extra_env=env):
            for _ in range(2):
                sent = _manage_shell(
                    "from appeals.tasks import sweep_notifications; "
                    "sweep_notifications.delay()",
                    env,
                )
                assert sent.returncode == 0, sent.stderr
            delivered = wait_for(
                lambda: Notification.objects.filter(
                    pk=notification.pk, state=Notification.State.SENT
                ).exists(),
                timeout=60,
            )
            time.sleep(2)  # let the second sweep finish too
    assert delivered
    mails = list(mail_dir.glob("*.log"))
    assert len(mails) == 1
    assert Appeal.objects.get(submission_key=key).tracking_number in mails[0].read_text(
        encoding="utf-8"
    )
