"""Who must sign in with a second factor, and the session plumbing the middleware uses.

DfE cyber security standards: multi-factor authentication for anyone with access to sensitive
data. In Homeward that is everyone who reads records, concerns or escalation briefings (DSLs,
deputies, Headteachers, managers, trust leads), anyone who can open the admin, and everyone at
a school that turned on "require two-factor for all".
"""

from django.db.models import Q

from schools.models import Role, User

TWO_FACTOR_ROLES = (Role.DSL, Role.DEPUTY_DSL, Role.HEAD, Role.MANAGER)

# Where the session records when its user signed in (the absolute limit counts from here).
SIGNED_IN_AT_SESSION_KEY = "homeward_signed_in_at"
# When the session was last seen active, to the minute (config.middleware.SessionIdleMiddleware).
LAST_SEEN_SESSION_KEY = "homeward_last_seen"
# The session is written at most this often while it is in use (issue 15): the idle limit is
# measured from the last write, so it is exact to within this.
SESSION_TOUCH_SECONDS = 60


def two_factor_required(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    # One query: asked on every request of a signed-in user who has not used a second factor.
    return (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(trust_roles__isnull=False)
            | Q(memberships__role__in=TWO_FACTOR_ROLES)
            | Q(memberships__school__require_two_factor_for_all=True)
        )
        .exists()
    )
