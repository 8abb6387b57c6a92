"""The WSGI entry point gunicorn loads."""

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
    # Django and the project's apps: hundreds of thousands of objects, not a handful.
    assert int(frozen_after) > 50_000


def test_web_process_answers_a_request_after_freezing():
    status = _in_new_process(
        "import portal.wsgi; from django.test import Client; "
        "r = Client().get('/healthz', secure=True); print(r.status_code, r.content.decode())"
    )
    assert status == "200 ok"
