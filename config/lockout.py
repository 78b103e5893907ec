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
