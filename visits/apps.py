from django.apps import AppConfig


class VisitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visits"
    verbose_name = "Visits and authorisation"

    def ready(self):
        from . import receivers

        receivers.connect()
