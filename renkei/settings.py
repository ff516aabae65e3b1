"""Renkei settings: every value comes from an environment variable.

Nothing here is meant to be edited per site; set the variables instead (see docs/operations.md).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RENKEI_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str = "False") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else generated once into ./var/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "corsheaders",
    "django_tasks",
    "django_tasks_db",
    "js_lib_htmx",
    "js_lib_bootstrap5",
    "renkei.accounts",
    "renkei.campaigns",
    "renkei.contacts",
    "renkei.events",
    "renkei.capture",
    "renkei.tracking",
    "renkei.imports",
    "renkei.scoring",
    "renkei.personas",
    "renkei.qualification",
    "renkei.journey",
    "renkei.handoff",
    "renkei.sla",
    "renkei.deals",
    "renkei.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Only the public capture endpoints (/f/, /t/) answer cross-origin requests, and only
    # from the origins an admin allowed (renkei.capture's check_request_enabled receiver).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "renkei.urls"
WSGI_APPLICATION = "renkei.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "renkei" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "renkei.accounts.context_processors.roles",
            ]
        },
    }
]

# Database: one URL switches between the embedded SQLite file and PostgreSQL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'renkei.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; NORMAL is durable across
        # application crashes in WAL mode and avoids an fsync per transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456; "
            # Fewer, larger checkpoints: bulk event ingestion commits ~1,000 rows at a time,
            # and a page rewritten by many batches is copied back once per checkpoint.
            # 40,000 pages (~160 MB of WAL) measured 15-20 % more events/s than 10,000.
            "PRAGMA wal_autocheckpoint=40000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests use a file, not memory, so a real worker process and a live server can share
    # it; one file per test process so parallel runs never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("RENKEI_TEST_DB_NAME")
        or str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ja")
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "renkei" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "renkei" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in development

# Email: SMTP by default; tests point it at a real aiosmtpd server on loopback.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (scripts/demo without
# EMAIL_HOST): each message is a file here.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "renkei@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Hand-off webhooks never go to loopback/private/link-local hosts unless this is set
# (an internal chat server); the timeout keeps a slow endpoint from holding a worker.
RENKEI_WEBHOOK_ALLOW_PRIVATE = envbool("RENKEI_WEBHOOK_ALLOW_PRIVATE")
RENKEI_WEBHOOK_TIMEOUT = envint("RENKEI_WEBHOOK_TIMEOUT", 5)
# The site's address for links in notification emails (https://renkei.example.co.jp).
RENKEI_SITE_URL = os.environ.get("RENKEI_SITE_URL", "")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_HTTPS_PROXY") else None
)

# Public endpoints' rate limits count in this cache. The default is per process (the
# effective limit is the limit times the web processes); set RENKEI_CACHE_URL to a Redis
# URL (redis://127.0.0.1:6379/0, needs the "redis" package) to share counts between
# processes and hosts.
if os.environ.get("RENKEI_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["RENKEI_CACHE_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_IP_META_KEY = "REMOTE_ADDR"
# Requests per client IP (django-ratelimit rates: "N/s", "N/m", "N/h").
RENKEI_TRACKING_COLLECT_RATE = os.environ.get("RENKEI_TRACKING_COLLECT_RATE", "300/m")
RENKEI_TRACKING_CLICK_RATE = os.environ.get("RENKEI_TRACKING_CLICK_RATE", "120/m")
RENKEI_FORM_RATE = os.environ.get("RENKEI_FORM_RATE", "10/m")  # form submissions
RENKEI_FORM_PAGE_RATE = os.environ.get("RENKEI_FORM_PAGE_RATE", "60/m")  # hosted form pages

CORS_URLS_REGEX = r"^/(f|t)/.*$"
CORS_ALLOWED_ORIGINS: list[str] = []  # the admin's list in the database decides (capture app)

# XLSX exports are built whole before the download starts (~2,000 rows/s): larger ones
# are refused with a message that points to CSV, which streams without a limit.
RENKEI_EXPORT_XLSX_MAX_ROWS = envint("RENKEI_EXPORT_XLSX_MAX_ROWS", 100_000)

# CSV imports: files larger than this are refused before they are stored.
RENKEI_IMPORT_MAX_BYTES = envint("RENKEI_IMPORT_MAX_BYTES", 200 * 1024 * 1024)
# Uploaded import files and error reports live here until the import is deleted.
RENKEI_IMPORT_DIR = Path(os.environ.get("RENKEI_IMPORT_DIR", VAR_DIR / "imports"))
# The backtest snapshot (columns of contacts and events, rebuilt after each full rescore);
# web and worker must both reach it (shared disk when they run on different machines).
RENKEI_BACKTEST_DIR = Path(os.environ.get("RENKEI_BACKTEST_DIR", VAR_DIR / "backtest"))

DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# The events API refuses larger batches with 413 before reading them.
RENKEI_EVENT_BATCH_MAX = 1000
RENKEI_EVENT_BATCH_MAX_BYTES = 1_048_576

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
