"""Reads that apply the access rules. Every view fetches through a selector (DESIGN "Access").

Two answers, always in this order:
- an object outside the user's schools does not exist for them: 404 (R-SEC-1);
- an object they may see but an action their role does not allow: 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from core import request_memo

from .models import Household, Membership, Pupil, School, User
from .roles import AUTHORISING_ROLES


def schools_for_user(user: User) -> QuerySet[School]:
    """The schools whose data the user may see at all: their memberships and their trusts."""
    if not user.is_authenticated:
        return School.objects.none()
    schools = School.objects.filter(
        Q(memberships__user=user) | Q(trust__leads__user=user)
    ).distinct()
    if not request_memo.active():
        return schools
    # Issue 15: in a request, worked out once (one query); every query that filters by it then
    # carries the ids, not the OR-join-DISTINCT subquery for PostgreSQL to plan again.
    ids = request_memo.memoized(
        ("schools_for_user", user.pk), lambda: list(schools.values_list("pk", flat=True))
    )
    return School.objects.filter(pk__in=ids)


def schools_with_permission(user: User, perm: str) -> QuerySet[School]:
    """The user's schools where their role grants `perm` (a School permission codename)."""
    if not user.is_authenticated:
        return School.objects.none()
    # Issue 15: a page and its panels ask the same question up to four times; in a request the
    # answer is worked out once (one query) and each later queryset filters by those ids, not
    # by guardian's subquery again (1-2 ms of planning each on PostgreSQL).
    ids = _granted_ids_in_request(user, perm)
    if ids is None:
        return _granted(user, perm)
    return School.objects.filter(pk__in=ids)


def _granted(user: User, perm: str) -> QuerySet[School]:
    return get_objects_for_user(
        user, f"schools.{perm}", klass=School, use_groups=True, with_superuser=False
    )


def require_permission(user: User, perm: str, school: School) -> None:
    """403 unless the user's role at `school` grants `perm`."""
    if not user.has_perm(f"schools.{perm}", school):
        raise PermissionDenied(f"Your role does not allow this ({perm.replace('_', ' ')}).")


def _granted_ids_in_request(user: User, perm: str) -> list[int] | None:
    """The ids of the schools where `perm` is granted to `user`, worked out once a request
    (core.request_memo); None outside a request."""
    if not request_memo.active() or not user.is_authenticated:
        return None
    return request_memo.memoized(
        ("schools_with_permission", user.pk, perm),
        lambda: list(_granted(user, perm).values_list("pk", flat=True)),
    )


def schools_requiring(user: User, perm: str) -> QuerySet[School]:
    """For pages that list across the user's schools: 403 when no school grants `perm`."""
    schools = schools_with_permission(user, perm)
    ids = _granted_ids_in_request(user, perm)
    # In a request the ids are known already: no query to ask whether there are any.
    if not (schools.exists() if ids is None else ids):
        raise PermissionDenied(f"Your role does not allow this ({perm.replace('_', ' ')}).")
    return schools


def object_for_user(queryset: QuerySet, user: User, *, pk, perm: str, school_path="school"):
    """Fetch one object for `user`: 404 outside their schools, 403 without `perm` at its school."""
    try:
        obj = queryset.filter(**{f"{school_path}__in": schools_for_user(user)}).get(pk=pk)
    except queryset.model.DoesNotExist as error:
        raise Http404("Not found.") from error
    school = obj
    for part in school_path.split("__"):
        school = getattr(school, part)
    require_permission(user, perm, school)
    return obj


def pupil_list(*, user: User, search: str = "") -> QuerySet[Pupil]:
    schools = schools_requiring(user, "view_directory")
    pupils = Pupil.objects.filter(school__in=schools).select_related("household", "school")
    if search:
        for word in search.split()[:4]:
            pupils = pupils.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(upn__iexact=word)
                | Q(household__postcode__icontains=word)
            )
    return pupils


def pupil_get(*, user: User, pk) -> Pupil:
    queryset = Pupil.objects.select_related("household", "school").prefetch_related(
        "professionals",
        Prefetch("household__pupils", queryset=Pupil.objects.order_by("date_of_birth")),
        "household__carers",
        "household__contact_numbers",
        "household__risk_flags__recorded_by",
    )
    return object_for_user(queryset, user, pk=pk, perm="view_directory")


def household_get(*, user: User, pk) -> Household:
    queryset = Household.objects.select_related("school").prefetch_related(
        "pupils", "carers", "contact_numbers", "risk_flags__recorded_by"
    )
    return object_for_user(queryset, user, pk=pk, perm="view_directory")


def user_roles(user: User) -> set[str]:
    """Every role the user holds at any school, plus 'trust_lead'."""
    if not user.is_authenticated:
        return set()
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    if user.trust_roles.exists():
        roles.add("trust_lead")
    return roles


def is_authoriser(roles: set[str]) -> bool:
    return bool(roles & (set(AUTHORISING_ROLES) | {"trust_lead"}))
