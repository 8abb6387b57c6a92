"""Production settings: `check --deploy` is clean with production values."""

import os
import secrets
import string
import subprocess
import sys

from tests.helpers import ROOT


def _production_env(**overrides) -> dict:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS="appeals.gov.kg",
        DATABASE_URL="postgres://portal:secret@db.internal:5432/portal",
        REDIS_URL="redis://redis.internal:6379/0",
    )
    env.update(overrides)
    return env


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values():
    result = _manage(
        "check", "--deploy", "--fail-level", "DEBUG", env=_production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_is_off_unless_set():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env=_production_env(),
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_settings_accept_the_values_compose_passes_when_env_leaves_them_out():
    # docker-compose.yml passes `${TRUSTED_PROXY_COUNT:-}`: an empty string, which
    # must mean the default (one proxy behind TLS), not a crash at start-up.
    read = (
        "from django.conf import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.PERSONAL_DATA_RETENTION_DAYS, "
        "s.PORTAL_RATE_LIMITS['submit'][0], s.AXES_FAILURE_LIMIT)"
    )
    behind_tls = _manage(
        "shell",
        "-c",
        read,
        env=_production_env(
            TRUSTED_PROXY_COUNT="",
            SECURE_PROXY_SSL_HEADER="1",
            PERSONAL_DATA_RETENTION_DAYS="1826",
            RATE_SUBMIT_PER_HOUR="5",
            AXES_FAILURE_LIMIT="5",
        ),
    )
    assert behind_tls.returncode == 0, behind_tls.stderr
    assert behind_tls.stdout.strip().splitlines()[-1] == "1 1826 5 5"
    two_proxies = _manage(
        "shell",
        "-c",
        read,
        env=_production_env(TRUSTED_PROXY_COUNT="2", SECURE_PROXY_SSL_HEADER="1"),
    )
    assert two_proxies.stdout.strip().splitlines()[-1].startswith("2 "), (
        two_proxies.stderr
    )
