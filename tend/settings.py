"""Tend settings. Everything configurable comes from TEND_* environment variables (docs/configuration.md)."""

import os
import secrets
import urllib.parse
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TEND_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """TEND_SECRET_KEY, or a key generated once and kept in var/ for the embedded setup."""
    if key := os.environ.get("TEND_SECRET_KEY"):
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("TEND_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("TEND_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("TEND_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "django_htmx",
    "template_partials",
    "tend.core",
    "tend.directory",
    "tend.crm",
    "tend.cs_settings",
    "tend.engagement",
    "tend.activity",
    "tend.notifications",
    "tend.workspace",
    "tend.boards",
    "tend.tasks",
    "tend.schedule",
    "tend.feed",
    "tend.usage",
    "tend.health",
    "tend.reports",
    "tend.summary",
    "tend.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tend.directory.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tend.urls"
WSGI_APPLICATION = "tend.wsgi.application"

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
                "django.template.context_processors.i18n",
                "tend.core.context_processors.workspace",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("TEND_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tend.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Keep the connection (and SQLite's page cache) across requests, as for PostgreSQL.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE avoids "database is locked"
        # upgrades from read to write transactions under concurrent requests. Checkpoints every
        # ~40 MB of WAL instead of SQLite's 4 MB: bulk writes (usage ingestion) touch the same
        # index pages batch after batch, and each checkpoint then writes them once, not every time
        # (ingestion ~1.4x faster, measured with bench/ingest_bench.py).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEND_TEST_SQLITE_NAME", "")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
# Each language also sets how dates, numbers and money read: "en" is the US form (12/06/2026),
# "en-gb" the British one (06/12/2026), with Django's formats and Babel's locale of the same name.
LANGUAGES = [
    ("en", "English (US)"),
    ("en-gb", "English (UK)"),
    ("ja", "日本語"),
    ("de", "Deutsch"),
    ("it", "Italiano"),
]
LOCALE_PATHS = [BASE_DIR / "tend" / "locale"]
FORMAT_MODULE_PATH = ["tend.formats"]
TIME_ZONE = os.environ.get("TEND_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("TEND_STATIC_ROOT", BASE_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TEND_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Processes sharing a full health recompute's chunks (0 = one per CPU, at most 4).
# Money is shown in this ISO 4217 currency, formatted for the reader's language.
TEND_CURRENCY = (os.environ.get("TEND_CURRENCY") or "USD").upper()
TEND_HEALTH_PROCESSES = int(os.environ.get("TEND_HEALTH_PROCESSES") or 0)


def _email_settings(url: str) -> dict:
    """Django's EMAIL_* settings from TEND_EMAIL_URL: smtp://user:pass@host:port (no TLS),
    smtp+tls:// (STARTTLS), smtp+ssl:// (implicit TLS), console://, file:///absolute/dir.
    dj-email-url reads neither the +tls / +ssl schemes nor an absolute file path, hence this."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    query = urllib.parse.parse_qs(parsed.query)
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file":
        path = urllib.parse.unquote(parsed.path) or str(VAR_DIR / "mail")
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": path}
    if scheme == "locmem":  # tests
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme not in ("smtp", "smtp+tls", "smtp+ssl"):
        raise ValueError(f"TEND_EMAIL_URL: unknown scheme {scheme!r} (smtp, smtp+tls, smtp+ssl, console, file)")
    default_port = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or default_port,
        "EMAIL_HOST_USER": urllib.parse.unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": urllib.parse.unquote(parsed.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtp+ssl",
        "EMAIL_TIMEOUT": int(query.get("timeout", ["20"])[0]),
    }


# Outgoing email (docs/configuration.md, "Email"). The embedded default prints messages on the
# console of `tend serve`; TEND_EMAIL_URL=file:///path keeps each one as a file instead.
TEND_EMAIL_URL = os.environ.get("TEND_EMAIL_URL") or "console://"
_EMAIL = _email_settings(TEND_EMAIL_URL)
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _EMAIL.get("EMAIL_FILE_PATH", "")
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _EMAIL.get("EMAIL_TIMEOUT", 20)
# The From of every message Tend sends; a user's email goes out as "Their Name (via Tend)" from
# this address with Reply-To the user, unless TEND_EMAIL_FROM_USER lets the user's own address be
# the From (only where the mail server may send for the users' domain: SPF, DKIM, DMARC).
DEFAULT_FROM_EMAIL = os.environ.get("TEND_EMAIL_FROM") or "Tend <tend@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
TEND_EMAIL_FROM_USER = _env_bool("TEND_EMAIL_FROM_USER", False)
# Open and click tracking of emails sent from records (a pixel and signed redirects through Tend).
TEND_EMAIL_TRACKING = _env_bool("TEND_EMAIL_TRACKING", False)
# The address recipients reach Tend at, for tracking links and password-reset links sent outside a
# request; empty: the address of the request that sent the email.
TEND_BASE_URL = os.environ.get("TEND_BASE_URL", "").rstrip("/")
PASSWORD_RESET_TIMEOUT = int(os.environ.get("TEND_PASSWORD_RESET_TIMEOUT") or 3 * 24 * 3600)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TEND_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

NINJA_PAGINATION_MAX_LIMIT = 200

# Behind a TLS-terminating proxy (nginx, Caddy, a load balancer) set TEND_HTTPS=true: Django then
# trusts X-Forwarded-Proto and marks session and CSRF cookies Secure.
if _env_bool("TEND_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
