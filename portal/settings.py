"""Settings of the appeals portal: one module, every value from the environment.

Embedded defaults (SQLite under var/, kombu's filesystem broker, mails as files) let the
portal run with no server installed; production sets DATABASE_URL, REDIS_URL and
SECRET_KEY (see README.md and .env.example).
"""

import datetime as dt
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-only-for-debug-mode")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # no default: production must set it
# Earlier keys after a rotation (comma-separated): sessions, signed cookies and the
# citizens' access codes (appeals.register.codes) made under them keep working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "modeltranslation",  # must come before django.contrib.admin
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "portal",
    "agencies",
    "appeals",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is known, before anything reads the body (CSRF does).
    "portal.middleware.BodyLengthMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "appeals.context_processors.staff",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
    )
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database too: a real Celery worker started by a
    # test must see the rows the test committed.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The inbox index's covering columns (INCLUDE) are PostgreSQL's; the SQLite demo
    # builds the index without them, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if USING_POSTGRES:
    # Trigram and full-text lookups; the SQLite demo does without them.
    INSTALLED_APPS.append("django.contrib.postgres")
# A streaming replica of the primary for the heavy reads (reports, statistics, figures,
# API lists, journal exports: portal.replica), used while it lags at most
# REPLICA_MAX_LAG_SECONDS (health checked every REPLICA_HEALTH_SECONDS per process);
# without DATABASE_REPLICA_URL every read goes to DATABASE_URL. Same options as
# default, so it stays before the pooling settings below, which apply to both.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
REPLICA_HEALTH_SECONDS = env.float("REPLICA_HEALTH_SECONDS", default=5.0)
if DATABASE_REPLICA_URL:
    _replica = environ.Env.db_url_config(DATABASE_REPLICA_URL)
    if not (USING_POSTGRES and _replica["ENGINE"] == DATABASES["default"]["ENGINE"]):
        raise environ.ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL for both DATABASE_URL and itself"
        )
    DATABASES["replica"] = {
        **DATABASES["default"],
        **_replica,
        # A replica that does not answer must not hold a page for long: it is
        # skipped and the primary answers.
        "OPTIONS": {
            "connect_timeout": 3,
            **DATABASES["default"].get("OPTIONS", {}),
            **_replica.get("OPTIONS", {}),
        },
        # The test run has no replica: the alias reads the test database.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["portal.replica.ReplicaRouter"]
# Connection pooling: DATABASE_POOLER=pgbouncer when DATABASE_URL (and a replica's URL)
# point at PgBouncer in transaction mode, where each transaction may run on another
# server connection, so nothing may outlive a transaction (README "Connection pooling").
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise environ.ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'")
if DATABASE_POOLER and not USING_POSTGRES:
    raise environ.ImproperlyConfigured("DATABASE_POOLER=pgbouncer needs PostgreSQL")
for _pooled in DATABASES.values() if DATABASE_POOLER else ():
    if _pooled["ENGINE"].endswith("postgresql"):
        # .iterator() outside a transaction DECLAREs a cursor WITH HOLD on one server
        # connection; its next FETCH may reach another one ("cursor does not exist").
        _pooled["DISABLE_SERVER_SIDE_CURSORS"] = True
        # A statement psycopg PREPAREs on one server connection would be EXECUTEd on
        # another: PgBouncer 1.18 does not carry them over. (Django's default already;
        # written out so that no OPTIONS in a URL turns it back on.)
        _pooled.setdefault("OPTIONS", {})["prepare_threshold"] = None
        # CONN_MAX_AGE stays as above: an idle client connection to PgBouncer holds no
        # server connection, so keeping it saves a connect per request and costs none.

# --- Redis, Celery, cache -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery-results'}"
)
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery-queue"
    _folders = ("celery-processed", "celery-results", "celery-control")
    for _folder in (_queue_dir, *(VAR_DIR / name for name in _folders)):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(VAR_DIR / "celery-control"),
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the task queued
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "Asia/Bishkek"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Template fragments that depend only on the language and the code (an unbound form's
# fields, rendered through Django's widget templates): kept in each process, never
# stale, as a deployment restarts the processes.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": None,
}

