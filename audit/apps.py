from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: every change and every read of a child's data, append-only (R-SEC-2)."""

    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from . import receivers

        receivers.connect()
