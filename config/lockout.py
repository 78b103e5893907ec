"""Sign-in lockout (django-axes), tuned for schools.

A school's staff share one public address, so one person's typos must not lock everyone out:
a username is locked after AXES_FAILURE_LIMIT failures, an address only after the (much larger)
AXES_ADDRESS_FAILURE_LIMIT. Both within AXES_COOLOFF_TIME, and both answered with the same page
whether or not the account exists.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


def username_of_attempt(request, credentials) -> str | None:
    """The username tried: from authenticate()'s credentials, else from the sign-in form's first
    step (its fields carry the wizard's `auth-` prefix)."""
    if credentials and credentials.get("username"):
        return credentials["username"]
    data = getattr(request, "POST", None) or {}
    return data.get("auth-username") or data.get("username")


def client_address(request) -> str | None:
    """The address a sign-in came from. Behind our own TLS proxy, the last PROXY_COUNT
    proxies each appended the address they saw to X-Forwarded-For: the client is the entry they
    added, not the left-most one (which the client itself can write anything into)."""
    remote = request.META.get("REMOTE_ADDR")
    if not settings.SECURE_PROXY_SSL_HEADER:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    count = settings.PROXY_COUNT
    if count < 1 or len(forwarded) < count:
        return remote
    return forwarded[-count]


class HomewardAxesHandler(AxesDatabaseHandler):
    """Axes compares one number with AXES_FAILURE_LIMIT. With AXES_LOCKOUT_PARAMETERS
    ["username", "ip_address"] it gets one queryset per parameter, in that order; the address's
    failures are scaled so that it reaches the limit at AXES_ADDRESS_FAILURE_LIMIT."""

    def get_failures(self, request, credentials=None) -> int:
        by_username, by_address = self.get_user_attempts(request, credentials)
        username_failures = _failures(by_username)
        address_failures = _failures(by_address)
        limit = settings.AXES_FAILURE_LIMIT
        if address_failures >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(limit, username_failures)
        return username_failures


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
