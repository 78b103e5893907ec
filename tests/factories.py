import datetime

import factory
from factory.django import DjangoModelFactory

from schools import services
from schools.models import Carer, ContactNumber, Household, Pupil, School, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda o: o.username.capitalize())
    last_name = "Example"
    email = factory.LazyAttribute(lambda o: f"{o.username}@school.example")
    password = factory.django.Password("correct-horse-battery")


def school_create(name: str, urn: str, trust=None, **policy) -> School:
    return services.school_create(actor=None, name=name, urn=urn, trust=trust, **policy)


def person(username: str, school: School, role: str, **profile) -> User:
    user = UserFactory(username=username)
    services.membership_add(actor=None, user=user, school=school, role=role)
    services.staff_profile_save(
        actor=None,
        user=user,
        job_title=profile.pop("job_title", role.title()),
        work_mobile=profile.pop("work_mobile", "+447700900101"),
        next_of_kin_name=f"Next of kin of {username}",
        next_of_kin_phone="+447700900199",
        **profile,
    )
    return user


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    address_line_1 = factory.Sequence(lambda n: f"{n + 1} Acacia Avenue")
    town = "Leeds"
    postcode = "LS6 1AA"


class CarerFactory(DjangoModelFactory):
    class Meta:
        model = Carer

    household = factory.SubFactory(HouseholdFactory)
    name = "Sarah Jones"
    relationship = "Mother"


class ContactNumberFactory(DjangoModelFactory):
    class Meta:
        model = ContactNumber

    household = factory.SubFactory(HouseholdFactory)
    number = factory.Sequence(lambda n: f"+447700900{300 + n % 600:03d}")
    label = "Mother's mobile"


class PupilFactory(DjangoModelFactory):
    class Meta:
        model = Pupil

    school = factory.LazyAttribute(lambda o: o.household.school)
    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Sequence(lambda n: f"Pupil{n}")
    last_name = "Jones"
    date_of_birth = datetime.date(2017, 3, 14)
    year_group = "4"


def visit_draft(
    requester: User,
    pupil: Pupil,
    visitors: list[User],
    *,
    start: datetime.datetime | None = None,
    minutes: int = 60,
    **data,
):
    """A draft visit requested by `requester`, through the service, starting tomorrow at 10:00
    (school time) unless told otherwise."""
    from django.utils import timezone

    from visits import services
    from visits.models import Visitor

    if start is None:
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(10, 0)))
    fields = {
        "reason": "attendance",
        "purpose": "Check on welfare after ten days' absence.",
        "planned_start": start,
        "planned_end": start + datetime.timedelta(minutes=minutes),
        "planned_return": start + datetime.timedelta(minutes=minutes + 30),
        **data,
    }
    roles = [Visitor.RoleOnVisit.LEAD] + [Visitor.RoleOnVisit.SECOND] * (len(visitors) - 1)
    return services.visit_draft_save(
        actor=requester,
        school=pupil.school,
        data=fields,
        pupils=[pupil],
        visitors=list(zip(visitors, roles, strict=True)),
    )


def assessment_for(visit, assessor: User, *, risk: str = "low"):
    """A risk assessment on the visit (R-RA-1), as the risk assessment service records it."""
    from django.utils import timezone

    from riskassess.models import RiskAssessment

    return RiskAssessment.objects.create(
        visit=visit,
        kind="doorstep" if visit.kind == "doorstep" else "standard",
        assessor=assessor,
        confirmed_at=timezone.now(),
        overall_risk=risk,
    )


def visit_returned(requester: User, pupil: Pupil, visitors: list[User], authoriser: User, **data):
    """A visit authorised by `authoriser`, signed out and returned now: its record is due."""
    from django.utils import timezone

    from visits import services

    visit = visit_draft(requester, pupil, visitors, **data)
    assessment_for(visit, requester)
    services.visit_submit(actor=requester, visit=visit, warnings_confirmed=True)
    services.visit_authorise(actor=authoriser, visit=visit)
    services.visit_mark_out(actor=None, visit=visit, at=timezone.now())
    return services.visit_mark_returned(actor=None, visit=visit, at=timezone.now())
