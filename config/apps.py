import functools
import importlib
import time

from django.apps import AppConfig, apps
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save


class HomewardConfig(AppConfig):
    """Project-wide wiring that belongs to no app: the sign-in stamp of the session limit, and
    the school id the log lines carry."""

    name = "config"
    label = "homeward_config"
    verbose_name = "Homeward"

    def ready(self):
        from django.contrib import admin

        from schools.admin import restrict_to_superusers

        from . import checks  # noqa: F401  (registers the security system checks)
        from .logs import remember_school

        # The admin modules are loaded (django.contrib.admin is the first app): every admin page
        # not scoped to a school administrator's schools opens for superusers only (issue 19).
        restrict_to_superusers(admin.site)

        user_logged_in.connect(stamp_sign_in, dispatch_uid="homeward_stamp_sign_in")
        user_logged_in.connect(remember_school, dispatch_uid="homeward_remember_school")
        pre_save.connect(refuse_overlong_text, dispatch_uid="homeward_refuse_overlong_text")

        from django.db.models.signals import post_delete
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        post_delete.connect(second_factor_removed, sender=TOTPDevice, dispatch_uid="hw_totp_rm")
        post_delete.connect(second_factor_removed, sender=StaticDevice, dispatch_uid="hw_st_rm")

        # Register every app's tasks in every process (web too), so core.enqueue finds them by
        # name; Celery's lazy autodiscovery otherwise only runs when a worker starts.
        for app_config in apps.get_app_configs():
            module = f"{app_config.name}.tasks"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise


# Issue 19: Homeward's own apps, whose text fields are bounded (core/limits.py).
BOUNDED_APPS = {"contacts", "records", "riskassess", "schools", "tracking", "visits"}


def refuse_overlong_text(sender, instance, raw=False, **kwargs):
    """No text longer than its field's max_length is saved, whatever the path (a form already
    refused it with a clearer message; this catches any write that did not come through one).
    TextField's max_length is not enforced by the database, so it is enforced here."""
    from django.core.exceptions import ValidationError

    if raw:
        return
    for field in bounded_text_fields(sender):
        value = getattr(instance, field.attname, None)
        if isinstance(value, str) and len(value) > field.max_length:
            raise ValidationError(
                {
                    field.name: f"{str(field.verbose_name).capitalize()} can be at most "
                    f"{field.max_length:,} characters; this has {len(value):,}."
                }
            )


@functools.cache
def bounded_text_fields(model) -> tuple:
    """The model's text fields with a max_length, when it belongs to one of BOUNDED_APPS. Every
    save asks, so the answer is kept per model (fields do not change once apps are loaded)."""
    from django.db import models

    if model._meta.app_label not in BOUNDED_APPS:
        return ()
    return tuple(
        field
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField)) and field.max_length
    )


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the absolute session period (config.middleware.SessionAbsoluteLimitMiddleware) and
    the idle one (config.middleware.SessionIdleMiddleware)."""
    from .security import LAST_SEEN_SESSION_KEY, SIGNED_IN_AT_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT_SESSION_KEY] = now
        request.session[LAST_SEEN_SESSION_KEY] = now


def second_factor_removed(sender, instance, **kwargs):
    """Email the person when her authenticator app or backup codes are removed (issue 19)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from schools.models import User

    from .enrolment import second_factor_changed_notify

    user = User.objects.filter(pk=instance.user_id).first()
    what = (
        "your authenticator app was removed"
        if sender is TOTPDevice
        else "your backup codes were removed"
    )
    second_factor_changed_notify(user=user, what=what)