# --- Authentication -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:dashboard"
# Lockout (django-axes) and two-factor login (django-otp), kept together here: the
# lists above stay as they were so other changes to them merge cleanly.
INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# OTPMiddleware right after authentication (it marks request.user as verified or
# not); the portal's check that controllers, heads and admins are verified after it;
# AxesMiddleware last, as django-axes asks.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "appeals.accounts.middleware.TwoFactorMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out for half
# an hour (the staff login page and the Django admin alike). Keyed on the pair, not
# the address alone: a ministry's staff share one address behind its NAT. Attempts
# are kept in the database; the address is the one the rate limits use.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "appeals.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "appeals.accounts.views.client_address"
# Proxies in front of the portal that append the client's address to
# X-Forwarded-For (portal.ratelimit.client_id): the rate limits and the lockout key on
# the client, not on the proxy. One by default when a TLS proxy is declared.
# Empty (as compose passes it when .env leaves it out) means that default.
TRUSTED_PROXY_COUNT = int(
    env.str("TRUSTED_PROXY_COUNT", default="")
    or (1 if env.bool("SECURE_PROXY_SSL_HEADER", False) else 0)
)
AXES_VERBOSE = False
# The authenticator app shows the portal under this name.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="appeals.gov.kg")
# Retention (remove_expired_personal_data, weekly): the personal data of appeals
# closed longer ago than this is removed; the figures stay. Five years by default.
PERSONAL_DATA_RETENTION_DAYS = env.int(
    "PERSONAL_DATA_RETENTION_DAYS", default=5 * 365 + 1
)
# Routing suggestions (appeals.suggestions): an appeal is routed without a controller
# only to an agency that opted in and only when the first suggestion's probability is
# at least this; an agency with fewer examples than ROUTING_MIN_EXAMPLES is never
# suggested first; this many trained versions are kept for a rollback.
ROUTING_AUTO_THRESHOLD = env.float("ROUTING_AUTO_THRESHOLD", default=0.95)
ROUTING_MIN_EXAMPLES = env.int("ROUTING_MIN_EXAMPLES", default=20)
ROUTING_MODEL_VERSIONS = env.int("ROUTING_MODEL_VERSIONS", default=5)
# The holder of the personal-data base, as the privacy page (/<lang>/privacy/) names
# it. A value set in the environment is shown as it is in every language; the demo
# defaults (the Government Apparatus) are translated. The registry number is the
# base's entry in the state register of personal-data holders.
PERSONAL_DATA_HOLDER_NAME = env.str("PERSONAL_DATA_HOLDER_NAME", default="") or _(
    "Apparatus of the Cabinet of Ministers of the Kyrgyz Republic"
)
PERSONAL_DATA_HOLDER_ADDRESS = env.str("PERSONAL_DATA_HOLDER_ADDRESS", default="") or _(
    "205 Chui Avenue, Government House, Bishkek 720003"
)
# Empty (as compose passes a variable .env leaves out) means the default, as above.
PERSONAL_DATA_REGISTRY_NUMBER = (
    env.str("PERSONAL_DATA_REGISTRY_NUMBER", default="") or "DEMO-0000"
)
PERSONAL_DATA_OFFICER_CONTACT = (
    env.str("PERSONAL_DATA_OFFICER_CONTACT", default="") or "privacy@appeals.gov.kg"
)

# The intake report and the open-statistics page read their whole months from the
# rollup the database keeps (reports.rollup; PostgreSQL only). Off: everything is
# counted from the appeals (slow at scale), e.g. while a suspect rollup is rebuilt.
INTAKE_ROLLUP = env.bool("INTAKE_ROLLUP", default=True)

