"""Which schools a leader's dashboard covers (R-SEC-1): a trust lead sees every school of their
trust side by side, with small numbers suppressed; a DSL or Headteacher sees their own school.
A school outside the user's: 404; a role that reads no records (staff, office, managers): 403."""

from dataclasses import dataclass

from django.http import Http404

from schools.models import School, Trust, User
from schools.selectors import require_permission, schools_for_user, schools_requiring

READ_RECORDS = "view_records"


@dataclass
class Scope:
    schools: list[School]
    suppress: bool  # a trust-wide view: counts from 1 to 4 shown as "fewer than 5"
    title: str
    trust: Trust | None = None


def dashboard_scope(*, user: User, school_pk: str | None = None) -> Scope:
    trust = Trust.objects.filter(leads__user=user).order_by("name").first()
    if school_pk:
        try:
            school = schools_for_user(user).get(pk=int(school_pk))
        except (ValueError, School.DoesNotExist) as error:
            raise Http404("Not found.") from error
        require_permission(user, READ_RECORDS, school)
        return Scope(schools=[school], suppress=False, title=school.name, trust=school.trust)
    if trust is not None:
        schools = list(School.objects.filter(trust=trust).order_by("name"))
        return Scope(schools=schools, suppress=True, title=trust.name, trust=trust)
    schools = list(schools_requiring(user, READ_RECORDS).order_by("name"))
    title = schools[0].name if len(schools) == 1 else "Your schools"
    return Scope(schools=schools, suppress=False, title=title)
