from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """The family contact log: every call, message or visit attempt with a family or a
    professional (R-REC-7). Below risk assessment, which reads it for the doorstep gate (R-RA-6)
    and the closure-mode monitor (R-CLO-2)."""

    name = "contacts"
    verbose_name = "Contact log"
