from django.apps import AppConfig


class TrackingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracking"
    verbose_name = "Sign-out and escalation"

    def ready(self):
        from . import receivers

        receivers.connect()
