from django.apps import AppConfig


class MisConfig(AppConfig):
    """Pupils, families and staff kept in step with the school's MIS through Wonde (R-SEC-5)."""

    name = "mis"
    verbose_name = "MIS sync (Wonde)"
