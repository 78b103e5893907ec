from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Leaders' dashboards"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the recount on deletions
