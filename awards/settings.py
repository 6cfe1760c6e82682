"""Laurel's one settings module.

Two modes, read from the environment once, here:

- embedded (the default, nothing set): SQLite in ``var/``, a database-backed cache that every
  process on the machine shares, Celery tasks run in-process, DEBUG on.
- real (``LAUREL_MODE=real``, or ``DATABASE_URL``/``REDIS_URL`` set): PostgreSQL, Redis for the
  cache, the rate limits and the Celery broker, a worker and exactly one beat. ``DATABASE_URL``,
  ``REDIS_URL`` and ``SECRET_KEY`` are required; a missing or malformed value stops start-up with
  ``ImproperlyConfigured`` naming the variable.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set in real mode")
        return default
    return value.strip()


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), not {value!r}")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero, not {number}")
    return number


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(name: str, url: str) -> dict:
    """Django DATABASES entry for a ``postgres://user:pass@host:port/db?opt=v`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"{name} must be a postgres:// URL, not {parts.scheme!r}")
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name:
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/laurel")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


def redis_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be a redis:// URL with a host, not {url!r}")
    try:
        parts.port  # noqa: B018 - urlsplit only checks the port when asked
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port") from None
    return url


_mode = envstr("LAUREL_MODE")
if _mode is None:
    _mode = (
        "real" if (os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL")) else "embedded"
    )
if _mode not in {"embedded", "real"}:
    raise ImproperlyConfigured(f"LAUREL_MODE must be 'embedded' or 'real', not {_mode!r}")
LAUREL_MODE = _mode
REAL_MODE = LAUREL_MODE == "real"

if REAL_MODE:
    SECRET_KEY = envstr("SECRET_KEY", required=True)
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
    DEBUG = envbool("DEBUG", False)
else:
    # Embedded mode is for a developer's machine only; real mode refuses to start without its own.
    SECRET_KEY = envstr("SECRET_KEY", "embedded-mode-development-key-not-for-production-use")
    DEBUG = envbool("DEBUG", True)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [] if REAL_MODE else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed. Loopback by
# default: only processes on this machine can connect from it. Setting the variable replaces the
# default; "none" trusts nothing, so REMOTE_ADDR is the client whatever headers arrive.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", ["127.0.0.0/8", "::1"])
if [proxy.lower() for proxy in TRUSTED_PROXIES] == ["none"]:
    TRUSTED_PROXIES = []
# An empty REMOTE_ADDR is a unix socket, reachable only from this machine: its peer is the proxy.
TRUST_UNIX_SOCKET = envbool("TRUST_UNIX_SOCKET", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_ratelimit",
    "awards",
    "voting",
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
    "voting.voters.VoterCookieMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "awards.urls"
WSGI_APPLICATION = "awards.wsgi.application"

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
            ],
        },
    },
]

VAR_DIR = Path(envstr("LAUREL_VAR_DIR", str(BASE_DIR / "var")))

if REAL_MODE:
    DATABASES = {
        "default": database_from_url("DATABASE_URL", envstr("DATABASE_URL", required=True))
    }
    REDIS_URL = redis_url("REDIS_URL", envstr("REDIS_URL", required=True))
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "laurel.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so concurrent voters
                # queue on the busy timeout instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not shared-cache memory, so threads in tests lock as real processes do.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
    REDIS_URL = None

# Seconds the vote endpoint may use a nominee and its award's rules from memory; an edit in the
# admin reaches every process within this time. 0 reads the database on every vote.
CATALOGUE_CACHE_SECONDS = envint("CATALOGUE_CACHE_SECONDS", 5, minimum=0)

# Seconds a Redis call may take before Laurel carries on without it: a vote never waits on Redis.
REDIS_TIMEOUT = envfloat("REDIS_TIMEOUT", 0.25)

if REAL_MODE:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "laurel",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_TIMEOUT,
                # A Redis outage degrades the cache to misses instead of raising into views.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Shared by every process on the machine (runserver, manage.py shell, tests' threads),
    # which a per-process memory cache is not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "laurel_cache",
        }
    }

# Caps and integrity signals (voting/limits.py): sliding windows counted in Redis by one Lua
# script per vote, or in this process in embedded mode. When Redis fails, each web process
# keeps its own count with every cap cut to LIMITS_LOCAL_SHARE of itself, and retries Redis
# after LIMITS_RETRY_SECONDS: a failing store never lifts the limits.
LIMITS_LOCAL_SHARE = envfloat("LIMITS_LOCAL_SHARE", 0.25)
LIMITS_RETRY_SECONDS = envfloat("LIMITS_RETRY_SECONDS", 5.0)
# How long a rendered vote form's one-time token (and its browser check) stays good.
VOTE_TOKEN_SECONDS = envint("VOTE_TOKEN_SECONDS", 2 * 60 * 60, minimum=60)
# django-ratelimit answers refused votes: voting raises its Ratelimited, and RATELIMIT_VIEW
# renders the 429 page.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "voting.views.rate_limited"
RATELIMIT_ENABLE = envbool("RATELIMIT_ENABLE", True)
# Embedded mode's database cache is shared but not atomic; nothing counts on it there.
SILENCED_SYSTEM_CHECKS = [] if REAL_MODE else ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if REAL_MODE
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Embedded mode serves static files straight from static/ (no collectstatic step); real mode
# serves the hashed, compressed copies that collectstatic writes to STATIC_ROOT.
WHITENOISE_USE_FINDERS = not REAL_MODE
WHITENOISE_AUTOREFRESH = not REAL_MODE
if not REAL_MODE:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The vote form is a few hundred bytes; anything far larger is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

CSRF_FAILURE_VIEW = "awards.views.csrf_failure"
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
if REAL_MODE and not DEBUG:
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
    )
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Celery: Redis broker in real mode; in embedded mode tasks run in-process, so no worker is needed.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REAL_MODE
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Publishing happens on the request path: fail fast instead of retrying while a voter waits.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT * 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT * 4,
    "socket_timeout": REDIS_TIMEOUT * 4,
    "max_retries": 0,
}
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_QUEUE", "laurel")

# Standings: the periodic recompute (exactly one beat publishes it; django-celery-beat's
# database scheduler does not support Django 6.1, so the schedule is static) and the nudge
# window after votes, which coalesces a burst of votes into one recompute.
STANDINGS_REFRESH_SECONDS = envfloat("STANDINGS_REFRESH_SECONDS", 5.0)
STANDINGS_NUDGE_SECONDS = envint("STANDINGS_NUDGE_SECONDS", 2, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "standings-recompute-due": {
        "task": "voting.tasks.standings_recompute_due",
        "schedule": STANDINGS_REFRESH_SECONDS,
        # A beat tick nobody ran before the next one is redundant, not owed.
        "options": {"expires": STANDINGS_REFRESH_SECONDS},
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
