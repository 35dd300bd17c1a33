"""Settings for the news archive.

Everything the site writes lives under one data directory (``var/`` by default,
``ARCHIVE_DATA_DIR`` overrides it): the SQLite database, the Whoosh index and uploads.

Two modes: development (the default; what ``make run`` uses) and production
(``DJANGO_ENV=production``), where DEBUG is off, a secret key is required and
cookies and redirects assume HTTPS.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.database_url import parse_database_url, sqlite_database

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = os.environ.get("DJANGO_ENV", "development").strip().lower() == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)

DATA_DIR = Path(os.environ.get("ARCHIVE_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DEBUG is off (DJANGO_ENV=production or "
            "DJANGO_DEBUG=0): a long random string, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "archive",
]

# Background jobs (admin uploads, `manage.py ingest --background`): Django's Tasks API through
# its backport, with the database as the queue (no broker). `manage.py db_worker` runs them;
# `make run` and `make serve` start one beside the web server.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Files an upload job imports, then records, at a time (the unit redone after a crash), and how
# long a running job's heartbeat may be silent before its worker counts as dead (archive/jobs.py).
ARCHIVE_JOB_CHUNK_FILES = int(os.environ.get("ARCHIVE_JOB_CHUNK_FILES") or 50)
ARCHIVE_JOB_STALLED_SECONDS = float(os.environ.get("ARCHIVE_JOB_STALLED_SECONDS") or 60)
# Scans (archive/ingest/ocr.py): Tesseract's languages ("eng+deu"; each needs its Debian pack,
# tesseract-ocr-deu), the most pages of one scan, the time limit a page, the memory limit of
# each OCR process.
ARCHIVE_OCR_LANGUAGES = os.environ.get("ARCHIVE_OCR_LANGUAGES") or "eng"
ARCHIVE_OCR_MAX_PAGES = int(os.environ.get("ARCHIVE_OCR_MAX_PAGES") or 100)
ARCHIVE_OCR_PAGE_SECONDS = float(os.environ.get("ARCHIVE_OCR_PAGE_SECONDS") or 120)
ARCHIVE_OCR_MAX_MEMORY_MB = int(os.environ.get("ARCHIVE_OCR_MAX_MEMORY_MB") or 2048)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from gunicorn (compressed, cached forever under hashed names).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "archive.context_processors.site",
            ],
        },
    },
]

# SQLite in the data directory unless DATABASE_URL names another database
# (sqlite:///path or postgres://user:password@host:port/name; see config/database_url.py).
DATABASES = {
    "default": (
        parse_database_url(os.environ["DATABASE_URL"], BASE_DIR)
        if os.environ.get("DATABASE_URL")
        else sqlite_database(DATA_DIR / "db.sqlite3")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves collectstatic's output: hashed names (cached forever) and gzip/brotli.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "uploads"
# Uploaded files larger than 2.5 MB are spooled to disk: under the data directory, not /tmp.
FILE_UPLOAD_TEMP_DIR = MEDIA_ROOT / "incoming"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
# The admin upload takes many files at once (a zip is one file).
DATA_UPLOAD_MAX_NUMBER_FILES = 500

# --- The archive's own settings -------------------------------------------------------------
# Where the Whoosh index lives.
ARCHIVE_INDEX_DIR = Path(os.environ.get("ARCHIVE_INDEX_DIR") or DATA_DIR / "index")
# Which engine answers searches (archive/search/backends.py): "whoosh", the embedded index
# above (no server), or "sphinxql", a cluster of searchd shards behind a head (`make cluster`).
ARCHIVE_SEARCH_BACKEND = os.environ.get("ARCHIVE_SEARCH_BACKEND", "whoosh")
# The sphinxql backend's cluster. Unset, the local one `make cluster` runs: its processes' files
# under ARCHIVE_SPHINX_CLUSTER_DIR (default <data dir>/cluster), SphinxQL ports from
# ARCHIVE_SPHINX_BASE_PORT (default 9406: head 9406, shards 9408 and 9410, shard 0's mirror
# 9412). Another cluster: ARCHIVE_SPHINX_HEAD ("host:port") and ARCHIVE_SPHINX_SHARDS (shards
# separated by ",", a shard's replicas by "|": "h1:9306|h2:9306,h3:9306"). The backend's own
# state (facet value names, the archive's term counts, which index slot answers, the write
# lock) lives in ARCHIVE_SPHINX_STATE_DIR (default: the cluster directory).
ARCHIVE_SPHINX_CLUSTER_DIR = Path(
    os.environ.get("ARCHIVE_SPHINX_CLUSTER_DIR") or DATA_DIR / "cluster"
)
ARCHIVE_SPHINX_BASE_PORT = int(os.environ.get("ARCHIVE_SPHINX_BASE_PORT") or 9406)
ARCHIVE_SPHINX_HEAD = os.environ.get("ARCHIVE_SPHINX_HEAD", "")
ARCHIVE_SPHINX_SHARDS = os.environ.get("ARCHIVE_SPHINX_SHARDS", "")
ARCHIVE_SPHINX_STATE_DIR = Path(
    os.environ.get("ARCHIVE_SPHINX_STATE_DIR") or ARCHIVE_SPHINX_CLUSTER_DIR
)
# Fixtures loaded by `manage.py init_archive` into an empty archive.
ARCHIVE_FIXTURE_DIR = BASE_DIR / "fixtures"
# Longer query text is cut (Whoosh's parser is slow on very long input); the page says so.
ARCHIVE_QUERY_MAX_CHARS = int(os.environ.get("ARCHIVE_QUERY_MAX_CHARS", "1000"))
# Ingest limits: one file, and everything a zip may expand to; a zip member compressed more than
# ARCHIVE_INGEST_MAX_ZIP_RATIO:1 (and over 1 MB) is treated as a decompression bomb.
ARCHIVE_INGEST_MAX_FILE_BYTES = int(
    os.environ.get("ARCHIVE_INGEST_MAX_FILE_BYTES", str(20 * 1024 * 1024))
)
ARCHIVE_INGEST_MAX_ZIP_BYTES = int(
    os.environ.get("ARCHIVE_INGEST_MAX_ZIP_BYTES", str(1024 * 1024 * 1024))
)
ARCHIVE_INGEST_MAX_ZIP_RATIO = int(os.environ.get("ARCHIVE_INGEST_MAX_ZIP_RATIO", "100"))
ARCHIVE_SITE_NAME = os.environ.get("ARCHIVE_SITE_NAME", "News Archive")
# The most hits one CSV/JSON export (and a search feed's candidates) may hold; exports say when
# a search has more.
ARCHIVE_EXPORT_MAX_HITS = int(os.environ.get("ARCHIVE_EXPORT_MAX_HITS", "10000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "archive": {"handlers": ["console"], "level": "INFO"},
        # Server errors with their traceback on the console (gunicorn's log) in every mode: with
        # DEBUG off Django would only mail them to ADMINS, which this site does not configure.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # A request refused for its Host header (DJANGO_ALLOWED_HOSTS), a bad CSRF token: the
        # operator sees why a 400 or 403 was sent, not only the access log's status.
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Headers for every mode, so development sees what production sends (config/csp.py adds the CSP).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind a reverse proxy that terminates HTTPS, trust its X-Forwarded-Proto (and only then: a
# client talking to gunicorn directly could otherwise claim HTTPS).
if env_bool("DJANGO_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    # `make serve` refuses to start on any deploy warning; what an operator turned off on
    # purpose (a proxy that redirects to HTTPS itself, no HSTS preload list) is no warning.
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, chosen in (
            ("security.W008", not SECURE_SSL_REDIRECT),
            ("security.W004", SECURE_HSTS_SECONDS == 0),
            ("security.W005", not SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", not SECURE_HSTS_PRELOAD),
        )
        if chosen
    ]
    SESSION_COOKIE_HTTPONLY = True
