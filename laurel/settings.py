"""Laurel's one settings module.

Two modes, read from the environment once, here:

- embedded (the default, nothing set): SQLite in ``var/``, a database-backed cache that every
  process on the machine shares, Celery tasks run in-process, DEBUG on.
- real (``LAUREL_MODE=real``, or ``DATABASE_URL``/``REDIS_URL`` set): PostgreSQL, Redis for the
  cache, the rate limits and the Celery broker, a worker and exactly one beat. ``DATABASE_URL``,
  ``REDIS_URL`` and ``SECRET_KEY`` are required; a missing or malformed value stops start-up with
  ``ImproperlyConfigured`` naming the variable.
"""

import builtins
import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from laurel.logs import logging_config, structlog_configure

BASE_DIR = Path(__file__).resolve().parent.parent


class Env(environ.Env):
    """django-environ, with every bad value stopping start-up under its variable's name.

    Plain environ reads an unknown word as False, lets a malformed number escape as a bare
    ValueError (or, for floats, drops the letters: "1e3" would be 13.0), and follows a value
    starting with "$" to another variable, which a secret may well start with. A blank value
    counts as unset.
    """

    BOOLEAN_WORDS = {"1", "0", "true", "false", "yes", "no", "on", "off"}
    KINDS = {builtins.int: "a whole number", builtins.float: "a number"}

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var, "").strip()
        if not raw:
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"{var} must be set in real mode")
            return default
        if cast is None and default not in (None, self.NOTSET):
            cast = type(default)
        if cast is builtins.bool and raw.lower() not in self.BOOLEAN_WORDS:
            raise ImproperlyConfigured(
                f"{var} must be a boolean (1/0, true/false, yes/no), not {raw!r}"
            )
        try:
            return self.parse_value(raw, cast)
        except ValueError:
            kind = self.KINDS.get(cast, "well formed")
            raise ImproperlyConfigured(f"{var} must be {kind}, not {raw!r}") from None

    @classmethod
    def parse_value(cls, value, cast):
        if cast is builtins.float:
            return builtins.float(value)
        return super().parse_value(value, cast)

    def int(self, var, default=environ.Env.NOTSET, *, minimum=None):
        number = super().int(var, default)
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{var} must be at least {minimum}, not {number}")
        return number

    def float(self, var, default=environ.Env.NOTSET):
        # Every float setting is a duration or a share, so zero or less is a mistake.
        number = super().float(var, default)
        if number <= 0:
            raise ImproperlyConfigured(f"{var} must be greater than zero, not {number}")
        return number

    def list(self, var, cast=None, default=environ.Env.NOTSET):
        return [item.strip() for item in super().list(var, cast, default) if item.strip()]

    def postgres_url(self, var):
        """A DATABASES entry for a required ``postgres://user:pass@host:port/db?opt=v`` URL."""
        url = self.str(var)
        try:
            config = self.db_url_config(url)
        except ValueError:
            raise ImproperlyConfigured(f"{var} has a malformed port") from None
        if config.get("ENGINE") != "django.db.backends.postgresql":
            scheme = urlsplit(url).scheme
            raise ImproperlyConfigured(f"{var} must be a postgres:// URL, not {scheme!r}")
        if not config["NAME"]:
            raise ImproperlyConfigured(f"{var} must name a database, e.g. postgres://host/laurel")
        return config

    def redis_url(self, var):
        url = self.str(var)
        parts = urlsplit(url)
        if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
            raise ImproperlyConfigured(f"{var} must be a redis:// URL with a host, not {url!r}")
        try:
            parts.port  # noqa: B018 - urlsplit only checks the port when asked
        except ValueError:
            raise ImproperlyConfigured(f"{var} has a malformed port") from None
        return url


env = Env()
# A file of VAR=value lines, for `make run` and hand-run commands; variables already in the
# environment win. Only read when named, so tests and containers never pick one up by accident.
if env.str("LAUREL_ENV_FILE", None):
    Env.read_env(env.str("LAUREL_ENV_FILE"))

_mode = env.str("LAUREL_MODE", None)
if _mode is None:
    _mode = "real" if (env.str("DATABASE_URL", None) or env.str("REDIS_URL", None)) else "embedded"
if _mode not in {"embedded", "real"}:
    raise ImproperlyConfigured(f"LAUREL_MODE must be 'embedded' or 'real', not {_mode!r}")
LAUREL_MODE = _mode
REAL_MODE = LAUREL_MODE == "real"

if REAL_MODE:
    SECRET_KEY = env.str("SECRET_KEY")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
    DEBUG = env.bool("DEBUG", False)
