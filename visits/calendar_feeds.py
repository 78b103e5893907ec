"""Private calendar feed addresses: giving a person a new feed address (their own visits, or
the whole school's for its authorisers) and revoking one, each audited. The feed itself is
rendered by visits.calendar.
"""

from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import School, User

from .common import VisitBlocked


@transaction.atomic
def calendar_feed_renew(*, actor: User, scope: str, school: School | None = None):
    """Give `actor` a new private feed address for `scope`, revoking the old one."""
    from .models import CalendarFeed

    if scope == CalendarFeed.Scope.SCHOOL:
        if school is None or not actor.has_perm("schools.authorise_visits", school):
            raise VisitBlocked("Only the school's authorisers have a whole-school calendar.")
    else:
        school = None
    now = timezone.now()
    CalendarFeed.objects.filter(
        user=actor, scope=scope, school=school, revoked_at__isnull=True
    ).update(revoked_at=now)
    feed = CalendarFeed.objects.create(user=actor, scope=scope, school=school)
    audit_event_create(
        actor=actor,
        school=school,
        obj=feed,
        event_type="calendar_feed.renewed",
        changes={"scope": scope},
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor: User, feed) -> None:
    from .models import CalendarFeed

    if CalendarFeed.objects.filter(pk=feed.pk, user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        audit_event_create(
            actor=actor, school=feed.school, obj=feed, event_type="calendar_feed.revoked"
        )
