import time

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class HomewardConfig(AppConfig):
    """Project-wide wiring that belongs to no app: the sign-in stamp of the session limit, and
    the school id the log lines carry."""

    name = "config"
    label = "homeward_config"
    verbose_name = "Homeward"

    def ready(self):
        from . import checks  # noqa: F401  (registers the security system checks)
        from .logs import remember_school

        user_logged_in.connect(stamp_sign_in, dispatch_uid="homeward_stamp_sign_in")
        user_logged_in.connect(remember_school, dispatch_uid="homeward_remember_school")


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the absolute session period (config.middleware.SessionAbsoluteLimitMiddleware)."""
    from .security import SIGNED_IN_AT_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()