# --- Languages and time ---------------------------------------------------------
LANGUAGE_CODE = "ky"
LANGUAGES = [("ky", "Кыргызча"), ("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "Asia/Bishkek"
USE_I18N = True
USE_TZ = True
MODELTRANSLATION_DEFAULT_LANGUAGE = "ky"
MODELTRANSLATION_LANGUAGES = ("ky", "ru", "en")
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("ky", "ru"), "ky": ("ru",)}

# --- Static and uploaded files ---------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are private: there is deliberately no MEDIA_URL route; every
# download goes through a permission-checked view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
# --- Signed documents (issue 31, portal/signing.py) ------------------------------------
# The portal's PKCS#12 (a path, or "storage:<name>" in the default storage) and its
# password; agencies' own certificates as JSON {"CODE": "path"} with each password in
# SIGNING_PASSWORD_<CODE>. Passwords live in the environment, never in the database.
PORTAL_SIGNING_P12 = env.str("PORTAL_SIGNING_P12", default="")
PORTAL_SIGNING_PASSWORD = env.str("PORTAL_SIGNING_PASSWORD", default="")
# Empty (as compose passes an unset variable) is no agency certificate.
SIGNING_CERTIFICATES = (
    env.json("SIGNING_CERTIFICATES")
    if env.str("SIGNING_CERTIFICATES", default="").strip()
    else {}
)
SIGNING_TRUST_ROOTS = env.list("SIGNING_TRUST_ROOTS", default=[])
SIGNING_CRLS = env.list("SIGNING_CRLS", default=[])
SIGNING_TSA_URL = env.str("SIGNING_TSA_URL", default="")
# Without PORTAL_SIGNING_P12, DEBUG signs with the demonstration authority.
SIGNING_USE_DEMO = env.bool("SIGNING_USE_DEMO", default=DEBUG)
SIGNING_DEMO_DIR = Path(
    env.str("SIGNING_DEMO_DIR", default=str(VAR_DIR / "signing-demo"))
)
# The public verification page's upload limit.
VERIFY_MAX_UPLOAD = env.int("VERIFY_MAX_UPLOAD", default=20 * 1024 * 1024)
# Object storage (README, "Files in object storage"): with STORAGE_URL
# (s3://KEY:SECRET@BUCKET?endpoint_url=...&region=...&sse=AES256) or S3_BUCKET and the
# other S3_* variables set, files live in that S3-compatible bucket (MinIO, Ceph RGW,
# a cloud's), private, read back only through the portal; else under MEDIA_ROOT.
STORAGE_URL = env.str("STORAGE_URL", default="")
if STORAGE_URL or env.str("S3_BUCKET", default=""):
    from portal.filestore import S3_BACKEND, s3_options

    _files = {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(STORAGE_URL, env.ENVIRON)}
else:
    _files = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _files,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
if EMAIL_URL.startswith("filemail://"):
    # Mails as readable files; django-environ would drop the leading "/" of the path.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(
        BASE_DIR / (EMAIL_URL.removeprefix("filemail://") or "var/mail")
    )
else:
    globals().update(environ.Env.email_url_config(EMAIL_URL))
# SMS to citizens who gave only a phone: a class with send(phone, text).
SMS_BACKEND = env.str("SMS_BACKEND", default="appeals.notifications.sms.LoggingBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@appeals.gov.kg")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------------
# Sessions in the database only: a cache (Redis) outage must not break filing
# (portal/sessions.py: Django's, read with a prepared query).
SESSION_ENGINE = "portal.sessions"
# A working day: a staff member's login does not outlive it (citizens' sessions only
# remember which appeals they opened with their code).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy: everything from the portal itself, no inline script or
# style; data: images for Bootstrap's icons drawn in CSS; no framing (the embeddable
# form of a later issue will relax frame-ancestors for its own view only).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Forms ----------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Operations: logs, metrics, errors, health, backups, upload scanning ------------
# Every request gets an id (X-Request-ID from the proxy when sane): first, so even a
# redirect carries it. django-prometheus counts requests and latency around the rest.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "portal.middleware.RequestIdMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
INSTALLED_APPS.append("django_prometheus")

