"""Homeward settings: one module, every value from the environment.

Production differs from development only by environment variables (see README.md). The defaults
are the embedded ones: a SQLite file and a filesystem Celery broker, so `make run` needs no server.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab, schedule
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE names a file of settings to read (`make deploy-check ENV_FILE=...`); the process's own
# environment wins over it. Without ENV_FILE, a .env file in the project, if there is one.
if env.str("ENV_FILE", default=""):
    if not Path(env.str("ENV_FILE")).is_file():
        raise environ.ImproperlyConfigured(f"ENV_FILE {env.str('ENV_FILE')} does not exist.")
    environ.Env.read_env(env.str("ENV_FILE"), overwrite=False)
else:
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# The development database, broker folders and beat schedule (HOMEWARD_VAR_DIR: somewhere else,
# as the test of `make run`'s Ctrl-C does, so it never touches a running demo's files).
VAR_DIR = Path(env.str("HOMEWARD_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
# HOMEWARD_DEV=true says "this is a developer's machine or a test run" (make run, make test, make
# e2e, bench and Procfile.dev set it). Only then may Homeward start with the development key:
# anyone who knows it can forge check-in links (issue 19).
DEVELOPMENT = env.bool("HOMEWARD_DEV", default=False)
DEVELOPMENT_SECRET_KEY = "homeward-insecure-development-key-change-me"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    if not DEVELOPMENT or env.bool("PRODUCTION", default=False):
        raise environ.ImproperlyConfigured(
            "SECRET_KEY is not set (or is the development key): set SECRET_KEY to a long random "
            "value, or HOMEWARD_DEV=true on a developer's machine (never in production)."
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Accept Ofcom's drama-range mobiles (07700 900xxx), used by the demo data and tests.
ALLOW_DRAMA_PHONE_NUMBERS = env.bool("ALLOW_DRAMA_PHONE_NUMBERS", default=True)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # Issue #7: two-factor sign-in (TOTP + backup codes), lockout, Content Security Policy.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",
    "axes",
    "csp",
    # Issue #16: single sign-on with the school's Microsoft / Google / OpenID Connect provider.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "config.apps.HomewardConfig",
    "schools",
    "audit",
    "sso",
    "mis",
    "visits",
    "contacts",
    "riskassess",
    "tracking",
    "records",
    "transfers.apps.TransfersConfig",
    "insights.apps.InsightsConfig",
]

MIDDLEWARE = [
    # First: the request id every log line carries, and the request's time and view for /metrics.
    "config.logs.RequestIdMiddleware",
    "config.monitoring.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # What one request works out once, e.g. the schools a permission is granted at (issue 15).
    "config.middleware.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The idle limit, writing the session at most once a minute (issue 15).
    "config.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.NoStoreForSignedInMiddleware",
    "config.middleware.SessionAbsoluteLimitMiddleware",
    "config.middleware.TwoFactorRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "schools.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'homeward.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A kept connection is checked before a request reuses it: after PostgreSQL restarts, each web
# thread would otherwise answer one request with an error (make cluster-test).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server, a worker and beat share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "schools.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_RAISE_403 = False
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Staff photos (schools.photos): outside anything a web server publishes, read only through
# Homeward's access-checked views. No MEDIA_URL on purpose.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Cache: Redis when configured, else in-process memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The navigation bar's roles and closure mode are cached this long at most (issue 15; every
# change of a membership, trust role or school refreshes them at once: schools/context_processors).
NAV_CACHE_SECONDS = env.int("NAV_CACHE_SECONDS", default=60)

# Sessions and cookies. PRODUCTION=true makes every secure default the default (README.md).
PRODUCTION = env.bool("PRODUCTION", default=False)
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
# Issue 15: a session is written when it changes, and at most once a minute while it is in use
# (config.middleware.SessionIdleMiddleware keeps the idle limit exact to the minute), not on every
# request.
SESSION_SAVE_EVERY_REQUEST = False
# Sessions are read from the cache and written through to the database. Only with Redis: one
# cache every web process shares. Each process's own memory (no REDIS_URL) would let a session
# ended in one gunicorn worker live on in another, so without Redis sessions stay in the database.
# core.sessions is Django's cached_db that falls back to the database when Redis is down.
SESSION_ENGINE = "core.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS >= 31536000)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
# Health checks and metrics answer on plain HTTP too: load balancers and Prometheus probe nodes
# directly, inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Email: console in development, SMTP in production (EMAIL_URL, e.g. smtp+tls://user:pw@host:587).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Homeward <homeward@localhost>")
EMAIL_TIMEOUT = 20

# SMS: a backend chosen like EMAIL_BACKEND (tracking/sms.py).
SMS_BACKEND = env.str("SMS_BACKEND", default="tracking.sms.ConsoleBackend")
# R-ESC-11: phone calls for an alert that was not delivered (tracking/voice.py):
# tracking.voice.TwilioBackend (TWILIO_*), tracking.voice.ConsoleBackend (development).
VOICE_BACKEND = env.str("VOICE_BACKEND", default="tracking.voice.ConsoleBackend")
SMS_SENDER = env.str("SMS_SENDER", default="Homeward")

# Celery. Without REDIS_URL the broker is the filesystem (no server), for `make run`.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    # kombu's filesystem transport needs its folders to exist: any process that enqueues (a page,
    # seed_demo, a script on a fresh clone) makes them rather than failing after its commit.
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # The broadcast (pidbox) exchanges; without it kombu writes ./control in the working tree.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# One queue name per deployment (and per test, so parallel test runs never share one).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="homeward")
# The escalation scan has a queue of its own, consumed by a dedicated worker (Procfile.dev,
# deploy/homeward-scan.service), so a queue of sends, a slow SMS provider or a dead worker never
# delays a ladder step. A worker started without -Q consumes both queues (development, tests).
CELERY_SCAN_QUEUE = env.str("CELERY_SCAN_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}-scan")
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(CELERY_SCAN_QUEUE))
CELERY_TASK_ROUTES = {"tracking.tasks.escalation_scan": {"queue": CELERY_SCAN_QUEUE}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# 2 s, not the 15 s first planned: a step falls due at a random moment between two scans, so
# its message is up to one interval late. bench/escalation.py measured p95 14.9 s at 15 s and
# 4.9 s at 5 s; the acknowledgement request must also be *delivered* within 10 s (p95), and the
# provider's network takes its own seconds, so the scan's share is kept to 2 s. An idle scan
# over 100,000 open sign-outs costs ~2 ms: 0.1% of one core at this interval.
ESCALATION_SCAN_SECONDS = env.float("ESCALATION_SCAN_SECONDS", default=2.0)
CELERY_BEAT_SCHEDULE = {
    # The escalation scan (tracking.ladder.escalation_scan): fires due ladder steps, re-sends
    # lost messages, marks crashed sends in doubt, and writes the heartbeat the board shows.
    "escalation-scan": {
        "task": "tracking.tasks.escalation_scan",
        "schedule": schedule(timedelta(seconds=ESCALATION_SCAN_SECONDS)),
        "options": {"expires": ESCALATION_SCAN_SECONDS, "queue": CELERY_SCAN_QUEUE},
    },
}
# R-REC-3: the visitors are emailed this many hours before their record falls due, once.
RECORD_REMINDER_HOURS_BEFORE = env.int("RECORD_REMINDER_HOURS_BEFORE", default=4)
RECORD_REMINDER_SCAN_SECONDS = env.float("RECORD_REMINDER_SCAN_SECONDS", default=300.0)
# R-REC-8: the file transfer reminders at 3 and 5 school days, and how long a package link lasts.
TRANSFER_REMINDER_SCAN_SECONDS = env.float("TRANSFER_REMINDER_SCAN_SECONDS", default=900.0)
TRANSFER_LINK_DAYS = env.int("TRANSFER_LINK_DAYS", default=7)
CELERY_BEAT_SCHEDULE["transfer-reminders"] = {
    "task": "transfers.tasks.transfer_reminders_scan",
    "schedule": schedule(timedelta(seconds=TRANSFER_REMINDER_SCAN_SECONDS)),
    "options": {"expires": TRANSFER_REMINDER_SCAN_SECONDS},
}
# The leaders' dashboards keep their figures per school and day, brought up to date at each
# render (insights.summaries); every night they are all counted again, a safety net.
CELERY_BEAT_SCHEDULE["insights-rebuild"] = {
    "task": "insights.tasks.summaries_rebuild",
    "schedule": crontab(hour=2, minute=40),
    "options": {"expires": 3600},
}
CELERY_BEAT_SCHEDULE["record-reminders"] = {
    "task": "records.tasks.record_reminders_scan",
    "schedule": schedule(timedelta(seconds=RECORD_REMINDER_SCAN_SECONDS)),
    "options": {"expires": RECORD_REMINDER_SCAN_SECONDS},
}

# LOG_FORMAT=json: one JSON object per line with the request id, user id and school id
# (config/logs.py); the default in production. "plain" is for a person reading a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise environ.ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Security and data protection (issue #7; docs/operations.md).
# A signed-in session ends after SESSION_COOKIE_AGE idle (above) or this long after sign-in,
# whichever comes first (config.middleware.SessionAbsoluteLimitMiddleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
CSRF_COOKIE_HTTPONLY = True

# Two-factor sign-in: TOTP (an authenticator app) with printed backup codes. Who must use it is
# config.security.two_factor_required; there is no "skip" and no self-service "disable".
TWO_FACTOR_LOGIN_TIMEOUT = 600
TWO_FACTOR_REMEMBER_COOKIE_AGE = None  # never "remember this browser": every sign-in asks
OTP_TOTP_ISSUER = "Homeward"
# A first authenticator app is bound only with an enrolment code (config/enrolment.py); it expires.
TWO_FACTOR_ENROLMENT_CODE_HOURS = env.int("TWO_FACTOR_ENROLMENT_CODE_HOURS", default=72)
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp slows repeated wrong codes down exponentially

# Lockout (django-axes): 5 failures for one username within 15 minutes lock that username; an
# address (a school's whole network sits behind one) is locked after AXES_ADDRESS_FAILURE_LIMIT.
# The message is the same whether or not the account exists (templates/registration/locked_out).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "config.lockout.HomewardAxesHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "config.lockout.username_of_attempt"
AXES_SENSITIVE_PARAMETERS = ["auth-password", "password", "token-otp_token", "backup-otp_token"]
# Behind a TLS proxy (BEHIND_TLS_PROXY) the address is the one the proxy saw, PROXY_COUNT
# entries from the right of X-Forwarded-For; otherwise REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
PROXY_COUNT = env.int("PROXY_COUNT", default=1)

# Content Security Policy (django-csp): nothing inline, nothing from another origin. htmx is
# configured to match in templates/base.html (meta htmx-config: no indicator <style>, no eval).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its icons (select arrows, the menu button) as data: SVG images.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
# One line per request (view name, status, time; never the path) where the logs are JSON.
LOGGING["loggers"]["homeward.request"] = {
    "level": "INFO" if LOG_FORMAT == "json" else "WARNING"
}  # sign-in successes are in axes' AccessLog

# Retention (IRMS toolkit; `manage.py retention_review` lists, never deletes). Child protection
# records: date of birth + 25 years (fixed). Tracking data about staff: this many days.
RETENTION_STAFF_TRACKING_DAYS = env.int("RETENTION_STAFF_TRACKING_DAYS", default=365)
# Issue 19: request bodies are capped (core/limits.py); a larger one gets a calm 413 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # core.limits.REQUEST_BODY_LIMIT
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# WeasyPrint logs every rendering step at INFO; its warnings (a missing font) still show.
LOGGING["loggers"]["weasyprint.progress"] = {"level": "WARNING"}

# The escalation engine (tracking/). Times are read from the database by the scan; these only
# tune how the outbox is retried. See README "Environment".
ESCALATION_MINUTE_SECONDS = env.float("ESCALATION_MINUTE_SECONDS", default=60.0)
if not 0 < ESCALATION_MINUTE_SECONDS <= 60:
    raise environ.ImproperlyConfigured("ESCALATION_MINUTE_SECONDS must be between 0 and 60.")
# A message still waiting this long after it was handed to the workers is handed over again: a
# lost broker message, or one a killed worker had taken but not started. 10 s + one scan interval
# (5 s) gets a manager's or monitor's alert back within 15 s; sending claims the row first, so a
# message handed over twice is still sent once.
NOTIFICATION_REQUEUE_AFTER_SECONDS = env.int("NOTIFICATION_REQUEUE_AFTER_SECONDS", default=10)
# R-TRK-6: each visitor still out is texted a reminder this many minutes before the expected
# return (tracking/ladder.py, reminders). 0 sends none (the test suite's default,
# tests/settings.py).
CHECKIN_REMINDER_MINUTES = env.int("CHECKIN_REMINDER_MINUTES", default=10)
NOTIFICATION_IN_DOUBT_AFTER_SECONDS = env.int("NOTIFICATION_IN_DOUBT_AFTER_SECONDS", default=120)
# Prometheus /metrics (config/monitoring.py; docs/operations.md): a bearer token, or the
# networks Prometheus scrapes from (e.g. 10.0.0.0/8). Neither set: /metrics answers nobody.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# Lateness histograms cover the steps and messages of this many recent minutes.
METRICS_WINDOW_MINUTES = env.int("METRICS_WINDOW_MINUTES", default=15)
# /readyz reports the outbox backed up when a message has waited, or been in doubt, this long.
READYZ_OUTBOX_MINUTES = env.int("READYZ_OUTBOX_MINUTES", default=5)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
CHECKIN_LINK_MINUTES = env.int("CHECKIN_LINK_MINUTES", default=60)
# R-ESC-8: how long the one-tap acknowledgement link in a manager's or monitor's alert works.
ACK_LINK_MINUTES = env.int("ACK_LINK_MINUTES", default=12 * 60)
# SMS providers (tracking/sms.py): Twilio, or GOV.UK Notify with a template whose text is ((body)).
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=15.0)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
# The number calls come from (a messaging service SID cannot call): TWILIO_FROM when empty.
TWILIO_VOICE_FROM = env.str("TWILIO_VOICE_FROM", default="")
# R-ESC-11: an alert SMS not delivered within this many minutes (ladder minutes) is repeated by a
# phone call and by email; one reported undelivered or failed is repeated at once. 0: never.
DELIVERY_FALLBACK_MINUTES = env.int("DELIVERY_FALLBACK_MINUTES", default=2)
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", default="")
NOTIFY_SMS_TEMPLATE_ID = env.str("NOTIFY_SMS_TEMPLATE_ID", default="")
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
# The bearer token GOV.UK Notify sends with its delivery receipts and received texts (set it in
# the Notify service's callback settings).
NOTIFY_CALLBACK_BEARER_TOKEN = env.str("NOTIFY_CALLBACK_BEARER_TOKEN", default="")

# Optional error reporting (config/sentry.py; docs/operations.md): off unless SENTRY_DSN is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production" if PRODUCTION else "dev"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# Single sign-on (sso/, docs/sso.md): django-allauth's OpenID Connect provider, under Homeward's
# rules (sso.adapter). Providers are SignInProvider rows; client secrets come only from the
# environment (SSO_CLIENT_SECRET_<PROVIDER_ID>). Nobody is signed up or linked by email address.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a sign-in takes a POST (no login CSRF)
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SSO_REQUESTS_TIMEOUT_SECONDS", default=10)
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "allauth.account.adapter.DefaultAccountAdapter"

# MIS sync through Wonde (mis/, docs/mis-sync.md). Tokens only from the environment
# (WONDE_TOKEN_<WONDE SCHOOL ID>). Nightly at MIS_SYNC_HOUR (UK time), and on demand in the admin.
MIS_TIMEOUT_SECONDS = env.float("MIS_TIMEOUT_SECONDS", default=30.0)
MIS_ATTEMPTS = env.int("MIS_ATTEMPTS", default=5)
MIS_BACKOFF_SECONDS = env.float("MIS_BACKOFF_SECONDS", default=2.0)
MIS_PER_PAGE = env.int("MIS_PER_PAGE", default=200)
CELERY_BEAT_SCHEDULE["mis-sync"] = {
    "task": "mis.tasks.mis_sync_all",
    "schedule": crontab(hour=env.int("MIS_SYNC_HOUR", default=2), minute=30),
}
