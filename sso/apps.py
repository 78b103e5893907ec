from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Single sign-on with a school's Microsoft Entra ID, Google Workspace or another OpenID
    Connect provider (django-allauth), under Homeward's own sign-in rules (docs/sso.md)."""

    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from . import receivers

        receivers.connect()
