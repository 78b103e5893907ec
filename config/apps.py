import time

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class HomewardConfig(AppConfig):
    """Project-wide wiring that belongs to no app: the sign-in stamp of the session limit."""

    name = "config"
    label = "homeward_config"
    verbose_name = "Homeward"

    def ready(self):
        from django.contrib import admin

        from schools.admin import restrict_to_superusers

        from . import checks  # noqa: F401  (registers the security system checks)

        # The admin modules are loaded (django.contrib.admin is the first app): every admin page
        # not scoped to a school administrator's schools opens for superusers only (issue 19).
        restrict_to_superusers(admin.site)

        user_logged_in.connect(stamp_sign_in, dispatch_uid="homeward_stamp_sign_in")


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the absolute session period (config.middleware.SessionAbsoluteLimitMiddleware)."""
    from .security import SIGNED_IN_AT_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()
