from django.apps import AppConfig


class RiskassessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "riskassess"
    verbose_name = "Risk assessments"

    def ready(self):
        from . import receivers

        receivers.connect()
