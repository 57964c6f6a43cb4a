"""Mend's one settings module: everything comes from the environment.

MEND_ENV picks the profile:
- ``production`` (the default): DEBUG off, SECRET_KEY and MEND_AUDIT_KEY required, HTTPS-only cookies, HSTS.
- ``demo``: what ``make demo`` runs; plain HTTP on localhost, keys generated under ``var/``.
- ``development``: like demo with DEBUG on.
- ``test``: set by the test suite; fast password hasher, in-memory email unless a test points SMTP elsewhere.

The environment is the process environment plus one file: ``mend-profile`` in the var dir, which
``mend demo`` writes naming its profile. When MEND_ENV is unset, that file stands in for it, so a
demo checkout's own ``.venv/bin/mend`` runs as the demo it was set up as (README's commands) while a
deployment, which has no such file, stays production and refuses to start without its keys.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp

from mend.env import EnvError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROFILES = ("production", "demo", "development", "test")
PROFILE_MARKER = "mend-profile"


def _var_dir_and_profile(
    *, environ: Mapping[str, str] = os.environ, cwd: Path | None = None, base_dir: Path = BASE_DIR
) -> tuple[Path, str, Path | None]:
    """The var dir, the profile, and the marker file the profile came from (None: from MEND_ENV or the default)."""
    if env_str("MEND_VAR_DIR", environ=environ):
        candidates = [Path(env_str("MEND_VAR_DIR", environ=environ))]
    else:
        candidates = [(cwd or Path.cwd()) / "var"]
        # Installed editable from a checkout (src/mend inside it): that checkout's var/ as well, so
        # the demo checkout's mend works from any directory. A wheel install never looks there.
        checkout = base_dir.parent.parent
        if base_dir.parent.name == "src" and (checkout / "pyproject.toml").is_file():
            candidates.append(checkout / "var")
    if "MEND_ENV" in environ:
        return candidates[0].resolve(), env_choice("MEND_ENV", "production", PROFILES, environ=environ), None
    for var_dir in candidates:
        marker = var_dir / PROFILE_MARKER
        if marker.is_file():
            profile = marker.read_text().strip().lower()
            if profile not in PROFILES:
                raise EnvError(f"{marker} must name one of {', '.join(PROFILES)}, not {profile!r}")
            return var_dir.resolve(), profile, marker.resolve()
    return candidates[0].resolve(), "production", None


VAR_DIR, MEND_ENV, PROFILE_SOURCE = _var_dir_and_profile()
PRODUCTION = MEND_ENV == "production"


def _local_secret(filename: str) -> str:
    """A key kept in a file under var/ for non-production profiles (never in the database)."""
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _required_secret(name: str, filename: str) -> str:
    value = env_str(name)
    if value:
        if PRODUCTION and len(value) < 50:
            raise EnvError(f"{name} must be at least 50 characters in production")
        return value
    if PRODUCTION:
        hint = "" if "MEND_ENV" in os.environ else f" (MEND_ENV is unset and {VAR_DIR / PROFILE_MARKER} does not exist)"
        raise EnvError(f"{name} must be set when MEND_ENV=production{hint}")
    if MEND_ENV == "test":
        return f"test-{filename}-not-secret-" + "x" * 40
    return _local_secret(filename)


SECRET_KEY = _required_secret("SECRET_KEY", "secret_key")
# The audit chain's HMAC key lives outside the database on purpose: someone who can write
# the audit table must not also be able to re-sign the rows they altered.
MEND_AUDIT_KEY = _required_secret("MEND_AUDIT_KEY", "audit_key")

DEBUG = env_bool("DEBUG", MEND_ENV == "development")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "mend.accounts",
    "mend.clinics",
    "mend.people",
    "mend.clinical",
    "mend.outcomes",
    "mend.outbox",
    "mend.scheduling",
    "mend.billing",
    "mend.audit",
    "mend.web",
    "mend.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # Outermost: every response, a refusal from the middleware below included, carries these headers.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # First: a body over the limit is refused before any middleware or view reads it.
    "mend.platform.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mend.web.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mend.accounts.middleware.IdleSessionMiddleware",
    "mend.web.middleware.ActiveClinicMiddleware",
    "mend.accounts.middleware.StaffMfaMiddleware",
    "mend.web.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mend.urls"
WSGI_APPLICATION = "mend.wsgi.application"

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
                "mend.web.context_processors.clinic",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite is the embedded default. IMMEDIATE transactions take the write lock up front, so a
# transaction that reads and then writes cannot fail half-way with SQLITE_BUSY; WAL lets
# readers go on while one writer works.
_default_db = f"sqlite:///{VAR_DIR / 'mend.sqlite3'}"
_db = dj_database_url.parse(
    env_str("DATABASE_URL", _default_db),
    conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
    conn_health_checks=True,
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # SQLite connections are cheap; persistent ones would pin the WAL file in tests.
    _db["CONN_MAX_AGE"] = 0 if MEND_ENV == "test" else _db["CONN_MAX_AGE"]
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db.setdefault("TEST", {})["NAME"] = env_str("MEND_TEST_SQLITE", "") or None
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if MEND_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are throttled per account and address: five tries, then fifteen minutes.
AXES_FAILURE_LIMIT = env_int("MEND_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
# Wrong app or recovery codes double the wait before the next try (django-otp), up to the same
# fifteen minutes, so a password alone cannot lock a person out of their second step for days.
MEND_SECOND_STEP_MAX_WAIT = timedelta(hours=AXES_COOLOFF_TIME)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# One counter per person whatever the case of the email typed (mend.accounts.models.normalise_email).
AXES_USERNAME_CALLABLE = "mend.accounts.lockout.attempted_email"
# The address counted is the client's behind trusted proxies, not the proxy's (MEND_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "mend.platform.client_address.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("MEND_LOGIN_THROTTLE", True)

# A session ends after MEND_IDLE_MINUTES without a request (ONC d(5)) and, however busy, after
# MEND_SESSION_SECONDS from sign-in (mend.accounts.middleware.IdleSessionMiddleware).
SESSION_COOKIE_AGE = env_int("MEND_SESSION_SECONDS", 8 * 3600, minimum=300)
MEND_IDLE_MINUTES = env_int("MEND_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
# Password reset requests: at most this many an hour from one network address and for one account.
MEND_PASSWORD_RESETS_PER_HOUR = env_int("MEND_PASSWORD_RESETS_PER_HOUR", 3, minimum=1)
# Passkeys: the name browsers show beside the site (WebAuthn's relying party).
MEND_WEBAUTHN_RP_NAME = env_str("MEND_WEBAUTHN_RP_NAME", "Mend")
# The name authenticator apps show beside the account (django-otp's TOTP enrolment link).
OTP_TOTP_ISSUER = MEND_WEBAUTHN_RP_NAME
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_https = env_bool("MEND_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("MEND_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("MEND_HSTS_SECONDS", 31536000 if _https else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
if env_bool("MEND_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies append to X-Forwarded-For before Mend: the client is that many entries
# from the right (mend.platform.client_address). 0: the connection's address, the header ignored.
MEND_TRUSTED_PROXIES = env_int("MEND_TRUSTED_PROXIES", 0, minimum=0, maximum=10)
# Scripts and styles come only from Mend's own static files: no inline script or event handler,
# no eval, no style attribute. The one inline element allowed is a <style> carrying the
# response's nonce: pygal's charts style themselves inside their SVG (mend.outcomes.charts).
# django-csp sets the header on every response (pages, API, errors); docs/architecture.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}
# Browser features Mend never uses are switched off for its pages and anything they could embed;
# passkeys (WebAuthn) stay allowed for Mend's own origin.
_UNUSED_FEATURES = ["accelerometer", "autoplay", "camera", "display-capture", "encrypted-media"]
_UNUSED_FEATURES += ["geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment", "serial"]
_UNUSED_FEATURES += ["usb", "xr-spatial-tracking"]
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{feature: [] for feature in _UNUSED_FEATURES},
    "publickey-credentials-get": ["self"],
    "publickey-credentials-create": ["self"],
}

# --- Email ----------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mend <no-reply@localhost>")
# Item wording of licensed outcome measures, for clinics holding a licence (docs/outcomes.md).
MEND_MEASURE_TEXT = env_str("MEND_MEASURE_TEXT")
# How long an emailed questionnaire link stays usable.
MEND_QUESTIONNAIRE_DAYS = env_int("MEND_QUESTIONNAIRE_DAYS", 7, minimum=1, maximum=60)
# Online booking (docs/scheduling.md): how long a chosen slot is held while the client types their
# details; until how many hours before the start the emailed links cancel or reschedule; how many
# holds one network address, and how many sign-in codes one address or email, may ask for an hour.
MEND_HOLD_MINUTES = env_int("MEND_HOLD_MINUTES", 10, minimum=1, maximum=60)
MEND_CANCELLATION_HOURS = env_int("MEND_CANCELLATION_HOURS", 24, minimum=0, maximum=14 * 24)
MEND_ONLINE_HOLDS_PER_HOUR = env_int("MEND_ONLINE_HOLDS_PER_HOUR", 30, minimum=1)
MEND_BOOKING_CODES_PER_HOUR = env_int("MEND_BOOKING_CODES_PER_HOUR", 5, minimum=1)
# The waitlist (mend.scheduling.services.waitlist): how long a client has to take a freed slot
# before it passes to the next; the address clients reach Mend at, for the links in emails a
# worker sends (no request to take it from).
MEND_WAITLIST_OFFER_MINUTES = env_int("MEND_WAITLIST_OFFER_MINUTES", 120, minimum=5, maximum=7 * 24 * 60)
MEND_PUBLIC_URL = env_str("MEND_PUBLIC_URL", "http://localhost:8000")

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
# Where the file backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend) writes mail.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- Background work ------------------------------------------------------------------
# Tasks are written against Django's task API (the django-tasks backport on Django 5.2) and run
# by `mend worker`. The database backend keeps them in Mend's own database, so a clinic runs no
# broker; MEND_TASKS_BACKEND=rq moves the same tasks to RQ on Redis (MEND_REDIS_URL) when one
# machine is no longer enough. docs/architecture.md, "Background work".
MEND_TASKS_BACKEND = env_choice("MEND_TASKS_BACKEND", "database", ("database", "rq"))
MEND_REDIS_URL = env_str("MEND_REDIS_URL", "redis://localhost:6379/0")
TASKS = {
    "default": {
        "BACKEND": "django_tasks_rq.RQBackend" if MEND_TASKS_BACKEND == "rq" else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
RQ_QUEUES = {"default": {"URL": MEND_REDIS_URL}}
# RQ's workers must load jobs as django-tasks-rq's Job, which calls the task.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
if MEND_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
# Text messages (reminders) go through this backend, chosen like EMAIL_BACKEND (mend.platform.sms).
MEND_SMS_BACKEND = env_str(
    "MEND_SMS_BACKEND",
    "mend.platform.sms.LocmemBackend" if MEND_ENV == "test" else "mend.platform.sms.ConsoleBackend",
)
# Deposits and prepayments taken online through Stripe Checkout (mend.billing.providers). Without a
# secret key the clinic takes every payment at its own terminal. The webhook secret (whsec_…) is the
# endpoint's signing secret; MEND_STRIPE_API_BASE points the SDK at another API (stripe-mock, a test
# fake) and receives the key, so it stays unset in production.
MEND_STRIPE_SECRET_KEY = env_str("MEND_STRIPE_SECRET_KEY")
MEND_STRIPE_WEBHOOK_SECRET = env_str("MEND_STRIPE_WEBHOOK_SECRET")
MEND_STRIPE_API_BASE = env_str("MEND_STRIPE_API_BASE") or None
# The messages name the variables, never their values.
if MEND_STRIPE_SECRET_KEY and not MEND_STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise EnvError("MEND_STRIPE_SECRET_KEY must be a secret or restricted key (sk_… or rk_…), not a publishable one")
if MEND_STRIPE_SECRET_KEY and not MEND_STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
    raise EnvError("MEND_STRIPE_WEBHOOK_SECRET (whsec_…) must be set with MEND_STRIPE_SECRET_KEY to record payments")
if MEND_STRIPE_API_BASE and not MEND_STRIPE_API_BASE.startswith(("https://", "http://")):
    raise EnvError("MEND_STRIPE_API_BASE must be an http(s) address")

# --- Internationalisation and time ----------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if MEND_ENV in ("test", "development")
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# The largest request body accepted (mend.platform.limits): a 10 MB document and its form.
MEND_MAX_REQUEST_BYTES = env_int("MEND_MAX_REQUEST_BYTES", 11 * 1024 * 1024, minimum=1024 * 1024)
WHITENOISE_USE_FINDERS = MEND_ENV in ("test", "development")

# Hours before an appointment its reminder goes out (mend.scheduling.services.reminders).
MEND_REMINDER_HOURS = env_int("MEND_REMINDER_HOURS", 24, minimum=1, maximum=7 * 24)

# --- Calendar feeds (mend.scheduling.services.feeds) -------------------------------------------
# The domain in appointments' iCalendar UIDs: keep it once clients have subscribed, or their
# calendars see every appointment as new.
MEND_ICAL_DOMAIN = env_str("MEND_ICAL_DOMAIN", "mend.invalid")
# Seconds to wait for a therapist's personal calendar; a slow one keeps its last busy times.
MEND_EXTERNAL_CALENDAR_TIMEOUT = env_int("MEND_EXTERNAL_CALENDAR_TIMEOUT", 10, minimum=1, maximum=120)
# Minutes between background reads of a therapist's personal calendar.
MEND_EXTERNAL_CALENDAR_MINUTES = env_int("MEND_EXTERNAL_CALENDAR_MINUTES", 30, minimum=5, maximum=24 * 60)
# Personal calendars on private or loopback addresses are refused (SSRF) except in tests.
MEND_EXTERNAL_CALENDAR_PRIVATE = env_bool("MEND_EXTERNAL_CALENDAR_PRIVATE", MEND_ENV == "test")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING").upper()},
}

# --- Mend -----------------------------------------------------------------------------
MEND_LICENCE_WARNING_DAYS = env_int("MEND_LICENCE_WARNING_DAYS", 60, minimum=1)
MEND_PAGE_SIZE = 25
# Checks other apps add to `mend audit verify` (dotted paths; see mend.audit.queries.audit_verifiers):
# signed notes and addenda still match their seals and the seals the audit chain recorded.
MEND_AUDIT_VERIFIERS = ["mend.clinical.seal.verify_seals"]
