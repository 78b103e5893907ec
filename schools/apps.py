from django.apps import AppConfig


def _roles_changed(sender, **kwargs) -> None:
    """Who holds which role changed: this request forgets the permissions it worked out
    (core.request_memo), so the rest of the page reads the new ones."""
    from core.request_memo import forget

    forget()


def _navigation_changed(sender, **kwargs) -> None:
    """Roles or a school's name or closure mode changed: navigation bars are worked out again."""
    from .context_processors import nav_changed

    nav_changed()


class SchoolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "schools"
    verbose_name = "School directory"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from guardian.models import GroupObjectPermission, UserObjectPermission

        from .models import Membership, School, TrustRole, User

        for model in (Membership, TrustRole, UserObjectPermission, GroupObjectPermission):
            for signal in (post_save, post_delete):
                signal.connect(
                    _roles_changed, sender=model, dispatch_uid=f"memo.{model.__name__}.{signal}"
                )
        m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="memo.groups")
        for model in (Membership, TrustRole, School):
            for signal in (post_save, post_delete):
                signal.connect(
                    _navigation_changed,
                    sender=model,
                    dispatch_uid=f"nav.{model.__name__}.{signal}",
                )
