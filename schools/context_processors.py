from functools import cached_property

from django.utils.functional import SimpleLazyObject

from .selectors import is_authoriser, schools_for_user, user_roles


class _Navigation:
    """The navigation bar's facts, each worked out the first time a template reads it."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def roles(self) -> set[str]:
        return user_roles(self.user)

    @cached_property
    def closure_schools(self) -> list[str]:
        return [s.name for s in schools_for_user(self.user).filter(closure_mode=True)]


def navigation(request):
    """What the navigation bar needs: the user's roles and whether a school is in closure mode.

    Lazy (issue 15): only templates that show the navigation bar (templates/base.html) read these,
    so an htmx fragment, a PDF or a redirect costs no query for them; a whole page costs the
    same three queries as before, once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = _Navigation(user)
    return {
        "nav_roles": SimpleLazyObject(lambda: nav.roles),
        "nav_is_authoriser": SimpleLazyObject(lambda: is_authoriser(nav.roles)),
        # R-CLO-1: every page shows closure mode.
        "nav_closure_schools": SimpleLazyObject(lambda: nav.closure_schools),
    }
