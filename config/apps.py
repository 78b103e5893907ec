import importlib
import time

from django.apps import AppConfig, apps
from django.contrib.auth.signals import user_logged_in


class HomewardConfig(AppConfig):
    """Project-wide wiring that belongs to no app: the sign-in stamp of the session limit."""

    name = "config"
    label = "homeward_config"
    verbose_name = "Homeward"

    def ready(self):
        from . import checks  # noqa: F401  (registers the security system checks)

        user_logged_in.connect(stamp_sign_in, dispatch_uid="homeward_stamp_sign_in")

        # Register every app's tasks in every process (web too), so core.enqueue finds them by
        # name; Celery's lazy autodiscovery otherwise only runs when a worker starts.
        for app_config in apps.get_app_configs():
            module = f"{app_config.name}.tasks"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the absolute session period (config.middleware.SessionAbsoluteLimitMiddleware)."""
    from .security import SIGNED_IN_AT_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()
