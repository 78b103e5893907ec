from django.apps import AppConfig


class TransfersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "transfers"
    verbose_name = "File transfers"

    def ready(self):
        from . import receivers

        receivers.connect()
