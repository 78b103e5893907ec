import contextlib
import logging
import uuid
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.utils.functional import SimpleLazyObject

from .selectors import is_authoriser, schools_for_user, user_roles

# The navigation bar's facts are kept in the cache under a version that every change of a
# membership, a trust role or a school (its name, closure mode) replaces (schools/apps.py), and
# for at most settings.NAV_CACHE_SECONDS (60) in any case: a change the signals miss shows
# within a minute. 0 turns the cache off (the test suite, tests/settings.py).
NAV_VERSION_KEY = "homeward:nav:version"

logger = logging.getLogger(__name__)


def nav_version() -> str:
    version = cache.get(NAV_VERSION_KEY)
    if version is None:  # never set, or evicted: a new one, so no older facts are read
        version = uuid.uuid4().hex
        cache.set(NAV_VERSION_KEY, version, None)
    return version


def nav_changed() -> None:
    """Memberships, trust roles or schools changed: every navigation bar is worked out again.
    Never stops the change itself: with the cache down, cached bars are at most
    NAV_CACHE_SECONDS old when it comes back."""
    try:
        cache.set(NAV_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.exception("Could not tell the navigation cache that roles or schools changed.")


class _Navigation:
    """The navigation bar's facts, worked out the first time a template reads one."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def facts(self) -> dict:
        seconds = settings.NAV_CACHE_SECONDS
        try:
            key = f"homeward:nav:{nav_version()}:{self.user.pk}" if seconds else None
            facts = cache.get(key) if key else None
        except Exception:  # the cache (Redis) is down: work them out, every page
            logger.warning("Cache unavailable: the navigation bar is worked out afresh.")
            key = facts = None
        if facts is None:
            facts = {
                "roles": sorted(user_roles(self.user)),
                "closure": [s.name for s in schools_for_user(self.user).filter(closure_mode=True)],
            }
            if key:
                with contextlib.suppress(Exception):
                    cache.set(key, facts, seconds)
        return facts

    @cached_property
    def roles(self) -> set[str]:
        return set(self.facts["roles"])

    @property
    def closure_schools(self) -> list[str]:
        return self.facts["closure"]


def navigation(request):
    """What the navigation bar needs: the user's roles and whether a school is in closure mode.

    Lazy (issue 15): only templates that show the navigation bar (templates/base.html) read these,
    so an htmx fragment, a PDF or a redirect costs no query for them; a whole page reads them
    from the cache (three queries when they are not there)."""
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
