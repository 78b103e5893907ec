"""Reads of visits that apply the access rules (R-SEC-1).

- A visit of another school: 404.
- The requester and the visitors see their visit; DSLs, the Headteacher and trust leads
  (view_all_visits) see all of the school's; anyone else at the school: 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from schools.models import User
from schools.selectors import schools_for_user, schools_requiring

from .models import Status, Visit, Visitor


def _with_everything(queryset: QuerySet[Visit]) -> QuerySet[Visit]:
    return queryset.select_related(
        "school",
        "household",
        "requested_by",
        "authorised_by",
        "cancelled_by",
        "out_of_hours_manager",
        "head_consulted_by",
        "risk_assessment",
    ).prefetch_related(
        "pupils",
        Prefetch("visitors", queryset=Visitor.objects.select_related("user__profile")),
    )


def visit_get(*, user: User, pk, perm: str | None = None) -> Visit:
    """One visit for `user`. `perm`, when given, is a School permission the action also needs
    (e.g. authorise_visits)."""
    try:
        visit = _with_everything(Visit.objects.filter(school__in=schools_for_user(user))).get(pk=pk)
    except Visit.DoesNotExist as error:
        raise Http404("Not found.") from error
    involved = visit.requested_by_id == user.pk or any(
        v.user_id == user.pk for v in visit.visitors.all()
    )
    if not (involved or user.has_perm("schools.view_all_visits", visit.school)):
        raise PermissionDenied("Only the visit's requester, visitors and DSLs can see it.")
    if perm and not user.has_perm(f"schools.{perm}", visit.school):
        raise PermissionDenied("Your role does not allow this.")
    return visit


def visit_queue(*, user: User) -> QuerySet[Visit]:
    """Visits waiting for authorisation at the schools where `user` authorises, oldest first."""
    schools = schools_requiring(user, "authorise_visits")
    return _with_everything(
        Visit.objects.filter(school__in=schools, status=Status.SUBMITTED)
    ).order_by("submitted_at", "pk")


def visits_of_user(*, user: User) -> QuerySet[Visit]:
    """The visits `user` requested or is a visitor on."""
    return _with_everything(
        Visit.objects.filter(
            Q(requested_by=user) | Q(visitors__user=user), school__in=schools_for_user(user)
        ).distinct()
    )


def visit_timeline(*, visit: Visit) -> QuerySet:
    """What happened to the visit, in time order, from the audit trail."""
    from records.models import AuditEvent

    return AuditEvent.objects.filter(
        object_type=Visit._meta.label_lower, object_id=str(visit.pk)
    ).select_related("actor")