else:
    # Embedded mode is for a developer's machine only; real mode refuses to start without its own.
    SECRET_KEY = env.str("SECRET_KEY", "embedded-mode-development-key-not-for-production-use")
    DEBUG = env.bool("DEBUG", True)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if REAL_MODE else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed. Loopback by
# default: only processes on this machine can connect from it. Setting the variable replaces the
# default; "none" trusts nothing, so REMOTE_ADDR is the client whatever headers arrive.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.0/8", "::1"])
if [proxy.lower() for proxy in TRUSTED_PROXIES] == ["none"]:
    TRUSTED_PROXIES = []
# An empty REMOTE_ADDR is a unix socket, reachable only from this machine: its peer is the proxy.
TRUST_UNIX_SOCKET = env.bool("TRUST_UNIX_SOCKET", True)

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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "health_check",
    "awards",
    "voting",
]

MIDDLEWARE = [
    # Every response names its request id, and every log line of the request carries it.
    "laurel.logs.request_id",
    "django_structlog.middlewares.RequestMiddleware",
    # Embedded mode's background work (no worker) runs once the response is sent.
    "laurel.lib.after_response.after_response_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A page the same for everyone, asked without cookies, may be kept by a proxy or CDN.
    "laurel.lib.responses.SharedPages",
    # Bad input (a NUL in the query string, a body in a charset forms never use) answers 400
    # before anything parses it; JSON callers get their errors as JSON.
    "laurel.lib.errors.ErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML and JSON compressed here (static files come precompressed from WhiteNoise, above).
    # BREACH: Django masks the CSRF token differently in every response, the vote token and its
    # check are random per response, and GZipMiddleware pads each body with random bytes.
    "django.middleware.gzip.GZipMiddleware",
    # An ETag for every page that may be kept, and a 304 when the browser already has it.
    "django.middleware.http.ConditionalGetMiddleware",
    # A lost database connection answers 503 with Retry-After, not the 500 page.
    "laurel.lib.unavailable.DatabaseUnavailableMiddleware",
    # A forged session cookie (a NUL, say) is no session, not a database error (laurel/sessions.py).
    "laurel.sessions.session_cookie_guard",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): a second factor given this session (awards/two_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "awards.two_factor.two_factor_required",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "voting.ballot.voters.VoterCookieMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it answers a locked-out admin login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The admin's path: moving it off the well-known admin/ keeps login scripts from finding it.
ADMIN_URL = env.str("ADMIN_URL", "admin/")
if not re.fullmatch(r"([A-Za-z0-9_~-][A-Za-z0-9._~-]*/)+", ADMIN_URL):
    raise ImproperlyConfigured(
        f"ADMIN_URL must be a path like 'admin/' or 'backstage/admin/' (ending in /, without "
        f"a leading /), not {ADMIN_URL!r}"
    )

AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out username and address is refused before any password check.
    "awards.roles.LoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin logins: after ADMIN_LOGIN_FAILURES wrong passwords for one username, from anywhere, that
# username is locked out for ADMIN_LOCKOUT_MINUTES (counted from the last failure), even with
# the right password; and so is an address (an IPv6 /64 as one) that failed as often, whatever
# usernames it tried. A password spray from many addresses, or many usernames, stops at the
# limit. Every sign-in, failure and lockout is logged (the admin's Axes pages).
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = env.int("ADMIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Superusers and organizers give a code from an authenticator app (or a recovery code) after
# their password before any admin page (awards/two_factor.py). On in real mode.
STAFF_TWO_FACTOR = env.bool("STAFF_TWO_FACTOR", REAL_MODE)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", "Laurel")
# Passkeys as a second factor, for the host the admin is reached at; never instead of the
# password.
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_RP_ID_CALLABLE = "awards.two_factor.passkey_site"
OTP_WEBAUTHN_HELPER_CLASS = "awards.two_factor.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# What the site's own origins are when the request does not say (awards.two_factor.PasskeyHelper
# takes each request's own origin, which ALLOWED_HOSTS has vouched for).
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{host}" for host in ALLOWED_HOSTS if host and host != "*" and host[0] != "."
] or ["https://localhost"]
AXES_RESET_ON_SUCCESS = True
# The client address as the vote caps find it (behind a trusted proxy, the client's own).
AXES_CLIENT_IP_CALLABLE = "awards.roles.admin_login_address"
AXES_LOCKOUT_TEMPLATE = "admin/laurel/lockout.html"
# No start-up banner: it would open the output of every manage.py command.
AXES_VERBOSE = False

# django-import-export serves only the nominee list's Import page, yet as an installed app the
# admin's autodiscovery imports its admin module (and with it tablib, openpyxl and Pillow) into
# every web worker. Its templates and static files are found from its folder instead, which
# find_spec locates without importing it; awards/admin.py loads it on the Import page's first use.
import_export_dir = Path(importlib.util.find_spec("import_export").submodule_search_locations[0])

ROOT_URLCONF = "laurel.urls"
WSGI_APPLICATION = "laurel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", import_export_dir / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
            # The import page's tags (django-import-export is not an installed app, above):
            # a small module, without the import machinery.
            "libraries": {"import_export_tags": "import_export.templatetags.import_export_tags"},
        },
    },
]

