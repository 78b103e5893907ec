from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_percentile(sender, connection, **kwargs):
    """SQLite has no percentile aggregate: give each SQLite connection Homeward's (see
    insights.figures.Percentile; PostgreSQL uses its own percentile_disc)."""
    if connection.vendor == "sqlite":
        from .figures import SQLITE_PERCENTILE, sqlite_percentile

        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, sqlite_percentile)


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Leaders' dashboards"

    def ready(self):
        connection_created.connect(_sqlite_percentile, dispatch_uid="insights-sqlite-percentile")
