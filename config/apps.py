import time

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save


class HomewardConfig(AppConfig):
    """Project-wide wiring that belongs to no app: the sign-in stamp of the session limit."""

    name = "config"
    label = "homeward_config"
    verbose_name = "Homeward"

    def ready(self):
        from . import checks  # noqa: F401  (registers the security system checks)

        user_logged_in.connect(stamp_sign_in, dispatch_uid="homeward_stamp_sign_in")
        pre_save.connect(refuse_overlong_text, dispatch_uid="homeward_refuse_overlong_text")


# Issue 19: Homeward's own apps, whose text fields are bounded (config/limits.py).
BOUNDED_APPS = {"records", "riskassess", "schools", "tracking", "visits"}


def refuse_overlong_text(sender, instance, raw=False, **kwargs):
    """No text longer than its field's max_length is saved, whatever the path (a form already
    refused it with a clearer message; this catches any write that did not come through one).
    TextField's max_length is not enforced by the database, so it is enforced here."""
    from django.core.exceptions import ValidationError
    from django.db import models

    if raw or sender._meta.app_label not in BOUNDED_APPS:
        return
    for field in sender._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)) or not field.max_length:
            continue
        value = getattr(instance, field.attname, None)
        if isinstance(value, str) and len(value) > field.max_length:
            raise ValidationError(
                {
                    field.name: f"{str(field.verbose_name).capitalize()} can be at most "
                    f"{field.max_length:,} characters; this has {len(value):,}."
                }
            )


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the absolute session period (config.middleware.SessionAbsoluteLimitMiddleware)."""
    from .security import SIGNED_IN_AT_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()