VAR_DIR = Path(env.str("LAUREL_VAR_DIR", str(BASE_DIR / "var")))

if REAL_MODE:
    DATABASES = {
        "default": {
            **env.postgres_url("DATABASE_URL"),
            "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    }
    REDIS_URL = env.redis_url("REDIS_URL")
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

# Photo links in a nominee import are fetched only from public addresses; true also allows
# private ones (an intranet site), and with them Laurel's own network.
PHOTO_FETCH_PRIVATE_ADDRESSES = env.bool("PHOTO_FETCH_PRIVATE_ADDRESSES", False)
# Seconds the vote endpoint may use a nominee and its award's rules from memory; an edit in the
# admin reaches every process within this time. 0 reads the database on every vote.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", 5, minimum=0)
# Seconds a rendered public page (award, category, standings, nominee, their JSON) may be served
# from the cache while its catalogue and standings versions still match (voting/standings/pages.py): the
# most its relative times ("Updated 8 seconds ago") can lag. 0 renders every request.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", 10, minimum=0)
# Seconds a process may trust the catalogue and standings versions it last read before asking
# the cache again: a cached page is then one cache read, and an edit or a recompute reaches
# every process's pages within this time. 0 asks on every read.
PAGE_VERSION_SECONDS = env.int("PAGE_VERSION_SECONDS", 1, minimum=0)

# Seconds a Redis call may take before Laurel carries on without it: a vote never waits on Redis.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", 0.25)

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

# Caps and integrity signals (voting/integrity/limits.py): sliding windows counted in Redis by one Lua
# script per vote, or in this process in embedded mode. While Redis fails, votes are recorded
# and held, then re-assessed once it is back (no count is ever kept per process, which would
# loosen every threshold by the number of processes); Redis is retried after
# LIMITS_RETRY_SECONDS.
LIMITS_RETRY_SECONDS = env.float("LIMITS_RETRY_SECONDS", 5.0)
# How long a rendered vote form's one-time token (and its browser check) stays good.
VOTE_TOKEN_SECONDS = env.int("VOTE_TOKEN_SECONDS", 2 * 60 * 60, minimum=60)
# django-ratelimit answers refused votes: voting raises its Ratelimited, and RATELIMIT_VIEW
# renders the 429 page.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "voting.ballot.views.rate_limited"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", True)
# The per-view limits (the browser check's endpoint) let requests through while the cache is
# down: every vote is then held for re-assessment anyway, and refusing the check would only
# send honest browsers' votes without it.
RATELIMIT_FAIL_OPEN = True
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
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static", import_export_dir / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
# What a nominee import keeps between its preview and its confirm step (the file and the photo
# zip). The two steps may reach different web containers, so in real mode this is a volume they
# all share (docker-compose.yml), never served to the public. Left-overs go after a day.
IMPORT_DIR = Path(env.str("IMPORT_DIR", str(VAR_DIR / "imports")))
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
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

CSRF_FAILURE_VIEW = "laurel.lib.errors.csrf_failure"
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Real mode is served over HTTPS by a TLS proxy that sets X-Forwarded-Proto (nginx:
# `proxy_set_header X-Forwarded-Proto $scheme;`; Caddy does by default). Plain HTTP (a laptop,
# CI, docker compose on localhost) is an explicit opt-out: LAUREL_INSECURE_HTTP=true.
HTTPS = not env.bool("LAUREL_INSECURE_HTTP", not REAL_MODE)
SECURE_SSL_REDIRECT = HTTPS
# Load balancers, compose and Prometheus probe over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Opt-in: a preload list entry commits the whole domain, every subdomain included, to HTTPS in
# browsers for months after it is withdrawn, which is the domain owner's decision, not Laurel's.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")  # "not submitted for preload": by design
if env.bool("BEHIND_TLS_PROXY", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE


# Pages load only Laurel's own files. The admin's few inline blocks carry the request's nonce
# ({% csp_nonce_attr %}); public pages must not need one, since they are cached and served to
# many requests (voting/standings/pages.py), each with its own nonce.
def script_sources(hosts: list[str]) -> list[str]:
    """Where pages may load scripts from: the static files and the admin's own script views
    (its translations), on this site's hosts, any port, in the page's own scheme; never
    /media/ or any other path. A site answering any host ("*") can only say 'self'."""
    if "*" in hosts or not hosts:
        return [CSP.SELF]
    sources = []
    for host in hosts:
        if host.startswith("["):
            continue  # CSP cannot name an IPv6 address; such a page keeps only its nonce
        name = "*" + host if host.startswith(".") else host
        for path in (STATIC_URL, ADMIN_URL):
            sources.append(f"{name}:*/{path.lstrip('/')}")
    return sources


SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [*script_sources(ALLOWED_HOSTS), CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "worker-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Celery: Redis broker in real mode; in embedded mode tasks run in-process, so no worker is needed.
# Embedded mode's tasks run where they are sent, but Celery still opens its in-memory broker,
# which warns on every process's first task unless it is given a host name.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
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
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", "laurel")
# Photo links are fetched from hosts anyone names: on a queue of their own, which the compose
# file's `photos` worker takes, so that a slow host never holds a slot the standings need.
CELERY_PHOTO_QUEUE = env.str("CELERY_PHOTO_QUEUE", "photos")
CELERY_TASK_ROUTES = {"awards.tasks.nominee_photo_fetch_task": {"queue": CELERY_PHOTO_QUEUE}}

# Standings: the periodic recompute (exactly one beat publishes it; django-celery-beat's
# database scheduler does not support Django 6.1, so the schedule is static) and the nudge
# window after votes, which coalesces a burst of votes into one recompute.
STANDINGS_REFRESH_SECONDS = env.float("STANDINGS_REFRESH_SECONDS", 5.0)
# How long a proxy or CDN may keep a page that is the same for everyone (laurel/lib/responses.py).
SHARED_PAGE_SECONDS = env.int("SHARED_PAGE_SECONDS", 5, minimum=1)
STANDINGS_NUDGE_SECONDS = env.int("STANDINGS_NUDGE_SECONDS", 2, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "standings-recompute-due": {
        "task": "voting.tasks.standings_recompute_due",
        "schedule": STANDINGS_REFRESH_SECONDS,
        # A beat tick nobody ran before the next one is redundant, not owed.
        "options": {"expires": STANDINGS_REFRESH_SECONDS},
    },
    # Votes held while Redis was down are assessed once it is back (voting/ballot/reassess.py).
    "votes-reassess-due": {
        "task": "voting.tasks.votes_reassess_due",
        "schedule": 15.0,
        "options": {"expires": 15.0},
    },
    # Retention: reduce voters' addresses once an award's retention period has passed.
    "votes-reduce-due": {
        "task": "voting.tasks.votes_reduce_due",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}

# Mail: only integrity alerts (a burst flagged for a nominee) go to MANAGERS, when set; EMAIL_URL as django-environ reads it, e.g. smtp+tls://user:pass@host:587.
MANAGERS = env.list("MANAGERS", default=[])
if env.str("EMAIL_URL", None):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env.str("DEFAULT_FROM_EMAIL", "laurel@localhost")

# Health (/healthz, laurel/health.py): an open award whose standings are older than this means
# no beat or no worker is running.
STANDINGS_STALE_SECONDS = env.int("STANDINGS_STALE_SECONDS", 60, minimum=1)

# Prometheus (/metrics, voting/metrics/views.py): answered with METRICS_TOKEN as a bearer token,
# or to a direct (not proxied) connection from METRICS_ALLOWED.
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters long")
METRICS_ALLOWED = env.list("METRICS_ALLOWED", default=["127.0.0.0/8", "::1"])

# Logs (laurel/logs.py): JSON lines in real mode, readable lines in embedded mode, each with the
# request's id. Client addresses stay out of them: ipware would believe any X-Forwarded-For.
LOG_FORMAT = env.str("LOG_FORMAT", "json" if REAL_MODE else "console")
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'console', not {LOG_FORMAT!r}")
structlog_configure()
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", "INFO"))
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# No user id on log lines: binding it reads the session, which needs the database, so with the
# database down a logged-in organizer's error would fail again inside the error's own logging.
DJANGO_STRUCTLOG_USER_ID_FIELD = None
# The id laurel.logs.request_id settled on: the proxy's, when well formed, else a fresh one.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
# Celery workers keep Django's LOGGING instead of replacing the root logger's handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
