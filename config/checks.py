"""System checks that keep issue #7's protections switched on. `manage.py check` runs them, and
`make deploy-check` (check --deploy --fail-level WARNING) fails on any of them."""

from django.conf import settings
from django.core import checks

UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:")

REQUIRED_MIDDLEWARE = (
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.SessionIdleMiddleware",
    "config.middleware.SessionAbsoluteLimitMiddleware",
    "config.middleware.TwoFactorRequiredMiddleware",
    "config.middleware.NoStoreForSignedInMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
)


@checks.register(checks.Tags.security)
def content_security_policy_is_strict(app_configs, **kwargs):
    directives = getattr(settings, "CONTENT_SECURITY_POLICY", {}).get("DIRECTIVES", {})
    errors = []
    for name in ("default-src", "script-src", "style-src"):
        sources = directives.get(name)
        if not sources:
            errors.append(checks.Error(f"The CSP has no {name}.", id="homeward.E001"))
        elif any(source in UNSAFE for source in sources):
            errors.append(
                checks.Error(
                    f"The CSP's {name} allows {sorted(set(sources) & set(UNSAFE))}: pages carry "
                    "children's data and must run no inline or foreign script or style.",
                    id="homeward.E001",
                )
            )
    if directives.get("frame-ancestors") != ["'none'"]:
        errors.append(checks.Error("The CSP must set frame-ancestors 'none'.", id="homeward.E001"))
    return errors


@checks.register(checks.Tags.security)
def protections_are_installed(app_configs, **kwargs):
    errors = []
    missing = [m for m in REQUIRED_MIDDLEWARE if m not in settings.MIDDLEWARE]
    if missing:
        errors.append(checks.Error(f"Missing middleware: {missing}.", id="homeward.E002"))
    elif settings.MIDDLEWARE.index(
        "django_otp.middleware.OTPMiddleware"
    ) < settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware"):
        errors.append(
            checks.Error(
                "OTPMiddleware must come after AuthenticationMiddleware.", id="homeward.E002"
            )
        )
    if settings.AUTHENTICATION_BACKENDS[0] != "axes.backends.AxesStandaloneBackend":
        errors.append(
            checks.Error(
                "axes.backends.AxesStandaloneBackend must be the first authentication backend.",
                id="homeward.E003",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def sessions_are_short(app_configs, **kwargs):
    warnings = []
    # The idle limit is kept by config.middleware.SessionIdleMiddleware (required above), which
    # writes the session at most once a minute (issue 15), not by SESSION_SAVE_EVERY_REQUEST.
    if settings.SESSION_COOKIE_AGE > 30 * 60:
        warnings.append(
            checks.Warning("Sessions should end after at most 30 idle minutes.", id="homeward.W004")
        )
    if settings.SESSION_ABSOLUTE_SECONDS > 12 * 60 * 60:
        warnings.append(
            checks.Warning(
                "Sessions should end at most 12 hours after sign-in.", id="homeward.W004"
            )
        )
    if settings.AXES_FAILURE_LIMIT > 5:
        warnings.append(
            checks.Warning("Lock a username after at most 5 failed sign-ins.", id="homeward.W005")
        )
    return warnings


def _secret_key_is_unsafe() -> bool:
    key = getattr(settings, "SECRET_KEY", "")
    return not key or key == getattr(settings, "DEVELOPMENT_SECRET_KEY", None)


@checks.register(checks.Tags.security)
def secret_key_is_not_the_development_one(app_configs, **kwargs):
    """Outside development (HOMEWARD_DEV=true) the development SECRET_KEY is an error: with it
    anyone can forge check-in links (issue 19)."""
    if _secret_key_is_unsafe() and not getattr(settings, "DEVELOPMENT", False):
        return [
            checks.Error(
                "SECRET_KEY is empty or the development key.",
                hint="Set SECRET_KEY to a long random value.",
                id="homeward.E006",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_set_for_deployment(app_configs, **kwargs):
    if _secret_key_is_unsafe():
        return [
            checks.Error(
                "SECRET_KEY is empty or the development key: never deploy with it.",
                hint="Set SECRET_KEY to a long random value.",
                id="homeward.E006",
            )
        ]
    return []


# Backends that deliver nothing: mail and texts end in a log or in memory.
UNDELIVERED_EMAIL_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)
UNDELIVERED_SMS_BACKENDS = ("tracking.sms.ConsoleBackend", "tracking.sms.InMemoryBackend")


@checks.register(checks.Tags.security, deploy=True)
def production_delivers_email_and_sms_over_https(app_configs, **kwargs):
    """With PRODUCTION on, reset links, check-in links and escalation alerts must reach people,
    and the links in them must be HTTPS (issue 19)."""
    if not getattr(settings, "PRODUCTION", False):
        return []
    errors = []
    if settings.EMAIL_BACKEND in UNDELIVERED_EMAIL_BACKENDS:
        errors.append(
            checks.Error(
                f"PRODUCTION is on but email goes to {settings.EMAIL_BACKEND}: nothing is sent.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example:587.",
                id="homeward.E007",
            )
        )
    if settings.SMS_BACKEND in UNDELIVERED_SMS_BACKENDS:
        errors.append(
            checks.Error(
                f"PRODUCTION is on but texts go to {settings.SMS_BACKEND}: no alert is sent.",
                hint="Set SMS_BACKEND to tracking.sms.TwilioBackend or tracking.sms.NotifyBackend.",
                id="homeward.E008",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        errors.append(
            checks.Error(
                f"PRODUCTION is on but SITE_URL ({settings.SITE_URL}) is not https://.",
                hint="Links in emails and texts must use HTTPS.",
                id="homeward.E009",
            )
        )
    return errors
