"""What a process of the portal loads when it starts: the WSGI entry point gunicorn
loads, and the services every command and worker loads."""

import os
import subprocess
import sys

from tests.helpers import ROOT


def _in_new_process(code: str) -> str:
    env = {**os.environ, "DEBUG": "1", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_web_process_keeps_its_loaded_modules_out_of_the_collectors_passes():
    frozen_before, frozen_after = _in_new_process(
        "import gc; before = gc.get_freeze_count(); import portal.wsgi; "
        "print(before, gc.get_freeze_count())"
    ).split()
    assert int(frozen_before) == 0
    # Django and the project's apps: some 79,000 objects, not a handful.
    assert int(frozen_after) > 50_000


def test_web_process_answers_a_request_after_freezing():
    status = _in_new_process(
        "import portal.wsgi; from django.test import Client; "
        "r = Client().get('/healthz', secure=True); print(r.status_code, r.content.decode())"
    )
    assert status == "200 ok"


def test_loading_the_services_and_the_import_leaves_weasyprint_unloaded():
    # import_appeals and other commands start 0.65 s sooner without it; the answer
    # letter loads it when it renders (tests/appeals cover the letter itself).
    loaded = _in_new_process(
        "import os, sys, django; "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings'); "
        "django.setup(); import appeals.intake.filing, appeals.intake.registration, "
        "appeals.casework.routing, appeals.casework.answering, appeals.deadlines.extensions, "
        "appeals.intake.importing; "
        "print('weasyprint' in sys.modules)"
    )
    assert loaded == "False"
