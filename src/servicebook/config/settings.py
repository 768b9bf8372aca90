"""Settings for Servicebook, read from the environment with safe defaults for the embedded run.

Environment variables:
- ``DEBUG``: ``1``/``true`` for development (default off).
- ``SECRET_KEY``: required unless ``DEBUG`` is on; production refuses to start without one.
- ``DATABASE_URL``: any URL dj-database-url understands (default: SQLite file under ``var/``).
- ``ALLOWED_HOSTS``: comma-separated (default ``localhost,127.0.0.1,[::1]``).
- ``SERVICEBOOK_VAR_DIR``: where the embedded database, usage store and exports live
  (default ``./var`` in the working directory).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SERVICEBOOK_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("DEBUG")

_DEV_SECRET = "django-insecure-servicebook-development-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY in the environment (or DEBUG=1 for development)"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # search indexes (core.search.SearchIndexes); inert on SQLite
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_filters",
    "django_tables2",
    "django_tasks",
    "django_tasks_db",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "servicebook.core",
    "servicebook.notifications",
    "servicebook.parties",
    "servicebook.catalog",
    "servicebook.agreements",
    "servicebook.levels",
    "servicebook.finance",
    "servicebook.strategy",
    "servicebook.changes",
    "servicebook.demand",
    "servicebook.improvement",
    "servicebook.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "servicebook.web.errors.RefusalMiddleware",
    # while no provider exists, sign-in and home lead to the first-run page (issue 18)
    "servicebook.web.firstrun.FirstRunMiddleware",
    # pages show dates in the format of the browser's locale (servicebook.web.dates)
    "servicebook.web.dates.DateLocaleMiddleware",
    # last: turns a locked-out sign-in into its refusal (servicebook.web.signin)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicebook.config.urls"
WSGI_APPLICATION = "servicebook.config.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicebook.web.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    # The embedded default: a SQLite file under var/, created on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'servicebook.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: wait for a writer instead of failing at once; WAL lets readers run beside it.
    # A transaction takes the write lock when it begins (IMMEDIATE): a deferred one that read
    # first and then writes beside another writer fails at once with "database is locked",
    # which the busy timeout cannot wait out (two workers on one queue showed it).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in throttling (docs/decisions/0009-sign-in-throttling.md): django-axes counts failed
# sign-ins per account and per address; after SIGNIN_FAILURE_LIMIT failures the account (or the
# address) is locked for SIGNIN_COOLOFF_MINUTES, even with the right password. An administrator
# lifts a lockout at once (admin: Axes › Access attempts, or `servicebook manage axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGNIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "servicebook.web.signin.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Failed API token use: after this many invalid tokens from one address, it is refused for the
# same cool-off (0: never).
SERVICEBOOK_TOKEN_FAILURE_LIMIT = int(os.environ.get("TOKEN_FAILURE_LIMIT", "20"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
# ISO dates first among the input formats, for the browser's date fields (config/formats)
FORMAT_MODULE_PATH = ["servicebook.config.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves the apps' static folders directly: no collectstatic step for the embedded run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
# Behind a reverse proxy (docs/operations.md, "Past one machine"): trust the proxy's
# X-Forwarded-Proto and X-Forwarded-Host, so links, redirects and CSRF checks use the address
# people typed. Only set it when the proxy sets these headers and nothing else reaches serve.
if env_bool("SERVICEBOOK_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "servicebook.core.authentication.ThrottledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "servicebook.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Servicebook API",
    "DESCRIPTION": "Customers, catalog and agreements of an IT service provider.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # the handler filters too: a library that turns its own logger to DEBUG for a moment (the
    # PDF renderer does, around font subsetting) would otherwise print every record it passes up
    "handlers": {"console": {"class": "logging.StreamHandler", "level": LOG_LEVEL}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

SERVICEBOOK_USAGE_DIR = Path(os.environ.get("SERVICEBOOK_USAGE_DIR", VAR_DIR / "usage"))
# Usage rating (docs/usage.md): "duckdb" (embedded) or "pyspark"; a Spark cluster is reached
# through SPARK_REMOTE (Spark Connect) or SERVICEBOOK_SPARK_MASTER; SERVICEBOOK_USAGE_URL points
# the rating at Parquet in object storage (s3://…) instead of the local usage store.
SERVICEBOOK_RATING_BACKEND = os.environ.get("SERVICEBOOK_RATING_BACKEND", "duckdb")
SERVICEBOOK_USAGE_URL = os.environ.get("SERVICEBOOK_USAGE_URL", "")
# Shared and idle capacity in service costs: "separate" (reported apart) or "spread".
SERVICEBOOK_IDLE_CAPACITY = os.environ.get("SERVICEBOOK_IDLE_CAPACITY", "separate")

# Background jobs (docs/decisions/0015-background-jobs.md): Django's tasks framework through the
# django-tasks backport, queued in the database (SQLite and PostgreSQL alike) and run by
# `servicebook worker`. Job records, progress and rejects files live under var/jobs/.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
SERVICEBOOK_JOBS_DIR = Path(os.environ.get("SERVICEBOOK_JOBS_DIR", VAR_DIR / "jobs"))

# Attached files (docs/attachments.md): kept through Django's storage API, by the storage named
# "attachments": a folder under var/ (var/attachments) unless SERVICEBOOK_ATTACHMENTS_STORAGE
# names another backend (object storage, e.g. "storages.backends.s3.S3Storage" from
# django-storages) with its options as JSON in SERVICEBOOK_ATTACHMENTS_OPTIONS. Files larger than
# SERVICEBOOK_ATTACHMENT_MAX_MB (default 20) are refused.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": {
        "BACKEND": os.environ.get(
            "SERVICEBOOK_ATTACHMENTS_STORAGE", "servicebook.core.attachments.AttachmentFileStorage"
        ),
        "OPTIONS": json.loads(os.environ.get("SERVICEBOOK_ATTACHMENTS_OPTIONS", "") or "{}"),
    },
}
SERVICEBOOK_ATTACHMENT_MAX_BYTES = int(
    float(os.environ.get("SERVICEBOOK_ATTACHMENT_MAX_MB", "20")) * 1024 * 1024
)

# E-mail: SMTP when EMAIL_HOST is set; otherwise each message is written to a file under
# var/mail/ so the embedded run (and the demo) shows what would have been sent.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "servicebook@localhost")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# Lists (django-tables2): Bootstrap 5 markup, like the rest of the site.
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
# The address people reach the site at, for links in e-mail.
SERVICEBOOK_BASE_URL = os.environ.get("SERVICEBOOK_BASE_URL", "http://127.0.0.1:8000")

# Single sign-on with the organization's OpenID Connect provider (docs/operations.md "Single
# sign-on", docs/decisions/0019-single-sign-on.md): mozilla-django-oidc's authorization code flow,
# on when SERVICEBOOK_OIDC_CLIENT_ID is set with an issuer (endpoints read from its discovery
# document) or the four endpoints. Users are created on first sign-in, their roles and customer
# read from a groups claim at each sign-in (servicebook.web.sso). Local accounts keep working.
SERVICEBOOK_OIDC_ISSUER = os.environ.get("SERVICEBOOK_OIDC_ISSUER", "").rstrip("/")
SERVICEBOOK_OIDC_PROVIDER_NAME = os.environ.get(
    "SERVICEBOOK_OIDC_PROVIDER_NAME", "your organization"
)
SERVICEBOOK_OIDC_GROUPS_CLAIM = os.environ.get("SERVICEBOOK_OIDC_GROUPS_CLAIM", "groups")
# group=role pairs, comma-separated ("it-finance=finance,it-admins=provider_admin"); a group named
# exactly like a role needs no pair
SERVICEBOOK_OIDC_ROLE_GROUPS = os.environ.get("SERVICEBOOK_OIDC_ROLE_GROUPS", "")
# a customer user's group: this prefix, then the customer's code ("customer:rnd")
SERVICEBOOK_OIDC_CUSTOMER_PREFIX = os.environ.get("SERVICEBOOK_OIDC_CUSTOMER_PREFIX", "customer:")
OIDC_RP_CLIENT_ID = os.environ.get("SERVICEBOOK_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("SERVICEBOOK_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("SERVICEBOOK_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("SERVICEBOOK_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("SERVICEBOOK_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("SERVICEBOOK_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("SERVICEBOOK_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("SERVICEBOOK_OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = env_bool("SERVICEBOOK_OIDC_USE_PKCE", True)
OIDC_TIMEOUT = int(os.environ.get("SERVICEBOOK_OIDC_TIMEOUT", "10"))
OIDC_AUTHENTICATION_CALLBACK_URL = "sso-callback"
# a failed single sign-on has no account name: axes counts it toward its address alone
SERVICEBOOK_SIGNIN_LOCKOUT_PARAMETERS = AXES_LOCKOUT_PARAMETERS
AXES_LOCKOUT_PARAMETERS = "servicebook.web.sso.lockout_parameters"
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("servicebook.web.sso.SignOnBackend")