# JSON lines for the log collector in production; readable lines when developing.
# Both carry the request id, and both pass through the filter that scrubs e-mail
# addresses and phone numbers. Request bodies are never logged.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.logging.RequestIdFilter"},
        "personal_data": {"()": "portal.logging.PersonalDataFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint reports every layout step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Workers log through LOGGING above (JSON, request id, scrubbing), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Readiness (/readyz): which checks decide it, how old the newest worker heartbeat may
# be (the heartbeat task runs every 60 s), and the free space uploads need.
READINESS_CHECKS = env.list(
    "READINESS_CHECKS",
    default=["database", "broker", "redis", "workers", "disk", "storage"],
)
READINESS_HEARTBEAT_MAX_AGE = env.int("READINESS_HEARTBEAT_MAX_AGE", default=180)
READINESS_MIN_FREE_DISK_MB = env.int("READINESS_MIN_FREE_DISK_MB", default=1024)

# Prometheus (/metrics): a bearer token, or a direct connection from these addresses.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_QUEUES = env.list("METRICS_QUEUES", default=["celery"])
if not DEBUG:
    # The scraper talks to web directly over plain HTTP, like the healthchecks.
    SECURE_REDIRECT_EXEMPT.append(r"^metrics$")

# Server errors to a Sentry-compatible service; off unless SENTRY_DSN is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from portal.errors import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Backups (manage.py backup / restore): where archives go by default.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))

# Uploads: a scanner (dotted path of a class with scan(stream) -> signature or None).
# With CLAMD_HOST or CLAMD_SOCKET set, ClamAV's daemon scans every file; refused files
# go to QUARANTINE_DIR, which is outside MEDIA_ROOT and never served (or, with object
# storage, under QUARANTINE_PREFIX in the bucket).
CLAMD_HOST = env.str("CLAMD_HOST", default="")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=30.0)
UPLOAD_SCANNER = env.str(
    "UPLOAD_SCANNER",
    default=(
        "appeals.intake.scanning.ClamdScanner"
        if CLAMD_HOST or CLAMD_SOCKET
        else "appeals.intake.scanning.NoScanner"
    ),
)
QUARANTINE_DIR = Path(env.str("QUARANTINE_DIR", default=str(VAR_DIR / "quarantine")))
# With object storage, refused files go under this prefix of the bucket instead (never
# served, left out of backups; give it its own lifecycle rule).
QUARANTINE_PREFIX = env.str("QUARANTINE_PREFIX", default="quarantine/")

PORTAL_NAME = _("Citizens' appeals portal")
# How long after an answer the citizen may ask for a re-review (calendar days).
RE_REVIEW_PERIOD_DAYS = env.int("RE_REVIEW_PERIOD_DAYS", default=30)
# Rate limits: (attempts, window in seconds), kept in the cache (Redis in production).
PORTAL_RATE_LIMITS = {
    "submit": (env.int("RATE_SUBMIT_PER_HOUR", default=5), 3600),
    "track_client": (env.int("RATE_TRACK_PER_CLIENT", default=20), 900),
    "track_number": (env.int("RATE_TRACK_PER_NUMBER", default=10), 3600),
    # Login attempts from one address, any username (django-axes locks one username
    # per address after a few failures; this stops spraying many usernames).
    "login": (env.int("RATE_LOGIN_PER_CLIENT", default=60), 900),
}
# The public address used in e-mails and PDFs (links back to the tracking page).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip(
    "/"
)

# --- API for other state systems (appeals/api) --------------------------------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "appeals.api.authentication.ApiKeyAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["appeals.api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing bodies nested too deeply.
    "DEFAULT_PARSER_CLASSES": ["appeals.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "appeals.api.views.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Citizens' appeals portal API",
    "DESCRIPTION": (
        "Filing, forwarding and following appeals for other state systems. "
        "Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ForwardingChannelEnum": "appeals.api.serializers.FORWARDING_CHANNEL_CHOICES",
        "ChannelEnum": "appeals.models.Channel",
    },
}
# Callbacks to the clients' systems: seconds to wait for their answer.
API_CALLBACK_TIMEOUT = env.float("API_CALLBACK_TIMEOUT", default=10.0)
# A retry of a write call (same Idempotency-Key) gets the stored response this long.
API_IDEMPOTENCY_DAYS = env.int("API_IDEMPOTENCY_DAYS", default=30)
# The API call log (operations, audits; no personal data) is kept this long.
API_CALL_LOG_DAYS = env.int("API_CALL_LOG_DAYS", default=400)
# The queue tasks go to when none is named (a test's worker gets its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
